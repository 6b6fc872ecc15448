"""Admin of the core models, and the soft-delete aware base every app's admin uses."""

from typing import Any, ClassVar, cast

from django import forms
from django.contrib import admin, messages
from django.core.files.uploadedfile import UploadedFile
from django.db import models
from django.db.models.fields.related_descriptors import ForwardManyToOneDescriptor
from django.http import HttpRequest, HttpResponse

from apps.core.exceptions import (
    VERSION_CONFLICT_MESSAGE,
    Conflict,
    FileTypeNotAllowed,
    VersionConflict,
)
from apps.core.models.audit import AuditAction, AuditLog
from apps.core.models.base import VersionedModel
from apps.core.models.rbac import Feature, Role, RolePermission, UserRole
from apps.core.platform.context import acting_as
from apps.core.rbac.services import own_scope_errors
from apps.core.records.changes import Change, model_changed_send, snapshot
from apps.core.records.services import (
    object_purge,
    object_restore,
    object_save,
    object_soft_delete,
    object_update,
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


# What the trash adds to a changelist, and the bulk delete's name where deletes are soft.
TRASH_COLUMNS = ("deleted_at", "deleted_by")
TRASH_ACTION_DESCRIPTION = "Move selected %(verbose_name_plural)s to the trash"


def in_trash_view(request: HttpRequest) -> bool:
    """Whether a changelist request shows deleted rows (DeletedFilter's `deleted` or `all`)."""
    return request.GET.get(DeletedFilter.parameter_name) in {"deleted", "all"}


# The hidden field of a versioned row's change form: the version the page was loaded with.
LOADED_VERSION_FIELD = "loaded_version"
VERSIONED_CHANGE_FORM_TEMPLATE = "admin/core/versioned_change_form.html"
STALE_FORM_MESSAGE = (
    f"{VERSION_CONFLICT_MESSAGE} Nothing was saved: your changes are still in the form below. "
    "Copy what you need, then reload the page to edit the current version."
)
MISSING_VERSION_MESSAGE = "The form was sent without the version it was loaded with; reload it."


class VersionedChangeFormMixin(forms.BaseForm):
    """The change form of a VersionedModel row: carries the version it was loaded with in a
    hidden field (`loaded_version`); `stale = True` (set on the class by the admin after the
    save's conditional UPDATE found another version) makes it invalid with the conflict
    message, so the page comes back with the user's input kept."""

    stale: ClassVar[bool] = False
    instance: Any

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Add the hidden version field, loaded with the stored row's version."""
        super().__init__(*args, **kwargs)
        self.fields[LOADED_VERSION_FIELD] = forms.IntegerField(
            widget=forms.HiddenInput, required=False, min_value=1, initial=self.instance.version
        )

    def clean(self) -> dict[str, Any]:
        """Refuse a form without its version, and a form the save found stale."""
        cleaned: dict[str, Any] = super().clean() or {}
        if cleaned.get(LOADED_VERSION_FIELD) is None:  # missing or not a number
            raise forms.ValidationError(MISSING_VERSION_MESSAGE, code="required")
        if self.stale:
            raise forms.ValidationError(STALE_FORM_MESSAGE, code="version_conflict")
        return cleaned


def versioned_form_columns(obj: models.Model, form: forms.ModelForm) -> dict[str, Any]:
    """The column values an admin form changed on `obj`, as `object_update` takes them (a new
    upload is stored first, as a save would store it, and stays unreferenced if the update is
    refused; many-to-many fields are left to the form's `save_m2m`)."""
    data: dict[str, Any] = {}
    for field in obj._meta.concrete_fields:
        if field.name not in form.changed_data:
            continue
        if isinstance(field, models.FileField):
            data[field.name] = field.pre_save(obj, add=False)  # stores an uncommitted upload
        else:
            data[field.name] = getattr(obj, field.name)
    return data


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
    (tests/test_admin_audit.py enumerates them).

    A `VersionedModel` row is optimistically locked as in the API: its change form carries
    the version it was loaded with, and the save is `object_update`'s conditional UPDATE on
    that version; a stale form writes nothing and comes back with the conflict message and
    the user's input."""

    # A link typed without a scheme is https (Django 6's default, chosen now).
    formfield_overrides: ClassVar[dict[Any, dict[str, Any]]] = {
        models.URLField: {"assume_scheme": "https"}
    }

    def __init__(self, model: type[models.Model], admin_site: admin.AdminSite) -> None:
        """Versioned models: the change page renders the hidden version field."""
        super().__init__(model, admin_site)
        if self.versioned and self.change_form_template is None:
            # Per instance: the model is known only here (one admin class may serve several).
            self.change_form_template = VERSIONED_CHANGE_FORM_TEMPLATE  # type: ignore[misc]

    @property
    def versioned(self) -> bool:
        """Whether the model is optimistically locked."""
        return issubclass(self.model, VersionedModel)

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        """The admin's form; for a stored versioned row, with the version it was loaded
        with (and, on the second pass after a conflict, invalid with the message)."""
        form = super().get_form(request, obj, change=change, **kwargs)
        if not (self.versioned and obj is not None and change):
            return form
        stale = bool(getattr(request, "_admin_version_conflict", False))
        return type(form.__name__, (VersionedChangeFormMixin, form), {"stale": stale})

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        """Django's page; when the save's conditional UPDATE found another version, its
        transaction has rolled back (nothing written, nothing audited) and the page is
        rendered again from the same POST, invalid with the conflict message."""
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except VersionConflict:
            request._admin_version_conflict = True  # type: ignore[attr-defined]
            return super().changeform_view(request, object_id, form_url, extra_context)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        """Save through the core service, recorded: a change of a versioned row is one
        conditional UPDATE on the form's version (VersionConflict when it is stale)."""
        self.remember_related(request, obj, change)
        with acting_as(request):
            if change and self.versioned:
                stored = cast(Any, self.model).all_objects.get(pk=obj.pk)
                object_update(
                    instance=obj,
                    data=versioned_form_columns(obj, form),
                    version=form.cleaned_data[LOADED_VERSION_FIELD],
                    before=snapshot(stored),
                )
            else:
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
    """Admin for BaseModel models: deletes are soft (audited), a filter shows the trash (with
    who deleted each row and when), and the restore action brings rows back. The delete
    pages say so: the rows go to the trash and can be restored."""

    list_filter: ClassVar[Any] = (DeletedFilter,)
    actions = ("restore_selected",)
    delete_confirmation_template = "admin/core/soft_delete_confirmation.html"
    delete_selected_confirmation_template = "admin/core/soft_delete_selected_confirmation.html"

    def get_queryset(self, request: HttpRequest) -> models.QuerySet[Any]:
        """Every row; DeletedFilter narrows to live rows unless asked otherwise."""
        return self.model.all_objects.all()

    def get_list_display(self, request: HttpRequest) -> Any:
        """In the trash (and the `all` view), also when each row was deleted and by whom."""
        columns = tuple(super().get_list_display(request))
        if not in_trash_view(request):
            return columns
        return (*columns, *(name for name in TRASH_COLUMNS if name not in columns))

    def get_list_select_related(self, request: HttpRequest) -> Any:
        """In the trash, the deleting user is read with the rows (one query for the page)."""
        related = super().get_list_select_related(request)
        if not in_trash_view(request) or related is True:
            return related
        if not related:  # Django would follow the listed foreign keys: name them itself
            related = [
                name
                for name in self.get_list_display(request)
                if isinstance(name, str)
                and isinstance(getattr(self.model, name, None), ForwardManyToOneDescriptor)
            ]
        return tuple(dict.fromkeys([*related, "deleted_by"]))

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        """Django's bulk delete, named for what it does here: a move to the trash."""
        actions: dict[str, Any] = super().get_actions(request)
        if "delete_selected" in actions:
            function, name, _description = actions["delete_selected"]
            actions[name] = (function, name, TRASH_ACTION_DESCRIPTION)
        return actions

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
