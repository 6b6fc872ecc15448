"""View mixins of the core layer, one concern per module, composed in apps.core.http.views.

Each needs only DRF's APIView or GenericAPIView plus the hooks its docstring names, like DRF's
own mixins; retrieve is DRF's RetrieveModelMixin, list DRF's ListModelMixin read through the
serializer's projection plan (ProjectedListModelMixin).
"""

from apps.core.http.mixins.actor import ActorContextMixin
from apps.core.http.mixins.atomic import AtomicWritesMixin
from apps.core.http.mixins.bulk import BulkCreateModelMixin, BulkUpdateModelMixin
from apps.core.http.mixins.caching import (
    CachedListModelMixin,
    CachedResponseMixin,
    CachedRetrieveModelMixin,
)
from apps.core.http.mixins.conditional import ConditionalGetMixin
from apps.core.http.mixins.create import AppCreateModelMixin
from apps.core.http.mixins.destroy import SoftDestroyModelMixin
from apps.core.http.mixins.idempotency import IdempotencyMixin
from apps.core.http.mixins.listing import ProjectedListModelMixin
from apps.core.http.mixins.response import AppViewMixin
from apps.core.http.mixins.scope import FeatureScopeMixin
from apps.core.http.mixins.serializers import ResponseSerializerMixin, SerializerByActionMixin
from apps.core.http.mixins.update import AppUpdateModelMixin

__all__ = [
    "ActorContextMixin",
    "AppCreateModelMixin",
    "AppUpdateModelMixin",
    "AppViewMixin",
    "AtomicWritesMixin",
    "BulkCreateModelMixin",
    "BulkUpdateModelMixin",
    "CachedListModelMixin",
    "CachedResponseMixin",
    "CachedRetrieveModelMixin",
    "ConditionalGetMixin",
    "FeatureScopeMixin",
    "IdempotencyMixin",
    "ProjectedListModelMixin",
    "ResponseSerializerMixin",
    "SerializerByActionMixin",
    "SoftDestroyModelMixin",
]
