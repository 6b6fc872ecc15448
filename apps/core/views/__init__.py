"""Views of the core layer: the generic base classes, health probes and error handlers."""
