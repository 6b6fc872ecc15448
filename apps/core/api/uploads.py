"""Upload endpoints: the per-field view factory, and the pre-signed flow for large files."""

from typing import Any, ClassVar

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import default_storage
from django.db import models
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.exceptions import FileTooLarge
from apps.core.http.mixins import FeatureScopeMixin
from apps.core.http.openapi import ErrorEnvelopeSerializer
from apps.core.http.permissions import HasFeaturePermission, queryset_for_flag
from apps.core.http.serializers import AppSerializer
from apps.core.http.views import AppAPIView
from apps.core.records.services import object_file_attach
from apps.core.uploads.files import (
    EMPTY_FILE_MESSAGE,
    FILE_TOO_LARGE_MESSAGE,
    IMAGE_TYPES,
    UPLOAD_TARGETS,
    MaxBytesUploadHandler,
    UploadTarget,
    check_content,
    is_s3_storage,
    read_head,
    storage_key,
    upload_target_register,
    upload_token_make,
    upload_token_read,
)

TAGS = ["uploads"]
MB = 1024 * 1024
MIN_FILE_NAME_LENGTH = 255
FILE_REQUIRED_MESSAGE = "Send the file as multipart form data in the `file` field."


def _too_large(max_bytes: int) -> FileTooLarge:
    """413 naming the limit."""
    return FileTooLarge(FILE_TOO_LARGE_MESSAGE.format(max_mb=round(max_bytes / MB, 1)))


def _file_url(instance: Any, field_name: str) -> str | None:
    """The stored file's URL (signed on S3)."""
    field_file = getattr(instance, field_name)
    return field_file.url if field_file else None


def _reachable(target: UploadTarget, user: Any, object_id: Any) -> models.Model:
    """The target object when the user may update it (404 when out of scope, 403 without)."""
    queryset = queryset_for_flag(
        target.model._default_manager.all(),
        user=user,
        feature=target.feature,
        flag="update",
        owner_field=target.owner_field,
        who=target.label,
    )
    try:
        return get_object_or_404(queryset, pk=object_id)
    except (ValueError, TypeError, serializers.ValidationError) as exc:
        raise NotFound from exc


class FileUploadSerializer(AppSerializer):
    """A multipart body with one file."""

    file = serializers.FileField()


def get_upload_api_view(
    model: type[models.Model],
    field_name: str,
    *,
    max_size_mb: float = 3,
    allowed_types: tuple[str, ...] = IMAGE_TYPES,
    feature: str | None = None,
    owner_field: str | None = None,
    presign_max_size_mb: float = 100,
) -> type[AppAPIView]:
    """A complete view for `POST <object>/<field>/` (multipart `file`) on `model.field_name`.

    Auth, the model feature's `update` permission (scope `own` by `owner_field`), the envelope,
    the audit row and the OpenAPI schema come with it. The type is sniffed from the content;
    a file over `max_size_mb` gets 413 without being read whole. The field is also registered
    for the pre-signed flow (up to `presign_max_size_mb`).
    """
    field = model._meta.get_field(field_name)
    if getattr(field, "max_length", 0) < MIN_FILE_NAME_LENGTH:
        raise ImproperlyConfigured(
            f"{model.__name__}.{field_name} needs max_length={MIN_FILE_NAME_LENGTH} (or more) "
            "to hold upload keys; the FileField default of 100 is too short."
        )
    target = upload_target_register(
        UploadTarget(
            model=model,
            field_name=field_name,
            feature=feature or f"{model._meta.app_label}.{model._meta.model_name}",
            owner_field=owner_field,
            max_bytes=int(max_size_mb * MB),
            presign_max_bytes=int(presign_max_size_mb * MB),
            allowed_types=tuple(allowed_types),
        )
    )

    class UploadAPIView(FeatureScopeMixin, AppAPIView):
        permission_classes = (HasFeaturePermission,)
        parser_classes = (MultiPartParser,)
        action = "upload"
        action_flags: ClassVar[dict[str, str]] = {"upload": "update"}
        upload_target = target

        @extend_schema(
            tags=[model._meta.app_label],
            request={"multipart/form-data": FileUploadSerializer},
            responses={
                200: inline_serializer(
                    f"{model.__name__}{field_name.title()}Upload",
                    {
                        "id": serializers.UUIDField(),
                        field_name: serializers.URLField(),
                    },
                ),
                413: ErrorEnvelopeSerializer,
                415: ErrorEnvelopeSerializer,
            },
        )
        def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
            """Store the file on the object and answer with its URL."""
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
            if declared > target.max_bytes + 64 * 1024:  # the body is the file plus a little
                raise _too_large(target.max_bytes)
            limiter = MaxBytesUploadHandler(target.max_bytes, request._request)
            request._request.upload_handlers.insert(0, limiter)
            instance = get_object_or_404(
                self.scope_queryset(model._default_manager.all()), pk=kwargs["pk"]
            )
            upload = request.FILES.get("file")
            if limiter.exceeded:
                raise _too_large(target.max_bytes)
            if upload is None:
                raise ValidationError({"file": [FILE_REQUIRED_MESSAGE]}, code="required")
            if upload.size == 0:
                raise ValidationError({"file": [EMPTY_FILE_MESSAGE]}, code="empty")
            check_content(upload.read(512), allowed=target.allowed_types)
            upload.seek(0)
            object_file_attach(instance=instance, field_name=field_name, file=upload)
            return self.send_response(
                {"id": str(instance.pk), field_name: _file_url(instance, field_name)}
            )

    UploadAPIView.feature = target.feature
    UploadAPIView.owner_field = owner_field
    UploadAPIView.__name__ = UploadAPIView.__qualname__ = (
        f"{model.__name__}{field_name.title()}UploadAPIView"
    )
    UploadAPIView.__doc__ = (
        f"Upload `{field_name}` of a {model._meta.verbose_name} (multipart `file`)."
    )
    return UploadAPIView


