"""Single-purpose view mixins, composed into the App* classes of `generic.py`.

Each does one job, like DRF's own mixins: an action method calls a one-line hook
(`perform_create`, `perform_update`, `perform_destroy`) that feature views override to call
their service.
"""

import hashlib
import json
import uuid
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, models, transaction
from django.utils.http import parse_etags
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.viewsets import GenericViewSet

from apps.core.http.envelope import build_envelope
from apps.core.http.permissions import HasFeaturePermission, queryset_for_flag, required_flag
from apps.core.idempotency.flow import HEADER as IDEMPOTENCY_HEADER
from apps.core.idempotency.flow import (
    REPLAY_HEADER,
    IdempotentRequest,
    Replay,
    StoredResponse,
    idempotency_begin,
    idempotency_end,
    idempotency_store,
)
from apps.core.models.idempotency import IdempotencyRecord
from apps.core.platform.cache import queryset_namespaces, versioned_key
from apps.core.platform.context import ActorContext, client_ip, set_actor_context
from apps.core.platform.tracing import get_trace_id
from apps.core.records.services import object_soft_delete

NOT_A_LIST_MESSAGE = "Expected a list of items."
MISSING_SERIALIZER_MESSAGE = (
    "{view} has no serializer for action '{action}'; declare serializer_classes = "
    "{{'{action}': SomeSerializer}} or serializer_class."
)


