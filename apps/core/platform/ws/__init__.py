"""WebSockets on Channels: JWT middleware, origin check, the base consumer, notifications."""
