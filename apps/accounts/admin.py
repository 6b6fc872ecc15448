"""Django admin for users."""

from django.contrib import admin
from django.contrib.auth import forms as auth_forms
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from apps.accounts.models import User
from apps.core.admin import DeletedFilter, SoftDeleteAdmin


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
