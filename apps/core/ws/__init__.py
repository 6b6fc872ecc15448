"""WebSockets on the core layer: JWT authentication, the base consumer, notifications."""