class PresignRequestSerializer(AppSerializer):
    """What the client wants to upload, and where it will go."""

    target = serializers.CharField(help_text="app_label.model.field, e.g. catalog.product.image")
    object_id = serializers.UUIDField()
    filename = serializers.CharField(max_length=200)
    content_type = serializers.CharField(max_length=100)
    size = serializers.IntegerField(min_value=1)


class CompleteRequestSerializer(AppSerializer):
    """The token `presign` returned, after the file was posted."""

    upload_token = serializers.CharField(max_length=2000)


class PresignAPIView(AppAPIView):
    """`POST /uploads/presign/`: where and how to upload a large file directly."""

    permission_classes = (IsAuthenticated,)

    @extend_schema(
        tags=TAGS,
        request=PresignRequestSerializer,
        responses=inline_serializer(
            "Presign",
            {
                "url": serializers.URLField(),
                "fields": serializers.DictField(child=serializers.CharField()),
                "upload_token": serializers.CharField(),
                "expires_in": serializers.IntegerField(),
            },
        ),
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """A pre-signed POST (S3) or a signed local URL, limited by size range and type."""
        serializer = PresignRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        target = UPLOAD_TARGETS.get(data["target"])
        if target is None:
            raise ValidationError({"target": ["Unknown upload target."]}, code="invalid")
        if data["size"] > target.presign_max_bytes:
            raise _too_large(target.presign_max_bytes)
        if data["content_type"] not in target.allowed_types:
            check_content(b"", allowed=())  # 415 with the standard message
        instance = _reachable(target, request.user, data["object_id"])
        key = storage_key(target, instance.pk, data["filename"])
        token = upload_token_make(
            {
                "key": key,
                "target": target.label,
                "object_id": str(instance.pk),
                "user": str(request.user.pk),
                "content_type": data["content_type"],
            }
        )
        expires = settings.UPLOAD_URL_SECONDS
        if is_s3_storage():
            client = default_storage.connection.meta.client  # type: ignore[attr-defined]
            post = client.generate_presigned_post(
                Bucket=default_storage.bucket_name,  # type: ignore[attr-defined]
                Key=key,
                Fields={"Content-Type": data["content_type"]},
                Conditions=[
                    ["content-length-range", 1, target.presign_max_bytes],
                    {"Content-Type": data["content_type"]},
                ],
                ExpiresIn=expires,
            )
            url, fields = post["url"], post["fields"]
        else:
            url = request.build_absolute_uri(
                reverse("upload-local", kwargs={"version": request.version, "token": token})
            )
            fields = {}
        return self.send_response(
            {"url": url, "fields": fields, "upload_token": token, "expires_in": expires}
        )


class LocalUploadAPIView(AppAPIView):
    """`POST /uploads/local/<token>/` (embedded default): the local stand-in for S3's pre-signed
    POST. The signed, expiring token is the authorisation, as S3's signature is."""

    authentication_classes = ()
    permission_classes = (AllowAny,)
    parser_classes = (MultiPartParser,)

    @extend_schema(
        tags=TAGS, request={"multipart/form-data": FileUploadSerializer}, responses={200: None}
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Store the file at the token's key (size-limited while reading)."""
        payload = upload_token_read(kwargs["token"])
        target = UPLOAD_TARGETS[payload["target"]]
        limiter = MaxBytesUploadHandler(target.presign_max_bytes, request._request)
        request._request.upload_handlers.insert(0, limiter)
        upload = request.FILES.get("file")
        if limiter.exceeded:
            raise _too_large(target.presign_max_bytes)
        if upload is None:
            raise ValidationError({"file": [FILE_REQUIRED_MESSAGE]}, code="required")
        if default_storage.exists(payload["key"]):
            raise ValidationError({"upload_token": ["This upload token was already used."]})
        default_storage.save(payload["key"], upload)
        return self.send_response(None, message="Stored.")


class CompleteAPIView(AppAPIView):
    """`POST /uploads/complete/`: check the stored object and attach it to its target."""

    permission_classes = (IsAuthenticated,)

    @extend_schema(tags=TAGS, request=CompleteRequestSerializer, responses={200: None})
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Size and sniffed type are checked on the stored bytes; a bad object is deleted."""
        serializer = CompleteRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        payload = upload_token_read(serializer.validated_data["upload_token"])
        if payload["user"] != str(request.user.pk):
            raise PermissionDenied
        target = UPLOAD_TARGETS[payload["target"]]
        instance = _reachable(target, request.user, payload["object_id"])
        key = payload["key"]
        if not default_storage.exists(key):
            raise ValidationError({"upload_token": ["Nothing was uploaded for this token."]})
        size = default_storage.size(key)
        try:
            if size > target.presign_max_bytes:
                raise _too_large(target.presign_max_bytes)
            check_content(read_head(key), allowed=target.allowed_types)
        except Exception:
            default_storage.delete(key)
            raise
        object_file_attach(instance=instance, field_name=target.field_name, key=key)
        return self.send_response(
            {"id": str(instance.pk), target.field_name: _file_url(instance, target.field_name)},
            status=status.HTTP_200_OK,
        )
