"""Admin of the core models, and the soft-delete aware base every app's admin uses."""

from typing import Any, ClassVar

from django import forms
from django.contrib import admin, messages
from django.core.files.uploadedfile import UploadedFile
from django.db import models
from django.http import HttpRequest

from apps.core.exceptions import Conflict, FileTypeNotAllowed
from apps.core.models.audit import AuditAction, AuditLog
from apps.core.models.rbac import Feature, Role, RolePermission, UserRole
from apps.core.platform.context import acting_as
from apps.core.rbac.services import own_scope_errors
from apps.core.records.changes import Change, model_changed_send, snapshot
from apps.core.records.services import (
    object_purge,
    object_restore,
    object_save,
    object_soft_delete,
)
from apps.core.uploads.sniffing import IMAGE_TYPES, SNIFF_BYTES, check_content


class DeletedFilter(admin.SimpleListFilter):
    """Live rows by default; `deleted` shows the trash, `all` both."""

    title = "deleted"
    parameter_name = "deleted"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        """The choices."""
        return [("deleted", "Deleted"), ("all", "All")]

    def choices(self, changelist: Any) -> Any:
        """Relabel the default choice: it means live rows."""
        for choice in super().choices(changelist):
            if choice["display"] == "All" and choice["query_string"] == changelist.get_query_string(
                remove=[self.parameter_name]
            ):
                choice["display"] = "Live"
            yield choice

    def queryset(
        self, request: HttpRequest, queryset: models.QuerySet[Any]
    ) -> models.QuerySet[Any]:
        """Filter by the chosen state."""
        if self.value() == "deleted":
            return queryset.filter(is_deleted=True)
        if self.value() == "all":
            return queryset
        return queryset.filter(is_deleted=False)


class RelatedChangesAuditMixin(admin.ModelAdmin):
    """Records what Django's admin saves after the row itself (inlines, many-to-many fields):
    `related_for_audit(obj)` says what belongs to the row (by default its `audit_related()`,
    such as a role's permissions); when it changed, one audit row records it before and
    after. Call `remember_related()` before saving the row; `save_related` does the rest."""

    def related_for_audit(self, obj: Any) -> dict[str, Any] | None:
        """The related values to record for `obj` (None: nothing to record)."""
        related = getattr(obj, "audit_related", None)
        return related() if callable(related) else None

    def remember_related(self, request: HttpRequest, obj: Any, change: bool) -> None:
        """Keep the related values as they are before this admin save (per request)."""
        before = self.related_for_audit(obj) if change else None
        request._audit_related_before = (change, before)  # type: ignore[attr-defined]

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """Save inlines and many-to-many fields, then record what changed among them."""
        super().save_related(request, form, formsets, change)
        remembered = getattr(request, "_audit_related_before", None)
        obj = form.instance
        after = self.related_for_audit(obj)
        if remembered is None or after is None:
            return
        was_change, before = remembered
        before = before if was_change and before is not None else {key: [] for key in after}
        if after == before:
            return
        base = snapshot(obj)
        with acting_as(request):
            model_changed_send(
                model=type(obj),
                action=AuditAction.UPDATE,
                changes=[Change(obj, {**base, **before}, {**base, **after})],
            )


class AuditedModelAdmin(RelatedChangesAuditMixin, admin.ModelAdmin):
    """An admin whose every write is recorded like an API write (actor, address, diff): saves
    go through `object_save`, deletes through `object_purge` (the row's last values are kept
    in the audit log). Every registered ModelAdmin that can write is one of these
    (tests/test_admin_audit.py enumerates them)."""

    # A link typed without a scheme is https (Django 6's default, chosen now).
    formfield_overrides: ClassVar[dict[Any, dict[str, Any]]] = {
        models.URLField: {"assume_scheme": "https"}
    }

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        """Save through the core service, recorded."""
        self.remember_related(request, obj, change)
        with acting_as(request):
            object_save(instance=obj)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        """Delete for good, recorded."""
        with acting_as(request):
            object_purge(instance=obj)

    def delete_queryset(self, request: HttpRequest, queryset: models.QuerySet[Any]) -> None:
        """Delete each selected row for good, recorded."""
        for obj in queryset:
            self.delete_model(request, obj)


