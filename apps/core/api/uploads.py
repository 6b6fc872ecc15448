"""Upload endpoints: the per-field view factory, and the pre-signed flow for large files.

The views only speak HTTP (size-limited multipart parsing, serializers, the envelope); the
rules live in apps.core.uploads.services.
"""

from collections.abc import Callable
from dataclasses import asdict
from typing import Any, ClassVar

from django.db import models
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import APIException, NotFound
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.http.mixins import FeatureScopeMixin
from apps.core.http.openapi import ErrorEnvelopeSerializer
from apps.core.http.permissions import HasFeaturePermission
from apps.core.http.serializers import AppSerializer
from apps.core.http.views import AppAPIView
from apps.core.uploads.limits import MaxBytesUploadHandler, file_too_large
from apps.core.uploads.services import (
    AttachedFile,
    upload_attach,
    upload_complete,
    upload_local_max_bytes,
    upload_local_store,
    upload_presign,
)
from apps.core.uploads.sniffing import IMAGE_TYPES
from apps.core.uploads.targets import upload_target_register

TAGS = ["uploads"]
MULTIPART_OVERHEAD_BYTES = 64 * 1024  # a multipart body is the file plus a little
FILE_REQUIRED_MESSAGE = "Send the file as multipart form data in the `file` field."
EMPTY_FILE_MESSAGE = "The file is empty."
STORED_MESSAGE = "Stored."


class FileUploadSerializer(AppSerializer):
    """A multipart body with one file."""

    file = serializers.FileField(
        error_messages={"required": FILE_REQUIRED_MESSAGE, "empty": EMPTY_FILE_MESSAGE}
    )


class StoredFileSerializer(FileUploadSerializer):
    """The file of a local pre-signed upload: an empty one is refused at complete, by type."""

    file = serializers.FileField(
        allow_empty_file=True, error_messages={"required": FILE_REQUIRED_MESSAGE}
    )


def _read_file(
    request: Request, max_bytes: int, serializer_class: type[FileUploadSerializer]
) -> Any:
    """The multipart `file`, read no further than `max_bytes` (413 past it), validated."""
    limiter = MaxBytesUploadHandler(max_bytes, request._request)
    request._request.upload_handlers.insert(0, limiter)
    files = request.FILES
    if limiter.exceeded:
        raise file_too_large(max_bytes)
    serializer = serializer_class(data=files)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data["file"]


def _attached_body(attached: AttachedFile, request: Request) -> dict[str, Any]:
    """`{id, <field>: url}` of the object that now holds the file (an absolute URL, as reads
    show it; a storage's own absolute URL is kept as it is)."""
    url = request.build_absolute_uri(attached.url)
    return {"id": str(attached.instance.pk), attached.target.field_name: url}


def get_upload_api_view(
    model: type[models.Model],
    field_name: str,
    *,
    max_size_mb: float = 3,
    allowed_types: tuple[str, ...] = IMAGE_TYPES,
    feature: str | None = None,
    owner_field: str | None = None,
    presign_max_size_mb: float = 100,
    reachable: Callable[[Any], models.QuerySet[Any]] | None = None,
) -> type[AppAPIView]:
    """A complete view for `POST <object>/<field>/` (multipart `file`) on `model.field_name`.

    Auth, the model feature's `update` permission (scope `own` by `owner_field`), the envelope,
    the audit row and the OpenAPI schema come with it. The type is sniffed from the content;
    a file over `max_size_mb` gets 413 without being read whole. The field is also registered
    for the pre-signed flow (up to `presign_max_size_mb`). `reachable(user)` narrows the rows
    a user may attach to before RBAC does (default: every row of the model).
    """
    target = upload_target_register(
        model=model,
        field_name=field_name,
        max_size_mb=max_size_mb,
        allowed_types=allowed_types,
        feature=feature,
        owner_field=owner_field,
        presign_max_size_mb=presign_max_size_mb,
        reachable=reachable,
    )

    class UploadAPIView(FeatureScopeMixin, AppAPIView):
        permission_classes = (HasFeaturePermission,)
        parser_classes = (MultiPartParser,)
        action = "upload"
        action_flags: ClassVar[dict[str, str]] = {"upload": "update"}
        upload_target = target

        @extend_schema(
            summary=f"Upload the {model._meta.verbose_name}'s {field_name}",
            description=(
                f"Send the file as multipart form data in `file` (at most {max_size_mb:g} MB; "
                f"{', '.join(allowed_types)}, recognised from the content, not the name). "
                f"Answers the {model._meta.verbose_name}'s id and the file's absolute URL. "
                "Larger files go through `/api/v1/uploads/presign/`."
            ),
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
            if declared > target.max_bytes + MULTIPART_OVERHEAD_BYTES:
                raise file_too_large(target.max_bytes)
            instance = get_object_or_404(
                self.scope_queryset(target.base_queryset(request.user)), pk=kwargs["pk"]
            )
            file = _read_file(request, target.max_bytes, FileUploadSerializer)
            attached = upload_attach(target=target, instance=instance, file=file)
            return self.send_response(_attached_body(attached, request))

    UploadAPIView.feature = target.feature
    UploadAPIView.owner_field = owner_field
    UploadAPIView.__name__ = UploadAPIView.__qualname__ = (
        f"{model.__name__}{field_name.title()}UploadAPIView"
    )
    UploadAPIView.__doc__ = (
        f"Upload `{field_name}` of a {model._meta.verbose_name} (multipart `file`)."
    )
    return UploadAPIView


# What `complete` answers: the object's id and its file field (named after the target).
ATTACHED_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"id": {"type": "string", "format": "uuid"}},
    "required": ["id"],
    "additionalProperties": {"type": "string", "format": "uri"},
}


