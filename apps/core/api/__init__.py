"""The core layer's own endpoints: RBAC, audit log, trash, uploads, health; their serializers,
filters and URLs. Views only: they call the concern packages' services and selectors.
"""
