"""`manage.py sync_features`: create the Feature rows the views declare (also run by migrate)."""

from typing import Any

from django.core.management.base import BaseCommand

from apps.core.rbac.services import features_sync


class Command(BaseCommand):
    """Sync features from the URLconf; retire those no view declares any more."""

    help = "Create missing features from the views' `feature` attributes; retire stale ones."

    def handle(self, *args: Any, **options: Any) -> None:
        """Sync and report."""
        result = features_sync()
        self.stdout.write(
            f"Features created: {', '.join(result['created']) or 'none'}; "
            f"retired: {', '.join(result['retired']) or 'none'}."
        )
