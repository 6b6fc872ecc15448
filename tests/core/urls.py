"""The project's URLs plus probe views that only tests need (errors of every kind)."""

from typing import Any

from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import path
from rest_framework import serializers
from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.api.uploads import get_upload_api_view
from apps.core.http.routers import AppRouter
from apps.core.http.serializers import AppSerializer
from apps.core.http.views import AppAPIView
from config.urls import urlpatterns as project_urlpatterns
from tests.testapp.models import Note
from tests.testapp.views import IdempotentNoteViewSet, NoteViewSet, TagViewSet


class ItemSerializer(AppSerializer):
    """A nested item, to prove dotted `attr` paths."""

    quantity = serializers.IntegerField(min_value=1)


class OrderProbeSerializer(AppSerializer):
    """A payload with a nested list."""

    note = serializers.CharField(max_length=10)
    items = ItemSerializer(many=True)


class ProbeAPIView(AppAPIView):
    """Echoes a valid payload, or fails in the way the test asks for."""

    permission_classes = (AllowAny,)
    throttle_classes = ()

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Raise an unexpected error (must become an enveloped 500 without internals)."""
        raise RuntimeError("secret internal detail: db password is hunter2")

    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Validate a nested payload and echo it."""
        serializer = OrderProbeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return self.send_response(serializer.validated_data, status=201)


class DenyAll(BasePermission):
    """Refuses everyone, authenticated or not."""

    def has_permission(self, request: Request, view: Any) -> bool:
        return False


class ForbiddenAPIView(AppAPIView):
    """Always 403 for an authenticated caller."""

    permission_classes = (DenyAll,)

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.send_response({"never": "reached"})


def plain_django_403(request: HttpRequest) -> HttpResponse:
    """A non-DRF view raising PermissionDenied (Django's own 403 handler answers)."""
    raise PermissionDenied


def plain_django_400(request: HttpRequest) -> HttpResponse:
    """A non-DRF view raising SuspiciousOperation (Django's own 400 handler answers)."""
    raise SuspiciousOperation("tampered")


def plain_django_404(request: HttpRequest) -> HttpResponse:
    """A non-DRF view raising Http404 (Django's own 404 handler answers)."""
    raise Http404("plain django")


def plain_django_500(request: HttpRequest) -> HttpResponse:
    """A non-DRF view crashing (Django's own 500 handler answers)."""
    raise RuntimeError("plain django crash with secret")


test_router = AppRouter()
test_router.register("api/v1/_test/notes", NoteViewSet, basename="test-note")
test_router.register("api/v1/_test/tags", TagViewSet, basename="test-tag")
test_router.register(
    "api/v1/_test/idempotent-notes", IdempotentNoteViewSet, basename="test-idempotent-note"
)

NoteAttachmentUploadAPIView = get_upload_api_view(
    Note,
    "attachment",
    max_size_mb=0.05,
    feature="testapp.notes",
    owner_field="owner",
    presign_max_size_mb=0.2,
)

# Named like the project's routes, without a `version` kwarg: reverse("test-probe").
urlpatterns = [
    path(
        "api/v1/_test/notes/<uuid:pk>/attachment/",
        NoteAttachmentUploadAPIView.as_view(),
        name="test-note-attachment",
    ),
    *test_router.urls,
    path("api/v1/_probe/", ProbeAPIView.as_view(), name="test-probe"),
    path("api/v1/_forbidden/", ForbiddenAPIView.as_view(), name="test-forbidden"),
    path("api/v1/_django400/", plain_django_400, name="test-django-400"),
    path("api/v1/_django403/", plain_django_403, name="test-django-403"),
    path("api/v1/_django404/", plain_django_404, name="test-django-404"),
    path("api/v1/_django500/", plain_django_500, name="test-django-500"),
    *project_urlpatterns,
]
