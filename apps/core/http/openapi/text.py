"""Summaries and descriptions written for the frontend developer reading Swagger.

The standard actions of a model viewset get theirs from the model's names; other operations
declare theirs with `extend_schema(summary=..., description=...)` (a test checks that every
operation has both). Every description then gets the facts a client needs, read from the view:
who may call, versioning, idempotency, bulk writes, ETags and pagination.
"""

from typing import Any

from django.conf import settings
from rest_framework.pagination import CursorPagination, PageNumberPagination
from rest_framework.permissions import AllowAny

from apps.core.http.openapi.errors import UPDATE_ACTIONS, _idempotent, _versioned
from apps.core.http.permissions import is_public_action

SUMMARIES = {
    "list": "List {plural}",
    "retrieve": "Get a {name}",
    "create": "Create a {name}",
    "update": "Replace a {name}",
    "partial_update": "Update a {name}",
    "bulk_update": "Update many {plural}",
    "destroy": "Delete a {name}",
}
INTROS = {
    "list": "A page of {plural}.",
    "retrieve": "One {name}, by its id.",
    "create": "Creates a {name} and answers with it as reads show it (201).",
    "update": "Replaces the {name}'s writable fields and answers with it.",
    "partial_update": "Changes only the fields sent and answers with the {name}.",
    "bulk_update": (
        "Send a JSON array of objects, each with the `id` of the {name} to change and the "
        "fields to change: every item is updated or none is (a 400 lists the errors by "
        "index, `attr` like `3.price`). Answers with the updated {plural}, in the order sent."
    ),
    "destroy": (
        "Moves the {name} to the trash (`data` is null); an admin can restore it from "
        "`/api/v1/trash/`."
    ),
}


def model_names(view: Any) -> dict[str, str] | None:
    """`{"name": "product", "plural": "products"}` for a model viewset, else None."""
    queryset = getattr(view, "queryset", None)
    model = getattr(queryset, "model", None)
    if model is None:
        return None
    meta = model._meta
    return {"name": str(meta.verbose_name), "plural": str(meta.verbose_name_plural)}


def standard_summary(view: Any) -> str | None:
    """The summary of a standard model action, or None."""
    names = model_names(view)
    template = SUMMARIES.get(getattr(view, "action", None) or "")
    if names is None or template is None:
        return None
    summary = template.format(**names)
    if getattr(view, "action", None) == "create" and _bulk_create(view):
        summary += ", or many at once"
    return summary


def standard_intro(view: Any) -> str:
    """The opening sentence of a standard model action's description ("" for others)."""
    names = model_names(view)
    template = INTROS.get(getattr(view, "action", None) or "")
    if names is None or template is None:
        return ""
    intro = template.format(**names)
    if getattr(view, "action", None) == "create" and _bulk_create(view):
        intro += (
            f" Send a JSON array (at most {settings.BULK_MAX_ITEMS} items) to create many: "
            "every item is created or none is (a 400 lists the errors by index, `attr` like "
            "`3.price`); the answer is then the array of created objects, in the order sent."
        )
    return intro


def facts(view: Any, method: str) -> list[str]:
    """What a client must know to call the operation, one sentence each."""
    lines = [_access(view)]
    action = getattr(view, "action", None)
    if action in UPDATE_ACTIONS and _versioned(view):
        lines.append(
            "Optimistic locking: send the `version` you read; a stale one answers 409 "
            "`version_conflict` and nothing is changed (read the object again and retry)."
        )
    if _idempotent(view, method):
        lines.append(
            "Send an `Idempotency-Key` header (any unique string, e.g. a UUID): a retry with "
            "the same key and body within 24 h replays the first answer "
            "(`Idempotent-Replayed: true`); the same key with another body is a 422."
        )
    if method == "GET" and getattr(view, "etag", False):
        lines.append(
            "Answers carry an `ETag`; send it back in `If-None-Match` to get a 304 without a "
            "body when nothing changed."
        )
    paginator = getattr(view, "paginator", None) if action == "list" else None
    if isinstance(paginator, CursorPagination):
        lines.append(
            "Cursor pages: follow `meta.pagination.next`/`previous` as they are; a page does "
            "not shift when rows are added."
        )
    elif isinstance(paginator, PageNumberPagination):
        lines.append(
            "Pages: `?page=` (a page past the end is empty) and `?page_size=` (at most "
            f"{paginator.max_page_size}); `meta.pagination` holds the count and the links."
        )
    return lines


def _access(view: Any) -> str:
    """Who may call the operation: the view's `access_description`, else the first
    permission class's, else what its permissions are."""
    declared = getattr(view, "access_description", None)
    if declared:
        return f"Access: {declared}."
    permissions = view.get_permissions()
    if is_public_action(view) or all(isinstance(p, AllowAny) for p in permissions):
        return "Access: public, no token needed (a token, when sent, must be valid)."
    described = [p.access_description for p in permissions if hasattr(p, "access_description")]
    if described:
        return f"Access: {described[0]}."
    feature = getattr(view, "feature", None)
    if feature:
        return (
            f"Access: a token whose user's roles grant this action on `{feature}` "
            "(some roles see only their own rows: others are a 404)."
        )
    return "Access: any signed-in user (Bearer token)."


def _bulk_create(view: Any) -> bool:
    """Whether POST on the view also takes an array."""
    from apps.core.http.mixins import BulkCreateModelMixin

    return isinstance(view, BulkCreateModelMixin)
