"""Base view classes every feature app builds on: lists of mixins, nothing else.

- `AppAPIView`: a plain endpoint (answers through `send_response`, actor context for the
  audit log, `idempotent_methods`, writes rolled back behind a 5xx).
- `AppModelListAPIViewSet`: list with pagination, django-filter, search and ordering.
- `AppModelRetrieveAPIViewSet`: one object.
- `AppModelCUDAPIViewSet`: create (one or an array), update, partial update, bulk update
  (PATCH of an array), soft destroy.
- `AppModelViewSet`: all of the above.
Model viewsets are RBAC-checked against their `feature` and scoped by `owner_field`. Every
answer is wrapped in the envelope when it is rendered (apps.core.http.renderers).
"""

from rest_framework.views import APIView
from rest_framework.viewsets import GenericViewSet

from apps.core.http.mixins import (
    ActorContextMixin,
    AppUpdateModelMixin,
    AppViewMixin,
    AtomicWritesMixin,
    BulkCreateModelMixin,
    BulkUpdateModelMixin,
    CachedListModelMixin,
    CachedRetrieveModelMixin,
    ConditionalGetMixin,
    FeatureScopeMixin,
    IdempotencyMixin,
    SerializerByActionMixin,
    SoftDestroyModelMixin,
)


class AppAPIView(AtomicWritesMixin, IdempotencyMixin, ActorContextMixin, AppViewMixin, APIView):
    """A plain endpoint on the core layer.

    Subclasses declare `permission_classes`, `throttle_classes` and the serializers they use.
    """


class AppGenericViewSet(
    AtomicWritesMixin,
    IdempotencyMixin,
    ActorContextMixin,
    FeatureScopeMixin,
    ConditionalGetMixin,
    AppViewMixin,
    GenericViewSet,
):
    """Base of the model viewsets: audit context, RBAC scope, ETags, idempotency."""


class AppModelListAPIViewSet(SerializerByActionMixin, CachedListModelMixin, AppGenericViewSet):
    """`GET /collection/`: declare `queryset` (from a selector), serializers, filterset_class."""


class AppModelRetrieveAPIViewSet(
    SerializerByActionMixin, CachedRetrieveModelMixin, AppGenericViewSet
):
    """`GET /collection/{id}/`."""


class AppModelCUDAPIViewSet(
    SerializerByActionMixin,
    BulkCreateModelMixin,
    AppUpdateModelMixin,
    BulkUpdateModelMixin,
    SoftDestroyModelMixin,
    AppGenericViewSet,
):
    """`POST` (one or an array), `PUT`/`PATCH` one, `PATCH` an array, `DELETE` (soft)."""


class AppModelViewSet(AppModelListAPIViewSet, AppModelRetrieveAPIViewSet, AppModelCUDAPIViewSet):
    """List, retrieve, create, update, bulk and soft delete in one class."""


__all__ = [
    "AppAPIView",
    "AppGenericViewSet",
    "AppModelCUDAPIViewSet",
    "AppModelListAPIViewSet",
    "AppModelRetrieveAPIViewSet",
    "AppModelViewSet",
    "AppViewMixin",
]
