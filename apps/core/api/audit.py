"""`/audit-logs/` (admin, read-only, cursor-paged, filterable)."""

from drf_spectacular.utils import extend_schema

from apps.core.api.filters import AuditLogFilter
from apps.core.api.serializers import AuditLogSerializer
from apps.core.audit.selectors import audit_log_list
from apps.core.http.pagination import AppCursorPagination
from apps.core.http.permissions import AllowAdminOnly
from apps.core.http.views import AppModelListAPIViewSet, AppModelRetrieveAPIViewSet


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
