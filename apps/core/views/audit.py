"""`/audit-logs/` (admin, read-only, cursor-paged, filterable)."""

from drf_spectacular.utils import extend_schema

from apps.core.filters import AuditLogFilter
from apps.core.pagination import AppCursorPagination
from apps.core.permissions import AllowAdminOnly
from apps.core.selectors import audit_log_list
from apps.core.serializers.core import AuditLogSerializer
from apps.core.views.generic import AppModelListAPIViewSet, AppModelRetrieveAPIViewSet


@extend_schema(tags=["audit"])
class AuditLogViewSet(AppModelListAPIViewSet, AppModelRetrieveAPIViewSet):
    """Who changed what and when; filter by model, object id, actor, action, date range."""

    permission_classes = (AllowAdminOnly,)
    queryset = audit_log_list()
    serializer_class = AuditLogSerializer
    filterset_class = AuditLogFilter
    pagination_class = AppCursorPagination
    ordering_fields = ()
    search_fields = ()
