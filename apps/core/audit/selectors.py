"""Audit-log selectors."""

from django.db import models

from apps.core.models.audit import AuditLog


def audit_log_list() -> models.QuerySet[AuditLog]:
    """Audit rows, newest first, with their actor."""
    return AuditLog.objects.select_related("actor").order_by("-created_at", "-id")
