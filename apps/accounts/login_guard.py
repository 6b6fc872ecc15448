"""Brute-force protection of every password login (the admin's and the API's) with
django-axes: failures are counted per account and per client address in the database, so
every server process sees the same count, and past the limit both logins refuse the account
(or address) until the cool-off ends. Axes keeps each failure (`AccessFailureLog`) and each
lockout in the database; the admin lists them.

These are the callables the `AXES_*` settings name.
"""

from typing import Any

from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.base_user import BaseUserManager
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from apps.core.http.envelope import build_envelope, error_item
from apps.core.http.middleware import wants_envelope
from apps.core.platform.context import client_ip

LOCKED_CODE = "throttled"
LOCKED_MESSAGE = (
    "Too many failed logins for this account or address; try again in {minutes} minutes."
)
LOCKED_STATUS = 429


def login_username(request: HttpRequest, credentials: dict[str, Any] | None) -> str | None:
    """The account a login is for: the API's `email`, the admin form's `username`,
    normalized like stored emails (so `Admin@Example.com` counts against the same account)."""
    raw = None
    if credentials:
        raw = credentials.get("email") or credentials.get("username")
    if raw is None and request is not None:
        raw = request.POST.get("username")
    return BaseUserManager.normalize_email(str(raw)).lower() if raw else None


def login_success_reset(
    sender: Any,  # noqa: ARG001 - the signal passes it
    request: HttpRequest,
    user: Any,
    **kwargs: Any,
) -> None:
    """On a successful login, forget the failures against this account only. (Axes' own reset
    deletes every failure from the address: anyone could clear an attack on the admin's
    account by logging into their own from the same address.)"""
    AccessAttempt.objects.filter(username=login_username(request, {"email": user.email})).delete()


def login_client_ip(request: HttpRequest) -> str | None:
    """The client address as the throttles see it (proxy hops per TRUSTED_PROXY_COUNT)."""
    return client_ip(request)


def lockout_response(
    request: HttpRequest,
    credentials: dict[str, Any] | None,  # noqa: ARG001 - axes passes it; the answer is the same
) -> HttpResponse:
    """429: the envelope under /api/, the admin's own page elsewhere."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    detail = LOCKED_MESSAGE.format(minutes=minutes)
    if wants_envelope(request.path):
        body = build_envelope(status=LOCKED_STATUS, errors=[error_item(LOCKED_CODE, detail)])
        response: HttpResponse = JsonResponse(body, status=LOCKED_STATUS)
    else:
        response = render(
            request, "accounts/login_locked.html", {"detail": detail}, status=LOCKED_STATUS
        )
    response["Retry-After"] = str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    return response
