"""Django admin for users, token revocations and login lockouts.

Every write is audited; a password set here revokes the user's tokens. The admins that
simplejwt and axes register are replaced by audited ones: a blacklisted refresh token (a
revocation) and a login lockout (deleting it unlocks) are privileges, so who changed them and
when is recorded like any other write. Django's Groups are not used (API permissions are
roles, admin access is a user's staff flags and permissions), so their admin is removed and
users have no groups field.
"""

from typing import Any

from axes.admin import AccessAttemptAdmin as AxesAccessAttemptAdmin
from axes.admin import AccessFailureLogAdmin as AxesAccessFailureLogAdmin
from axes.admin import AccessLogAdmin as AxesAccessLogAdmin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth import forms as auth_forms
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.http import HttpRequest, HttpResponse
from rest_framework_simplejwt.token_blacklist.admin import (
    BlacklistedTokenAdmin as JwtBlacklistedTokenAdmin,
)
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken

from apps.accounts.models import User
from apps.accounts.services import user_password_set
from apps.core.admin import AuditedModelAdmin, DeletedFilter, ReadOnlyModelAdmin, SoftDeleteAdmin
from apps.core.platform.context import acting_as

# Groups stay unregistered (unused); the others are registered again below, audited.
for _model in (Group, BlacklistedToken, AccessAttempt, AccessLog, AccessFailureLog):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)


def permission_labels(permissions: Any) -> list[str]:
    """`app_label.codename` of each permission in a queryset, sorted: how the audit log
    records a set of admin permissions."""
    return sorted(
        f"{app}.{codename}"
        for app, codename in permissions.values_list("content_type__app_label", "codename")
    )


class AdminPasswordChangeForm(auth_forms.AdminPasswordChangeForm):
    """Django's set-password form, saved through the accounts service: audited (redacted)
    and every access and refresh token of the user revoked."""

    def save(self, commit: bool = True) -> Any:
        """Set the password (or none, when the admin turns password login off)."""
        usable = self.cleaned_data.get("set_usable_password", True)
        password = self.cleaned_data["password1"] if usable else None
        user_password_set(user=self.user, new_password=password)
        return self.user


class UserCreationForm(auth_forms.BaseUserCreationForm):
    """Admin form to add a user by email, name and password."""

    class Meta:
        model = User
        fields = ("email", "name")


class UserChangeForm(auth_forms.UserChangeForm):
    """Admin form to edit a user (the password is changed through its own form)."""

    class Meta:
        model = User
        fields = ("email", "name", "phone", "is_active", "is_staff", "is_superuser")


@admin.register(User)
class UserAdmin(SoftDeleteAdmin, DjangoUserAdmin):
    """Users by email; the phone is shown decrypted to staff and stored encrypted."""

    form = UserChangeForm
    add_form = UserCreationForm
    change_password_form = AdminPasswordChangeForm
    ordering = ("email",)
    list_display = ("email", "name", "is_active", "is_staff", "date_joined", "last_login")
    list_filter = (DeletedFilter, "is_active", "is_staff", "is_superuser")
    search_fields = ("email", "name")
    readonly_fields = ("date_joined", "last_login", "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("name", "phone")}),
        (
            "Permissions",
            {"fields": ("is_active", "is_staff", "is_superuser", "user_permissions")},
        ),
        ("Dates", {"fields": ("date_joined", "last_login", "created_at", "updated_at")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("email", "name", "password1", "password2")}),
    )

    def related_for_audit(self, obj: Any) -> dict[str, Any]:
        """A user's admin permissions (what a staff user may do in the admin): audited before
        and after when the form changes them."""
        if obj.pk is None:
            return {"user_permissions": []}
        return {"user_permissions": permission_labels(obj.user_permissions)}

    def user_change_password(
        self,
        request: HttpRequest,
        id: str,  # noqa: A002 - the name Django passes it by
        form_url: str = "",
    ) -> HttpResponse:
        """Django's password page, with the admin as the audit row's actor."""
        with acting_as(request):
            return super().user_change_password(request, id, form_url)


@admin.register(BlacklistedToken)
class BlacklistedTokenAdmin(AuditedModelAdmin, JwtBlacklistedTokenAdmin):
    """Revoked refresh tokens: adding one revokes it, deleting one brings it back; both are
    audited. A revocation is never edited (delete it and add another)."""

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Shown (view permission), never edited."""
        return False


@admin.register(AccessAttempt)
class AccessAttemptAdmin(AuditedModelAdmin, AxesAccessAttemptAdmin):
    """Failed login attempts that count towards a lockout: deleting one unlocks the account
    or address (audited); they are never edited."""

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Shown (view permission), never edited."""
        return False


@admin.register(AccessLog)
class AccessLogAdmin(ReadOnlyModelAdmin, AxesAccessLogAdmin):
    """Successful logins: the security trail, read-only."""


@admin.register(AccessFailureLog)
class AccessFailureLogAdmin(ReadOnlyModelAdmin, AxesAccessFailureLogAdmin):
    """Every failed login, kept after a lockout is lifted: the security trail, read-only."""