class PresignRequestSerializer(AppSerializer):
    """What the client wants to upload, and where it will go."""

    target = serializers.CharField(help_text="app_label.model.field, e.g. catalog.product.image")
    object_id = serializers.UUIDField()
    filename = serializers.CharField(
        max_length=200,
        required=False,
        help_text="The file's name on the client; informative only: stored files get a "
        "generated name with the extension of their type.",
    )
    content_type = serializers.CharField(max_length=100)
    size = serializers.IntegerField(min_value=1)


class CompleteRequestSerializer(AppSerializer):
    """The token `presign` returned, after the file was posted."""

    upload_token = serializers.CharField(max_length=2000)


class PresignAPIView(AppAPIView):
    """`POST /uploads/presign/`: where and how to upload a large file directly."""

    permission_classes = (IsAuthenticated,)
    documented_errors: ClassVar[dict[str, tuple[type[APIException], ...]]] = {
        "post": (NotFound,)  # an object the caller may not change (for the schema)
    }

    @extend_schema(
        summary="Start a direct upload",
        description=(
            "For large files: answers where to send the file (`url` and the form `fields` of "
            "an S3 pre-signed POST, or a signed local URL) and an `upload_token` valid for "
            "`expires_in` seconds. Post the file there, then call `/api/v1/uploads/complete/` "
            "with the token. `target` is `app_label.model.field` (e.g. "
            "`catalog.product.image`); an object the caller may not change is a 404."
        ),
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

        def local_url(token: str) -> str:
            path = reverse("upload-local", kwargs={"version": request.version, "token": token})
            return request.build_absolute_uri(path)

        presigned = upload_presign(
            target_label=data["target"],
            object_id=data["object_id"],
            content_type=data["content_type"],
            size=data["size"],
            user=request.user,
            local_url_builder=local_url,
        )
        return self.send_response(asdict(presigned))


class LocalUploadAPIView(AppAPIView):
    """`POST /uploads/local/<token>/` (embedded default): the local stand-in for S3's pre-signed
    POST. The signed, expiring token is the authorisation, as S3's signature is."""

    authentication_classes = ()
    permission_classes = (AllowAny,)
    parser_classes = (MultiPartParser,)

    @extend_schema(
        summary="Receive a direct upload (local storage)",
        description=(
            "The local stand-in for S3's pre-signed POST, used when media is on the filesystem: "
            "post the file as multipart `file` to the `url` that `presign` answered. The "
            "signed, expiring token in the path is the authorisation (no Bearer token)."
        ),
        tags=TAGS,
        request={"multipart/form-data": FileUploadSerializer},
        responses={200: None},
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Store the file at the token's key (size-limited while reading)."""
        token = kwargs["token"]
        file = _read_file(request, upload_local_max_bytes(token=token), StoredFileSerializer)
        upload_local_store(token=token, file=file)
        return self.send_response(None, message=STORED_MESSAGE)


class CompleteAPIView(AppAPIView):
    """`POST /uploads/complete/`: check the stored object and attach it to its target."""

    permission_classes = (IsAuthenticated,)

    @extend_schema(
        summary="Finish a direct upload",
        description=(
            "Checks the uploaded file's size and type (from its content) and attaches it to "
            "its object; answers the object's `id` and the field with the file's absolute URL "
            "(e.g. `{id, image}`). A file that fails the checks is deleted (400)."
        ),
        tags=TAGS,
        request=CompleteRequestSerializer,
        responses={200: ATTACHED_SCHEMA},
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Size and sniffed type are checked on the stored bytes; a bad object is deleted."""
        serializer = CompleteRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        attached = upload_complete(
            upload_token=serializer.validated_data["upload_token"], user=request.user
        )
        return self.send_response(_attached_body(attached, request))