class AppViewMixin:
    """The only way a view answers: `send_response` and `send_error_response`.

    Both wrap the payload in the envelope and set the HTTP status to the envelope's status.
    """

    def send_response(
        self,
        data: Any = None,
        *,
        status: int = status.HTTP_200_OK,
        message: str | None = None,
        pagination: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        """A success envelope with `data` (and `meta.pagination` for lists)."""
        body = build_envelope(status=status, data=data, message=message, pagination=pagination)
        return Response(body, status=status, headers=headers)

    def send_error_response(
        self,
        errors: list[dict[str, Any]],
        *,
        status: int = status.HTTP_400_BAD_REQUEST,
        message: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        """An error envelope; prefer raising a DRF exception, which the handler envelopes."""
        body = build_envelope(status=status, errors=errors, message=message)
        return Response(body, status=status, headers=headers)


if TYPE_CHECKING:  # what the model mixins expect of the class they are mixed into

    class _APIViewBase(APIView):
        """What ActorContextMixin and IdempotencyMixin are mixed into."""

    class _ModelViewBase(AppViewMixin, GenericViewSet):
        paginator: Any

        def get_output_serializer(
            self, instance: Any, **kwargs: Any
        ) -> serializers.BaseSerializer[Any]: ...

        def owner_kwargs(self) -> dict[str, Any]: ...

        def cached(self, compute: Callable[[], Response]) -> Response: ...

        def perform_create(self, serializer: Any) -> Any: ...

        def perform_update(self, serializer: Any) -> Any: ...

        def perform_destroy(self, instance: Any) -> None: ...

else:
    _APIViewBase = object
    _ModelViewBase = object


class IdempotencyMixin(_APIViewBase):
    """`idempotent_methods = ("POST",)`: those methods need an Idempotency-Key and run once.

    See apps.core.idempotency.flow for the flow. The request runs in one transaction with the
    storing of its response; retries get the stored answer with `Idempotent-Replayed: true`.
    """

    idempotent_methods: ClassVar[tuple[str, ...]] = ()
    idempotent_request: IdempotentRequest | None = None

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        """After authentication and permissions: take the key's lock or replay."""
        super().initial(request, *args, **kwargs)
        if request.method in self.idempotent_methods:
            self.idempotent_request = idempotency_begin(
                user=request.user,
                key=request.headers.get(IDEMPOTENCY_HEADER),
                method=request.method,
                path=request.path,
                data=request.data,
            )

    def handle_exception(self, exc: Exception) -> Response:
        """A Replay answers with the stored response."""
        if isinstance(exc, Replay):
            return self._replay(exc.stored)
        return super().handle_exception(exc)

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        """Run an idempotent request and store its answer in the same transaction."""
        if request.method not in self.idempotent_methods:
            return super().dispatch(request, *args, **kwargs)
        self.idempotent_request = None
        try:
            with transaction.atomic():
                response = super().dispatch(request, *args, **kwargs)
                idem, code = self.idempotent_request, response.status_code
                if idem is not None and code < status.HTTP_400_BAD_REQUEST:
                    idempotency_store(idem, status_code=code, body=response.data)
                elif code >= status.HTTP_400_BAD_REQUEST:
                    transaction.set_rollback(True)  # no half-done writes behind an error
            if idem is not None and status.is_client_error(code):
                with transaction.atomic():
                    idempotency_store(idem, status_code=code, body=response.data)
        except IntegrityError:  # another request with this key stored first: answer with it
            response = self.finalize_response(self.request, self._replay(self._stored()))
        finally:
            if self.idempotent_request is not None:
                idempotency_end(self.idempotent_request)
        return response

    def _stored(self) -> StoredResponse:
        """The response stored for this request's key."""
        idem = self.idempotent_request
        record = IdempotencyRecord.objects.get(user=idem.user, key=idem.key)  # type: ignore[union-attr]
        return StoredResponse(record.response_status, record.response_body)

    def _replay(self, stored: StoredResponse) -> Response:
        """The stored status and body (its trace id set to this request's)."""
        body = stored.body
        if isinstance(body, dict) and isinstance(body.get("meta"), dict):
            body = {**body, "meta": {**body["meta"], "trace_id": get_trace_id()}}
        return Response(body, status=stored.status, headers={REPLAY_HEADER: "true"})


class ActorContextMixin(_APIViewBase):
    """Binds the authenticated user, IP and user agent for the audit log of this request."""

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        """After authentication, record who is acting."""
        super().initial(request, *args, **kwargs)
        set_actor_context(
            ActorContext(
                user=request.user,
                ip=client_ip(request),
                user_agent=request.META.get("HTTP_USER_AGENT", ""),
            )
        )

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        """Clear the actor once the response is built."""
        set_actor_context(None)
        return super().finalize_response(request, response, *args, **kwargs)


class SerializerByActionMixin(_ModelViewBase):
    """`serializer_classes = {"list": ..., "retrieve": ..., "create": ...}` by declaration.

    `write` serves create/update/partial_update/bulk_update unless they are named one by one;
    `retrieve` serves list and the other reads; `serializer_class` is the fallback.
    """

    serializer_classes: ClassVar[dict[str, type[serializers.BaseSerializer[Any]]]] = {}
    WRITE_ACTIONS: ClassVar[tuple[str, ...]] = ("create", "update", "partial_update", "bulk_update")

    def get_serializer_class_for(self, action: str) -> type[serializers.BaseSerializer[Any]]:
        """The serializer class declared for `action`."""
        classes = self.serializer_classes
        if action in classes:
            return classes[action]
        if action in self.WRITE_ACTIONS and "write" in classes:
            return classes["write"]
        if action not in self.WRITE_ACTIONS and "retrieve" in classes:
            return classes["retrieve"]
        fallback = getattr(self, "serializer_class", None)
        if fallback is None:
            raise ImproperlyConfigured(
                MISSING_SERIALIZER_MESSAGE.format(view=type(self).__name__, action=action)
            )
        return fallback

    def get_serializer_class(self) -> type[serializers.BaseSerializer[Any]]:
        """The serializer of the current action."""
        return self.get_serializer_class_for(getattr(self, "action", None) or "retrieve")

    def get_output_serializer(
        self, instance: Any, **kwargs: Any
    ) -> serializers.BaseSerializer[Any]:
        """The detail serializer for what a write stored, re-read through the view's queryset.

        Reading back through `get_queryset()` applies its select/prefetch_related, so the
        answer to a bulk write costs the same few queries for 10 objects as for 500.
        """
        many = isinstance(instance, list)
        items = instance if many else [instance]
        stored = {obj.pk: obj for obj in self.get_queryset().filter(pk__in=[o.pk for o in items])}
        reloaded = [stored.get(obj.pk, obj) for obj in items]
        serializer_class = self.get_serializer_class_for("retrieve")
        context = self.get_serializer_context()
        return serializer_class(reloaded if many else reloaded[0], many=many, context=context)


class FeatureScopeMixin(_ModelViewBase):
    """RBAC on a model view: `feature`, `public_actions`, `owner_field`, `action_flags`.

    Restricts the queryset to what the caller may reach for this action: scope `own`
    filters by `owner_field`, so another user's object is a 404, never a 403 and never data.
    """

    permission_classes: Sequence[Any] = (HasFeaturePermission,)
    feature: ClassVar[str | None] = None
    public_actions: ClassVar[tuple[str, ...]] = ()
    owner_field: ClassVar[str | None] = None
    action_flags: ClassVar[dict[str, str]] = {}

    def get_queryset(self) -> models.QuerySet[Any]:
        """The base queryset, narrowed to the caller's scope."""
        return self.scope_queryset(self.get_base_queryset())

    def get_base_queryset(self) -> models.QuerySet[Any]:
        """The declared `queryset`; override to pick a selector per action (never to scope)."""
        queryset: models.QuerySet[Any] = super().get_queryset()
        return queryset

    def scope_queryset(self, queryset: models.QuerySet[Any]) -> models.QuerySet[Any]:
        """Filter by owner when the caller's scope for this action is `own`."""
        user = self.request.user
        public = getattr(self, "action", None) in self.public_actions
        if public or not user.is_authenticated or self.feature is None:
            return queryset
        return queryset_for_flag(
            queryset,
            user=user,
            feature=self.feature,
            flag=required_flag(self),
            owner_field=self.owner_field,
            who=type(self).__name__,
        )

    def owner_kwargs(self) -> dict[str, Any]:
        """`{owner_field: user}` for creates, when the owner is a direct field of the model."""
        if self.owner_field and "__" not in self.owner_field:
            return {self.owner_field: self.request.user}
        return {}


class CachedResponseMixin(_ModelViewBase):
    """`cache_responses = True` caches list and retrieve answers (200s) in Redis.

    The key holds the path, the sorted query string, the audience and the version of each
    namespace in `cache_namespaces` (default: the view's model and every model its queryset
    selects or prefetches). Writes through the core layer bump the version, so an answer is
    never served stale after a write; nothing scans keys. The audience is the user unless
    the action is public or the view declares `cache_shared = True` (the answer depends on
    the request alone, never on who asks).
    """

    cache_responses: ClassVar[bool] = False
    cache_shared: ClassVar[bool] = False
    cache_timeout: ClassVar[int] = 300
    cache_namespaces: ClassVar[tuple[str, ...]] = ()

    def cached(self, compute: Callable[[], Response]) -> Response:
        """The cached answer, or `compute()` stored when it is a 200."""
        if not self.cache_responses or self.request.method != "GET":
            return compute()
        key = self.response_cache_key()
        hit = cache.get(key)
        if isinstance(hit, dict):
            meta = {**hit.get("meta", {}), "trace_id": get_trace_id()}
            return Response({**hit, "meta": meta}, headers={"X-Cache": "hit"})
        response = compute()
        timeout = self.get_cache_timeout()
        if response.status_code == status.HTTP_200_OK and timeout > 0:
            cache.set(key, response.data, timeout=timeout)
            response["X-Cache"] = "miss"
        return response

    def get_cache_timeout(self) -> int:
        """Seconds an answer may be cached (override when the answer moves with the clock)."""
        return self.cache_timeout

    def response_cache_key(self) -> str:
        """What changes the answer: path, query, audience, namespace versions."""
        request = self.request
        namespaces = self.cache_namespaces or queryset_namespaces(self.get_queryset())
        query = "&".join(sorted(request.META.get("QUERY_STRING", "").split("&")))
        return versioned_key("resp", namespaces, request.path, query, self.cache_audience())

    def cache_audience(self) -> str:
        """`public` for public actions and anonymous callers, `shared` when the view says
        so, else the user: one user's answer is never served to another."""
        user = self.request.user
        if self.action in getattr(self, "public_actions", ()) or not user.is_authenticated:
            return "public"
        return "shared" if self.cache_shared else f"user:{user.pk}"


class ConditionalGetMixin(_ModelViewBase):
    """`etag = True`: GET answers carry an ETag of their data; a matching If-None-Match gets
    304 with no body (the client keeps its copy, the server skips sending it)."""

    etag: ClassVar[bool] = False

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        """Tag 200 answers to GET; turn a match into 304."""
        response = super().finalize_response(request, response, *args, **kwargs)
        ok = response.status_code == status.HTTP_200_OK
        if not (self.etag and request.method in ("GET", "HEAD") and ok):
            return response
        data = response.data if isinstance(response.data, dict) else {}
        meta = data.get("meta") or {}
        stable = {**data, "meta": {"pagination": meta.get("pagination")}}  # not the trace id
        digest = hashlib.sha256(
            json.dumps(stable, sort_keys=True, cls=DjangoJSONEncoder).encode()
        ).hexdigest()
        tag = f'"{digest[:32]}"'
        response["ETag"] = tag
        if tag in parse_etags(request.headers.get("If-None-Match", "")):
            not_modified = Response(status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": tag})
            return super().finalize_response(request, not_modified, *args, **kwargs)
        return response


class EnvelopeListModelMixin(_ModelViewBase):
    """`list`: filtered, paginated, items in `data`, page info in `meta.pagination`."""

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """One page of the filtered queryset (from the response cache when enabled)."""
        return self.cached(self._list)

    def _list(self) -> Response:
        """One page of the filtered queryset."""
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        if page is None:
            data = self.get_serializer(queryset, many=True).data
            return self.send_response(data)
        data = self.get_serializer(page, many=True).data
        meta = self.paginator.get_pagination_meta()
        return self.send_response(data, pagination=meta)


class EnvelopeRetrieveModelMixin(_ModelViewBase):
    """`retrieve`: one object in `data` (404 when out of scope or deleted)."""

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The object (from the response cache when enabled)."""
        return self.cached(self._retrieve)

    def _retrieve(self) -> Response:
        """The object."""
        instance = self.get_object()
        return self.send_response(self.get_serializer(instance).data)


class BulkSerializerMixin(_ModelViewBase):
    """A JSON array becomes a `many=True` serializer (bulk create / bulk update)."""

    def get_serializer(self, *args: Any, **kwargs: Any) -> serializers.BaseSerializer[Any]:
        """`many=True` when a create or bulk update sends a list (elsewhere a list is a 400)."""
        if isinstance(kwargs.get("data"), list) and self.action in ("create", "bulk_update"):
            kwargs["many"] = True
        return super().get_serializer(*args, **kwargs)


class EnvelopeCreateModelMixin(_ModelViewBase):
    """`create`: one object or, for an array, all of them or none; answers 201."""

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Validate, create through `perform_create`, answer with the detail serializer."""
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with transaction.atomic():  # overrides of perform_create stay all-or-nothing
            created = self.perform_create(serializer)
        output = self.get_output_serializer(created)
        return self.send_response(output.data, status=status.HTTP_201_CREATED)

    def perform_create(self, serializer: serializers.BaseSerializer[Any]) -> Any:
        """Save (audited by the write serializer); the owner is set for scope `own`."""
        return serializer.save(**self.owner_kwargs())


class EnvelopeUpdateModelMixin(_ModelViewBase):
    """`update`/`partial_update` of one object, `bulk_update` (PATCH of an array)."""

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Validate and save through `perform_update`; answer with the stored object."""
        partial = kwargs.pop("partial", False)
        instance = self.get_object()
        serializer = self.get_serializer(instance, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        with transaction.atomic():
            updated = self.perform_update(serializer)
        return self.send_response(self.get_output_serializer(updated).data)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """PATCH of one object."""
        kwargs["partial"] = True
        return self.update(request, *args, **kwargs)

    def bulk_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """PATCH of `[{id, version, ...}, ...]` on the collection: all rows or none."""
        if not isinstance(request.data, list):
            raise ValidationError({"non_field_errors": [NOT_A_LIST_MESSAGE]}, code="not_a_list")
        ids = [item.get("id") for item in request.data if isinstance(item, dict)]
        valid_ids = [str(i) for i in ids if _is_uuid(i)]
        instances = self.get_queryset().filter(pk__in=valid_ids)
        serializer: Any = self.get_serializer(
            list(instances), data=request.data, many=True, partial=True
        )
        serializer.bind_instances(instances)
        serializer.is_valid(raise_exception=True)
        with transaction.atomic():
            updated = self.perform_update(serializer)
        output = self.get_output_serializer(list(updated))
        return self.send_response(output.data)

    def perform_update(self, serializer: serializers.BaseSerializer[Any]) -> Any:
        """Save (audited and version-checked by the write serializer)."""
        return serializer.save()


class SoftDestroyModelMixin(_ModelViewBase):
    """`destroy`: soft delete with `deleted_by`, audited; answers 200 with `data: null`."""

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Soft-delete the object through `perform_destroy`."""
        instance = self.get_object()
        self.perform_destroy(instance)
        return self.send_response(None, message="Deleted.")

    def perform_destroy(self, instance: Any) -> None:
        """Soft delete + audit row, in one transaction."""
        object_soft_delete(instance=instance, actor=self.request.user)


def _is_uuid(value: Any) -> bool:
    """True when `value` parses as a UUID."""
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


__all__ = [
    "ActorContextMixin",
    "BulkSerializerMixin",
    "EnvelopeCreateModelMixin",
    "EnvelopeListModelMixin",
    "EnvelopeRetrieveModelMixin",
    "EnvelopeUpdateModelMixin",
    "FeatureScopeMixin",
    "SerializerByActionMixin",
    "SoftDestroyModelMixin",
]
