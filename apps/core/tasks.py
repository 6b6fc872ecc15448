"""The core layer's own Celery tasks, run by beat: outbox flush and housekeeping purges
(idempotency records, revoked tokens, sent outbox messages, abandoned uploads).

Found by Celery's autodiscovery (`<app>.tasks`); the machinery they use (AppTask, the outbox,
`dispatch_on_commit`) lives in apps.core.platform.tasks.
"""

from datetime import timedelta
from typing import cast

from celery import shared_task
from django.utils import timezone

from apps.core.idempotency.flow import idempotency_purge_expired
from apps.core.models.base import SoftDeleteQuerySet
from apps.core.models.outbox import OutboxMessage
from apps.core.platform.revocation import revoked_access_tokens_purge
from apps.core.platform.tasks import (
    OUTBOX_BATCH,
    OUTBOX_MAX_ATTEMPTS,
    OUTBOX_RETRY_AFTER,
    outbox_send,
)
from apps.core.uploads.services import uploads_abandoned_purge


@shared_task(name="core.outbox_flush")
def outbox_flush() -> int:
    """Send messages left pending (the broker was down at commit); returns how many went."""
    cutoff = timezone.now() - OUTBOX_RETRY_AFTER
    pending = OutboxMessage.objects.filter(
        sent_at__isnull=True, created_at__lte=cutoff, attempts__lt=OUTBOX_MAX_ATTEMPTS
    )
    batch = pending.values_list("pk", flat=True)[:OUTBOX_BATCH]
    return sum(outbox_send(pk, pausable=False) for pk in batch)


@shared_task(name="core.idempotency_purge")
def idempotency_purge() -> int:
    """Delete expired idempotency records; safe to run twice."""
    return idempotency_purge_expired()


@shared_task(name="core.revoked_tokens_purge")
def revoked_tokens_purge() -> int:
    """Delete revocations of access tokens that have expired; safe to run twice."""
    return revoked_access_tokens_purge()


@shared_task(name="core.outbox_purge")
def outbox_purge(days: int = 7) -> int:
    """Delete messages sent more than `days` ago; safe to run twice."""
    old = OutboxMessage.all_objects.filter(sent_at__lte=timezone.now() - timedelta(days=days))
    count, _ = cast(SoftDeleteQuerySet, old).hard_delete()
    return count


@shared_task(name="core.uploads_abandoned_purge")
def uploads_abandoned_purge_task() -> int:
    """Delete files of pre-signed uploads never completed; safe to run twice."""
    return uploads_abandoned_purge()
