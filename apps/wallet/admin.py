"""Admin of the wallet: the ledger is read-only; a correction is a posted adjustment."""

from decimal import Decimal
from typing import Any, ClassVar

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db import models
from django.http import HttpRequest
from django.template.response import TemplateResponse
from rest_framework.exceptions import APIException

from apps.core.admin import ReadOnlyModelAdmin, ReadOnlyTabularInline
from apps.core.platform.context import acting_as
from apps.wallet.models import Account, Entry, LedgerTransaction, TopUp, WebhookEvent
from apps.wallet.services import ledger_adjust

ADJUSTMENT_TEMPLATE = "admin/wallet/adjustment.html"
ONE_ACCOUNT_MESSAGE = "Select exactly one account to adjust."


class AdjustmentForm(forms.Form):
    """A signed amount (credit positive, debit negative) and why."""

    amount = forms.DecimalField(max_digits=14, decimal_places=2)
    reason = forms.CharField(max_length=200, widget=forms.Textarea(attrs={"rows": 3}))

    def clean_amount(self) -> Decimal:
        """Not zero."""
        amount: Decimal = self.cleaned_data["amount"]
        if not amount:
            raise forms.ValidationError("The amount cannot be zero.")
        return amount


class EntryInline(ReadOnlyTabularInline):
    """The legs of a transaction."""

    model = Entry
    fields = ("account", "kind", "amount", "balance_after", "counterparty", "created_at")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Entries are never changed."""
        return False


@admin.register(Account)
class AccountAdmin(ReadOnlyModelAdmin):
    """Wallets and system accounts; balances move only through postings."""

    list_display = ("name", "owner", "kind", "code", "balance", "currency", "updated_at")
    list_filter = ("kind", "currency")
    search_fields = ("owner__email", "owner__name", "code")
    list_select_related = ("owner",)
    actions = ("post_adjustment",)

    def get_queryset(self, request: HttpRequest) -> models.QuerySet[Account]:
        """Every account."""
        return Account.all_objects.select_related("owner")

    @admin.action(description="Post a manual adjustment", permissions=["adjust"])
    def post_adjustment(self, request: HttpRequest, queryset: Any) -> TemplateResponse | None:
        """Ask for an amount and a reason, then post a balanced `adjustment`."""
        if queryset.count() != 1:
            self.message_user(request, ONE_ACCOUNT_MESSAGE, messages.ERROR)
            return None
        account = queryset.get()
        form = AdjustmentForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            try:
                with acting_as(request):
                    ledger_adjust(
                        account=account,
                        amount=form.cleaned_data["amount"],
                        reason=form.cleaned_data["reason"],
                    )
            except APIException as exc:  # insufficient funds: the wallet would go negative
                self.message_user(request, f"{account}: {exc.detail}", messages.ERROR)
                return None
            self.message_user(request, f"Adjustment posted on {account}.", messages.SUCCESS)
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Manual adjustment",
            "account": account,
            "form": form,
            "opts": self.model._meta,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, ADJUSTMENT_TEMPLATE, context)

    def has_adjust_permission(self, request: HttpRequest) -> bool:
        """Only superusers post corrections."""
        return bool(request.user.is_superuser)


@admin.register(LedgerTransaction)
class LedgerTransactionAdmin(ReadOnlyModelAdmin):
    """Posted transactions with their entries (append-only)."""

    list_display = ("created_at", "kind", "reference", "note", "actor", "trace_id")
    list_filter = ("kind",)
    search_fields = ("reference", "dedupe_key", "note", "trace_id")
    list_select_related = ("actor",)
    date_hierarchy = "created_at"
    inlines: ClassVar[list[Any]] = [EntryInline]


@admin.register(TopUp)
class TopUpAdmin(ReadOnlyModelAdmin):
    """Top-ups and where they are."""

    list_display = ("created_at", "user", "amount", "currency", "status", "provider", "settled_at")
    list_filter = ("status", "provider")
    search_fields = ("user__email", "provider_reference")
    list_select_related = ("user",)


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyModelAdmin):
    """Provider events as received, each applied once."""

    list_display = ("created_at", "provider", "event_id", "event_type", "reference", "outcome")
    list_filter = ("provider", "event_type", "outcome")
    search_fields = ("event_id", "reference")
