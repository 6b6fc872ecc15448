"""Filters of the wallet's transactions list: kind, and a range of local days."""

import django_filters
from django.db import models

from apps.core.http.filters import LocalDayRangeFilterSet, LocalDayRangeForm
from apps.wallet.models import Entry, EntryKind
from apps.wallet.selectors import entry_list_filtered


class EntryFilter(LocalDayRangeFilterSet):
    """`?kind=transfer_out&created_from=YYYY-MM-DD&created_to=YYYY-MM-DD&tz=Europe/Berlin`."""

    kind = django_filters.ChoiceFilter(choices=EntryKind.choices, method="keep")

    class Meta:
        model = Entry
        fields = ("kind", "created_from", "created_to", "tz")
        form = LocalDayRangeForm

    def filter_queryset(self, queryset: models.QuerySet[Entry]) -> models.QuerySet[Entry]:
        """All filters at once (the day bounds need `tz`)."""
        data = self.form.cleaned_data
        return entry_list_filtered(
            queryset,
            kind=data.get("kind") or None,
            created_from=data.get("created_from"),
            created_to=data.get("created_to"),
            tz=data.get("tz"),
        )
