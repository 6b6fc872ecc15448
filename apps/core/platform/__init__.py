"""Cross-cutting services: tracing, structured logs, cache keys, actor context, token
revocation, health checks, Celery base task and outbox, WebSocket helpers. Imports only
models and third-party code.
"""