class SoftDeleteAdmin(AuditedModelAdmin):
    """Admin for BaseModel models: deletes are soft (audited), a filter shows the trash,
    and the restore action brings rows back."""

    list_filter: ClassVar[Any] = (DeletedFilter,)
    actions = ("restore_selected",)

    def get_queryset(self, request: HttpRequest) -> models.QuerySet[Any]:
        """Every row; DeletedFilter narrows to live rows unless asked otherwise."""
        return self.model.all_objects.all()

    def get_deleted_objects(
        self, objs: Any, request: HttpRequest
    ) -> tuple[list[str], dict[str, int], set[str], list[str]]:
        """What the confirmation page lists: a soft delete takes only the selected rows
        (nothing cascades), so no permission on related models is needed. (Django's own
        list walks the cascade and refuses when a related model is read-only in the admin,
        such as a user's wallet.)"""
        rows = list(objs)
        counts = {str(self.model._meta.verbose_name_plural): len(rows)} if rows else {}
        return [str(obj) for obj in rows], counts, set(), []

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        """Soft delete, audited."""
        with acting_as(request):
            object_soft_delete(instance=obj, actor=request.user)

    @admin.action(description="Restore selected deleted rows")
    def restore_selected(self, request: HttpRequest, queryset: models.QuerySet[Any]) -> None:
        """Restore each deleted row; report rows whose unique slot is taken."""
        restored = 0
        with acting_as(request):
            for obj in queryset.filter(is_deleted=True):
                try:
                    object_restore(instance=obj)
                    restored += 1
                except Conflict as exc:
                    self.message_user(request, f"{obj}: {exc.detail}", messages.ERROR)
        self.message_user(request, f"Restored {restored} row(s).", messages.SUCCESS)


class SniffedImageForm(forms.ModelForm):
    """An admin form whose `image` upload must be an image by its content (sniffed, as the
    API's uploads are), whatever its name says."""

    def clean_image(self) -> Any:
        """The uploaded file when its bytes are an allowed image; the stored one unchanged."""
        image = self.cleaned_data.get("image")
        if isinstance(image, UploadedFile):  # a new upload, not the file already stored
            try:
                check_content(image.read(SNIFF_BYTES), allowed=IMAGE_TYPES)
            except FileTypeNotAllowed as exc:
                raise forms.ValidationError(str(exc.detail), code="invalid") from exc
            finally:
                image.seek(0)
        return image


class RolePermissionForm(forms.ModelForm):
    """One permission on its role's page: scope `own` only where the feature's views can
    narrow rows to an owner."""

    class Meta:
        model = RolePermission
        fields = ("feature", "can_create", "can_retrieve", "can_update", "can_delete", "scope")

    def clean(self) -> dict[str, Any]:
        """Refuse scope `own` on a feature without owners, naming it."""
        cleaned: dict[str, Any] = super().clean() or {}
        feature = cleaned.get("feature")
        if feature is not None:
            problem = own_scope_errors([{"feature": feature, "scope": cleaned.get("scope")}])
            if problem:
                self.add_error("scope", problem["0"]["scope"][0])
        return cleaned


class RolePermissionInline(admin.TabularInline):
    """Permissions edited on their role."""

    model = RolePermission
    form = RolePermissionForm
    extra = 0
    fields = ("feature", "can_create", "can_retrieve", "can_update", "can_delete", "scope")


@admin.register(Feature)
class FeatureAdmin(SoftDeleteAdmin):
    """Features: created from the views' `feature` by sync_features (after every migrate),
    never by hand (a hand-made one would be retired by the next sync); names may be edited."""

    list_display = ("code", "name", "is_deleted")
    search_fields = ("code", "name")
    readonly_fields = ("code",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        """No: features come from code."""
        return False


@admin.register(Role)
class RoleAdmin(SoftDeleteAdmin):
    """Roles with their permissions inline; a change of the permissions is audited as the
    role's permission set before and after (RelatedChangesAuditMixin)."""

    list_display = ("code", "name", "is_deleted")
    search_fields = ("code", "name")
    inlines = (RolePermissionInline,)


@admin.register(UserRole)
class UserRoleAdmin(SoftDeleteAdmin):
    """Who holds which role."""

    list_display = ("user", "role", "created_at", "is_deleted")
    list_select_related = ("user", "role")
    search_fields = ("user__email", "role__code")
    autocomplete_fields = ("user", "role")


class ReadOnlyTabularInline(admin.TabularInline):
    """Rows shown under their parent and never added, edited or deleted there: set `fields`
    (they are all read-only)."""

    extra = 0
    can_delete = False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        """Every shown field."""
        return self.fields or ()

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """No rows added here."""
        return False


class ReadOnlyModelAdmin(admin.ModelAdmin):
    """An admin that shows rows and never adds, edits or deletes them (append-only tables)."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """No manual rows."""
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """No edits."""
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """No deletes."""
        return False


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyModelAdmin):
    """Read-only: the audit log is append-only."""

    list_display = ("created_at", "action", "model", "object_repr", "actor_repr", "trace_id")
    list_filter = ("action", "model")
    search_fields = ("object_id", "object_repr", "actor_repr", "trace_id")
    date_hierarchy = "created_at"
