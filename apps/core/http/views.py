"""Base view classes every feature app builds on. Views answer only through these helpers.

- `AppAPIView`: a plain endpoint (envelope helpers, actor context for the audit log).
- `AppModelListAPIViewSet`: list with pagination, django-filter, search and ordering.
- `AppModelRetrieveAPIViewSet`: one object.
- `AppModelCUDAPIViewSet`: create (one or an array), update, partial update, bulk update
  (PATCH of an array), soft destroy.
- `AppModelViewSet`: all of the above.
Model viewsets are RBAC-checked against their `feature` and scoped by `owner_field`.
"""

from rest_framework.views import APIView
from rest_framework.viewsets import GenericViewSet

from apps.core.http.mixins import (
    ActorContextMixin,
    AppViewMixin,
    BulkSerializerMixin,
    CachedResponseMixin,
    ConditionalGetMixin,
    EnvelopeCreateModelMixin,
    EnvelopeListModelMixin,
    EnvelopeRetrieveModelMixin,
    EnvelopeUpdateModelMixin,
    FeatureScopeMixin,
    IdempotencyMixin,
    SerializerByActionMixin,
    SoftDestroyModelMixin,
)


class AppAPIView(IdempotencyMixin, ActorContextMixin, AppViewMixin, APIView):
    """A plain endpoint on the core layer: envelope helpers plus DRF's APIView.

    Subclasses declare `permission_classes`, `throttle_classes` and the serializers they use.
    """


class AppGenericViewSet(
    IdempotencyMixin,
    ActorContextMixin,
    FeatureScopeMixin,
    SerializerByActionMixin,
    CachedResponseMixin,
    ConditionalGetMixin,
    AppViewMixin,
    GenericViewSet,
):
    """Base of the model viewsets: envelope, audit context, RBAC scope, serializers by action."""


class AppModelListAPIViewSet(EnvelopeListModelMixin, AppGenericViewSet):
    """`GET /collection/`: declare `queryset` (from a selector), serializers, filterset_class."""


class AppModelRetrieveAPIViewSet(EnvelopeRetrieveModelMixin, AppGenericViewSet):
    """`GET /collection/{id}/`."""


class AppModelCUDAPIViewSet(
    BulkSerializerMixin,
    EnvelopeCreateModelMixin,
    EnvelopeUpdateModelMixin,
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
