"""Django admin for users: every write audited; a password set here revokes the user's tokens."""

from typing import Any

from django.contrib import admin
from django.contrib.auth import forms as auth_forms
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.http import HttpRequest, HttpResponse

from apps.accounts.models import User
from apps.accounts.services import user_password_set
from apps.core.admin import DeletedFilter, SoftDeleteAdmin
from apps.core.platform.context import acting_as


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
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Dates", {"fields": ("date_joined", "last_login", "created_at", "updated_at")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("email", "name", "password1", "password2")}),
    )

    def related_for_audit(self, obj: Any) -> dict[str, Any]:
        """A user's admin groups and permissions (what a staff user may do in the admin):
        audited before and after when the form changes them."""
        groups = sorted(obj.groups.values_list("name", flat=True)) if obj.pk else []
        permissions = (
            sorted(
                f"{app}.{codename}"
                for app, codename in obj.user_permissions.values_list(
                    "content_type__app_label", "codename"
                )
            )
            if obj.pk
            else []
        )
        return {"groups": groups, "user_permissions": permissions}

    def user_change_password(
        self,
        request: HttpRequest,
        id: str,  # noqa: A002 - the name Django passes it by
        form_url: str = "",
    ) -> HttpResponse:
        """Django's password page, with the admin as the audit row's actor."""
        with acting_as(request):
            return super().user_change_password(request, id, form_url)
