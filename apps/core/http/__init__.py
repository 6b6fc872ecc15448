"""The HTTP layer every view stands on: envelope and renderer, exception handler, DB-error
mapping, pagination, parsers, router, OpenAPI hooks, throttles, authentication, middleware,
view mixins and base views, base serializers. May import the concern packages, never `api`.
"""
