"""Role-based access: effective permissions (cached), scope of a queryset, RBAC services
and selectors, feature sync. May import models, records and platform; never http or api.
"""
