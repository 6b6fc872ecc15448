"""Uploads: content sniffing, size limits while reading, the factory view, pre-signed flow
(local signed URL on the embedded default; S3 over real HTTP against moto's server), and the
upload services called directly."""

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from rest_framework.exceptions import PermissionDenied, ValidationError

from apps.core.api.uploads import CompleteAPIView, LocalUploadAPIView, PresignAPIView
from apps.core.exceptions import FileTooLarge, FileTypeNotAllowed
from apps.core.http.media import media_serve
from apps.core.models import AuditLog, PendingUpload
from apps.core.tasks import uploads_abandoned_purge_task
from apps.core.uploads.limits import FILE_TOO_LARGE_MESSAGE
from apps.core.uploads.services import (
    ABANDONED_AFTER,
    NOTHING_UPLOADED_MESSAGE,
    TOKEN_USED_MESSAGE,
    PresignedUpload,
    upload_attach,
    upload_complete,
    upload_local_max_bytes,
    upload_local_store,
    upload_presign,
)
from apps.core.uploads.sniffing import FILE_TYPE_MESSAGE, served_headers, sniff_content_type
from apps.core.uploads.storage import storage_presigned_post
from apps.core.uploads.targets import UNKNOWN_TARGET_MESSAGE, storage_key
from apps.core.uploads.tokens import INVALID_TOKEN_MESSAGE, upload_token_read
from tests import api_cases as api
from tests.core.urls import NoteAttachmentUploadAPIView
from tests.envelope import assert_envelope, assert_error
from tests.factories import UserFactory
from tests.http import post_multipart
from tests.processes import moto_s3
from tests.testapp.models import Note

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.core.urls")]
PRESIGN = reverse_lazy("upload-presign", kwargs={"version": api.API_VERSION})
COMPLETE = reverse_lazy("upload-complete", kwargs={"version": api.API_VERSION})

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
WEBP = b"RIFF\x00\x00\x00\x00WEBPVP8 " + b"\x00" * 64
BAD_FILES = {
    "exe": b"MZ\x90\x00" + b"\x00" * 64,
    "elf": b"\x7fELF" + b"\x00" * 64,
    "script": b"#!/bin/sh\nrm -rf /\n",
    "html": b"  <!DOCTYPE html><html><script>alert(1)</script>",
    "svg": b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"><script/></svg>',
    "text": b"just text",
}


@pytest.fixture
def owner() -> Any:
    user = UserFactory()
    api.grant(user, "testapp.notes", scope="own")
    return user


@pytest.fixture
def note(owner: Any) -> Note:
    return Note.objects.create(owner=owner, title="with file")


def attachment_url(note: Note) -> str:
    """The test view's upload URL for `note`'s attachment."""
    return reverse("test-note-attachment", kwargs={"pk": note.pk})


def upload(user: Any, note: Note, content: bytes, name: str = "photo.png") -> Any:
    """POST `content` as `user` to the attachment of `note`."""
    client = api.client_for(user)
    file = SimpleUploadedFile(name, content, content_type="image/png")
    return client.post(attachment_url(note), {"file": file}, format="multipart")


@pytest.mark.parametrize(
    ("content", "kind"), [(PNG, "image/png"), (JPEG, "image/jpeg"), (WEBP, "image/webp")]
)
def test_sniffing_reads_the_content(content: bytes, kind: str) -> None:
    assert sniff_content_type(content) == kind


def test_an_image_upload_is_stored_and_audited(owner: Any, note: Note) -> None:
    body = assert_envelope(upload(owner, note, PNG), 200)
    note.refresh_from_db()
    assert note.attachment.name.startswith("notes/")
    assert body["data"]["attachment"].endswith(note.attachment.name.split("/")[-1])
    assert default_storage.open(note.attachment.name).read() == PNG
    assert AuditLog.objects.filter(object_id=str(note.pk), action="update").count() == 1


@pytest.mark.parametrize("kind", sorted(BAD_FILES))
def test_dangerous_or_unknown_content_is_415_whatever_the_name(
    owner: Any, note: Note, kind: str
) -> None:
    response = upload(owner, note, BAD_FILES[kind], name="innocent.png")
    assert_error(response, 415, "file_type_not_allowed")
    note.refresh_from_db()
    assert not note.attachment


def test_a_file_over_the_limit_is_413_and_not_stored(owner: Any, note: Note) -> None:
    big = PNG + b"\x00" * (60 * 1024)  # the test view allows 0.05 MB
    assert_error(upload(owner, note, big), 413, "file_too_large")
    note.refresh_from_db()
    assert not note.attachment


def test_missing_or_empty_file_is_400(owner: Any, note: Note) -> None:
    client = api.client_for(owner)
    url = attachment_url(note)
    assert_error(client.post(url, {}, format="multipart"), 400, "required", "file")
    assert_error(upload(owner, note, b""), 400, "empty", "file")


def test_json_instead_of_multipart_is_415(owner: Any, note: Note) -> None:
    response = api.client_for(owner).post(attachment_url(note), {"file": "x"}, format="json")
    assert_error(response, 415, "unsupported_media_type")


def test_upload_needs_auth_permission_and_scope(owner: Any, note: Note) -> None:
    url = attachment_url(note)
    assert_error(api.client_for(None).post(url, {}, format="multipart"), 401, "not_authenticated")
    assert_error(upload(UserFactory(), note, PNG), 403, "permission_denied")
    stranger = UserFactory()
    api.grant(stranger, "testapp.notes", scope="own")
    assert_error(upload(stranger, note, PNG), 404, "not_found")


# --- pre-signed flow on the embedded default (signed local URL) ------------------------


def presign(user: Any, note: Note, **overrides: Any) -> Any:
    payload = {
        "target": "testapp.note.attachment",
        "object_id": str(note.pk),
        "filename": "scan.png",
        "content_type": "image/png",
        "size": 100_000,
        **overrides,
    }
    return api.client_for(user).post(PRESIGN, payload, format="json")


def test_local_presigned_upload_then_complete_attaches_the_file(owner: Any, note: Note) -> None:
    data = assert_envelope(presign(owner, note), 200)["data"]
    assert data["url"].endswith(api.api_url("upload-local", token=data["upload_token"]))
    local = api.client_for(None)
    file = SimpleUploadedFile("scan.png", PNG * 100)
    assert_envelope(local.post(data["url"], {"file": file}, format="multipart"), 200)
    done = api.client_for(owner).post(
        COMPLETE, {"upload_token": data["upload_token"]}, format="json"
    )
    assert_envelope(done, 200)
    note.refresh_from_db()
    assert note.attachment.name.startswith("uploads/testapp.note.attachment/")
    assert AuditLog.objects.filter(object_id=str(note.pk), action="update").count() == 1


def test_presign_refuses_unknown_targets_big_sizes_bad_types_and_strangers(
    owner: Any, note: Note
) -> None:
    assert_error(presign(owner, note, target="nope.nope.nope"), 400, "invalid", "target")
    assert_error(presign(owner, note, size=10 * 1024 * 1024), 413, "file_too_large")
    refused = presign(owner, note, content_type="text/html")
    body = assert_error(refused, 415, "file_type_not_allowed")
    assert body["message"] == FILE_TYPE_MESSAGE.format(allowed=", ".join(TARGET.allowed_types))
    assert_error(presign(owner, note, size=0), 400, "min_value", "size")
    stranger = UserFactory()
    api.grant(stranger, "testapp.notes", scope="own")
    assert_error(presign(stranger, note), 404, "not_found")
    assert_error(presign(UserFactory(), note), 403, "permission_denied")


def test_the_local_store_and_complete_refuse_bad_bytes(owner: Any, note: Note) -> None:
    data = assert_envelope(presign(owner, note), 200)["data"]
    stored = api.client_for(None).post(
        data["url"], {"file": SimpleUploadedFile("x.png", BAD_FILES["html"])}, format="multipart"
    )
    assert_error(stored, 415, "file_type_not_allowed")
    done = api.client_for(owner).post(
        COMPLETE, {"upload_token": data["upload_token"]}, format="json"
    )
    assert_error(done, 400, "invalid", "upload_token")
    note.refresh_from_db()
    assert not note.attachment
    assert not default_storage.exists(upload_token_read(data["upload_token"])["key"])


def test_a_token_is_for_its_user_and_cannot_be_forged(owner: Any, note: Note) -> None:
    data = assert_envelope(presign(owner, note), 200)["data"]
    api.client_for(None).post(
        data["url"], {"file": SimpleUploadedFile("x.png", PNG)}, format="multipart"
    )
    other = api.client_for(UserFactory())
    assert_error(
        other.post(COMPLETE, {"upload_token": data["upload_token"]}, format="json"),
        403,
        "permission_denied",
    )
    forged = api.client_for(owner).post(
        COMPLETE, {"upload_token": data["upload_token"] + "x"}, format="json"
    )
    assert_error(forged, 400, "invalid", "upload_token")


def _local_upload(owner: Any, note: Note) -> str:
    """Presign and store a file on the local flow without completing it; its token."""
    data = assert_envelope(presign(owner, note), 200)["data"]
    file = SimpleUploadedFile("scan.png", PNG * 100)
    stored = api.client_for(None).post(data["url"], {"file": file}, format="multipart")
    assert_envelope(stored, 200)
    return str(data["upload_token"])


def _expire_pending_uploads() -> None:
    """Every pending upload's token expired longer ago than the purge waits."""
    past = timezone.now() - ABANDONED_AFTER - timedelta(seconds=1)
    PendingUpload.all_objects.update(expires_at=past)


def test_an_abandoned_upload_is_removed_by_the_purge_task(owner: Any, note: Note) -> None:
    token = _local_upload(owner, note)
    key = upload_token_read(token)["key"]
    assert default_storage.exists(key)
    assert uploads_abandoned_purge_task.delay().get() == 0  # not expired yet: kept
    assert default_storage.exists(key)

    _expire_pending_uploads()
    assert uploads_abandoned_purge_task.delay().get() == 1
    assert not default_storage.exists(key)
    assert not PendingUpload.all_objects.filter(key=key).exists()
    assert uploads_abandoned_purge_task.delay().get() == 0  # safe to run twice
    late = api.client_for(owner).post(COMPLETE, {"upload_token": token}, format="json")
    assert_error(late, 400, "invalid", "upload_token")


def test_a_completed_upload_is_never_purged(owner: Any, note: Note) -> None:
    token = _local_upload(owner, note)
    done = api.client_for(owner).post(COMPLETE, {"upload_token": token}, format="json")
    assert_envelope(done, 200)
    assert not PendingUpload.all_objects.exists()
    _expire_pending_uploads()
    assert uploads_abandoned_purge_task.delay().get() == 0
    note.refresh_from_db()
    assert default_storage.open(note.attachment.name).read() == PNG * 100


def test_a_presign_never_followed_by_a_file_is_forgotten(owner: Any, note: Note) -> None:
    assert_envelope(presign(owner, note), 200)
    _expire_pending_uploads()
    assert uploads_abandoned_purge_task.delay().get() == 1
    assert not PendingUpload.all_objects.exists()


# --- how stored files are served ------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content_type", "disposition"),
    [
        ("notes/a.png", "image/png", "inline"),
        ("notes/a.JPG", "image/jpeg", "inline"),
        ("notes/a.webp", "image/webp", "inline"),
        ("uploads/x/a.pdf", "application/pdf", "attachment"),
        ("exports/orders.csv", "text/csv", "attachment"),
        ("products/poc.html", "application/octet-stream", "attachment"),
        ("products/poc.svg", "application/octet-stream", "attachment"),
        ("products/noextension", "application/octet-stream", "attachment"),
    ],
)
def test_a_stored_file_is_served_inline_only_when_it_is_an_image(
    name: str, content_type: str, disposition: str
) -> None:
    headers = served_headers(name)
    assert headers["Content-Type"] == content_type
    assert headers["Content-Disposition"] == disposition
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_django_serves_media_with_the_served_headers(settings: Any, tmp_path: Any) -> None:
    """The embedded default's media route: a page stored before names were generated is a
    download, an image is shown."""
    settings.MEDIA_ROOT = tmp_path
    (tmp_path / "poc.html").write_bytes(BAD_FILES["html"])
    (tmp_path / "photo.png").write_bytes(PNG)
    page = media_serve(RequestFactory().get("/media/poc.html"), "poc.html")
    assert page["Content-Type"] == "application/octet-stream"
    assert page["Content-Disposition"] == "attachment"
    assert page["X-Content-Type-Options"] == "nosniff"
    image = media_serve(RequestFactory().get("/media/photo.png"), "photo.png")
    assert image["Content-Type"] == "image/png"
    assert image["Content-Disposition"] == "inline"
    assert b"".join(image.streaming_content) == PNG  # type: ignore[attr-defined]


# --- S3 over real HTTP (moto's server) ---------------------------------------------------


@pytest.fixture
def s3(settings: Any) -> Iterator[Any]:
    """A moto S3 server on loopback, and the project's storage pointed at it."""
    with moto_s3(settings) as client:
        yield client


def test_s3_presigned_post_upload_and_complete_over_real_http(
    s3: Any, owner: Any, note: Note
) -> None:
    data = assert_envelope(presign(owner, note), 200)["data"]
    assert data["url"].startswith("http://127.0.0.1:")
    assert data["fields"]["Content-Type"] == "image/png"
    status = post_multipart(data["url"], data["fields"], PNG * 10, "scan.png")
    assert status in (200, 201, 204)
    done = api.client_for(owner).post(
        COMPLETE, {"upload_token": data["upload_token"]}, format="json"
    )
    assert_envelope(done, 200)
    note.refresh_from_db()
    stored = s3.get_object(Bucket="media", Key=note.attachment.name)["Body"].read()
    assert stored == PNG * 10


def test_s3_an_object_over_the_size_range_is_refused_and_deleted_at_complete(
    s3: Any, owner: Any, note: Note
) -> None:
    """Real S3 refuses the POST itself (the policy's content-length-range); moto does not
    enforce policies, so this proves the server-side check that backs it up."""
    data = assert_envelope(presign(owner, note), 200)["data"]
    key = upload_token_read(data["upload_token"])["key"]
    post_multipart(data["url"], data["fields"], PNG + bytes(300 * 1024), "big.png")
    done = api.client_for(owner).post(
        COMPLETE, {"upload_token": data["upload_token"]}, format="json"
    )
    assert_error(done, 413, "file_too_large")
    assert key not in _keys(s3)
    note.refresh_from_db()
    assert not note.attachment


def test_s3_complete_deletes_an_object_of_the_wrong_type(s3: Any, owner: Any, note: Note) -> None:
    data = assert_envelope(presign(owner, note), 200)["data"]
    key = upload_token_read(data["upload_token"])["key"]
    post_multipart(data["url"], data["fields"], BAD_FILES["exe"], "evil.png")
    assert key in _keys(s3)
    done = api.client_for(owner).post(
        COMPLETE, {"upload_token": data["upload_token"]}, format="json"
    )
    assert_error(done, 415, "file_type_not_allowed")
    assert key not in _keys(s3)


def test_s3_objects_are_stored_with_their_served_type_and_disposition(s3: Any) -> None:
    """The bucket serves files to browsers directly: a PDF is a download, an image inline,
    whatever type the client claimed."""
    default_storage.save("uploads/t/doc.pdf", ContentFile(b"%PDF-1.7 ...", name="doc.pdf"))
    default_storage.save("uploads/t/pic.png", ContentFile(PNG, name="pic.png"))
    pdf = s3.head_object(Bucket="media", Key="uploads/t/doc.pdf")
    assert (pdf["ContentType"], pdf.get("ContentDisposition")) == ("application/pdf", "attachment")
    png = s3.head_object(Bucket="media", Key="uploads/t/pic.png")
    assert (png["ContentType"], png.get("ContentDisposition")) == ("image/png", "inline")


def test_s3_a_presigned_post_of_a_non_image_must_send_attachment(s3: Any) -> None:
    _url, fields = storage_presigned_post(
        key="uploads/t/x.pdf",
        content_type="application/pdf",
        max_bytes=1000,
        expires_in=60,
        local_url="unused",
    )
    assert fields["Content-Type"] == "application/pdf"
    assert fields["Content-Disposition"] == "attachment"
    _url, fields = storage_presigned_post(
        key="uploads/t/x.png", content_type="image/png", max_bytes=1000, expires_in=60, local_url=""
    )
    assert fields["Content-Disposition"] == "inline"


def _keys(s3: Any) -> list[str]:
    """Every key in the test bucket."""
    return [item["Key"] for item in s3.list_objects_v2(Bucket="media").get("Contents", [])]


# --- the upload endpoints through the generic endpoint tests ------------------------------


class _PresignedFlow(api.Action):
    """Shared set-up: an owner with a note to attach to."""

    def permitted(self, flags: Any = None, scope: str = "all") -> Any:
        user = UserFactory()
        api.grant(user, "testapp.notes", scope="own")
        return user

    def prepare(self, user: Any) -> str:
        self.make_note(user)
        return self.url

    def make_note(self, user: Any) -> None:
        """Whoever calls (or a fresh permitted user) owns a note."""
        self.owner = user if user is not None else self.permitted()
        api.grant(self.owner, "testapp.notes", scope="own")
        self.note = Note.objects.create(owner=self.owner, title=f"n-{self.owner.pk}")

    def presigned(self) -> dict[str, Any]:
        return assert_envelope(presign(self.owner, self.note), 200)["data"]


class TestPresignEndpoint(_PresignedFlow):
    url_name = "upload-presign"
    view = PresignAPIView
    invalid_payload = {"target": "testapp.note.attachment", "size": "big"}
    invalid_attr = "size"

    def call_payload(self) -> dict[str, Any]:
        return {
            "target": "testapp.note.attachment",
            "object_id": str(self.note.pk),
            "filename": "a.png",
            "content_type": "image/png",
            "size": 10,
        }


class TestCompleteEndpoint(_PresignedFlow):
    url_name = "upload-complete"
    view = CompleteAPIView
    invalid_payload = {"upload_token": ""}
    invalid_attr = "upload_token"

    def call_payload(self) -> dict[str, Any]:
        data = self.presigned()
        api.client_for(None).post(
            data["url"], {"file": SimpleUploadedFile("a.png", PNG)}, format="multipart"
        )
        return {"upload_token": data["upload_token"]}


class TestLocalUploadEndpoint(_PresignedFlow):
    url_name = "upload-local"
    view = LocalUploadAPIView
    invalid_payload = {"other": "x"}
    invalid_attr = "file"

    def prepare(self, user: Any) -> str:
        self.make_note(self.permitted())
        return self.url_for(token=self.presigned()["upload_token"])

    def call(self, user: Any, url: str, payload: Any) -> Any:
        return api.client_for(user).post(url, payload, format="multipart")

    def call_payload(self) -> dict[str, Any]:
        return {"file": SimpleUploadedFile("a.png", PNG)}

    def test_an_expired_or_forged_token_is_400(self, settings: Any) -> None:
        url = self.prepare(None)
        forged = url.replace("/local/", "/local/x")
        assert_error(self.call(None, forged, self.call_payload()), 400, "invalid", "upload_token")
        settings.UPLOAD_URL_SECONDS = -1
        assert_error(self.call(None, url, self.call_payload()), 400, "invalid", "upload_token")

    def test_a_token_stores_one_file_only(self) -> None:
        url = self.prepare(None)
        assert_envelope(self.call(None, url, self.call_payload()), 200)
        assert_error(self.call(None, url, self.call_payload()), 400, "invalid", "upload_token")


def test_the_factory_refuses_a_file_field_too_short_for_upload_keys() -> None:
    from django.core.exceptions import ImproperlyConfigured
    from django.db import models as dj_models

    from apps.core.api.uploads import get_upload_api_view

    class Short(dj_models.Model):  # noqa: DJ008 - a throwaway model
        file = dj_models.FileField()

        class Meta:
            app_label = "testapp"
            managed = False

    with pytest.raises(ImproperlyConfigured, match="max_length=255"):
        get_upload_api_view(Short, "file")


def test_the_factory_view_documents_a_multipart_file_and_the_envelope() -> None:
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator(urlconf="tests.core.urls").get_schema(request=None, public=True)
    # An OpenAPI path template ("{id}"), not a URL: reverse() cannot produce it.
    operation = schema["paths"]["/api/v1/_test/notes/{id}/attachment/"]["post"]
    body = operation["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert body["$ref"].endswith("/FileUploadRequest")
    assert (
        schema["components"]["schemas"]["FileUploadRequest"]["properties"]["file"]["format"]
        == "binary"
    )
    assert {"200", "401", "403", "404", "413", "415"} <= set(operation["responses"])
    ok = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert ok.endswith("Envelope")


def test_a_local_upload_over_the_presigned_limit_is_413_and_not_stored(
    owner: Any, note: Note
) -> None:
    data = assert_envelope(presign(owner, note), 200)["data"]
    big = SimpleUploadedFile("big.png", PNG + bytes(300 * 1024))  # the target allows 0.2 MB
    response = api.client_for(None).post(data["url"], {"file": big}, format="multipart")
    assert_error(response, 413, "file_too_large")
    assert not default_storage.exists(upload_token_read(data["upload_token"])["key"])


# --- the services, without HTTP --------------------------------------------------------

TARGET = NoteAttachmentUploadAPIView.upload_target


def local_url(token: str) -> str:
    return f"http://testserver/local/{token}/"


def presigned(user: Any, note: Note, **overrides: Any) -> PresignedUpload:
    arguments = {
        "target_label": TARGET.label,
        "object_id": note.pk,
        "content_type": "image/png",
        "size": 100,
        **overrides,
    }
    return upload_presign(user=user, local_url_builder=local_url, **arguments)


def test_presign_signs_a_token_for_this_user_object_and_a_fresh_key(
    owner: Any, note: Note, settings: Any
) -> None:
    result = presigned(owner, note)
    payload = upload_token_read(result.upload_token)
    assert (result.url, result.fields) == (local_url(result.upload_token), {})
    assert result.expires_in == settings.UPLOAD_URL_SECONDS
    assert payload["key"].startswith(f"uploads/{TARGET.label}/{note.pk}/")
    assert payload["key"] != upload_token_read(presigned(owner, note).upload_token)["key"]
    assert {**payload, "key": None} == {
        "key": None,
        "target": TARGET.label,
        "object_id": str(note.pk),
        "user": str(owner.pk),
        "content_type": "image/png",
    }


def test_presign_of_an_unknown_target_names_the_field(owner: Any, note: Note) -> None:
    with pytest.raises(ValidationError) as caught:
        presigned(owner, note, target_label="nope.nope.nope")
    assert caught.value.detail == {"target": [UNKNOWN_TARGET_MESSAGE]}


def test_a_local_token_stores_one_file_within_the_target_limit(owner: Any, note: Note) -> None:
    token = presigned(owner, note).upload_token
    assert upload_local_max_bytes(token=token) == TARGET.presign_max_bytes
    upload_local_store(token=token, file=SimpleUploadedFile("a.png", PNG))
    with pytest.raises(ValidationError) as caught:
        upload_local_store(token=token, file=SimpleUploadedFile("b.png", JPEG))
    assert caught.value.detail == {"upload_token": [TOKEN_USED_MESSAGE]}
    assert default_storage.open(upload_token_read(token)["key"]).read() == PNG


def test_complete_before_anything_was_stored_is_400(owner: Any, note: Note) -> None:
    token = presigned(owner, note).upload_token
    with pytest.raises(ValidationError) as caught:
        upload_complete(upload_token=token, user=owner)
    assert caught.value.detail == {"upload_token": [NOTHING_UPLOADED_MESSAGE]}


def test_complete_with_another_users_token_is_refused_and_keeps_the_object(
    owner: Any, note: Note
) -> None:
    token = presigned(owner, note).upload_token
    upload_local_store(token=token, file=SimpleUploadedFile("a.png", PNG))
    with pytest.raises(PermissionDenied):
        upload_complete(upload_token=token, user=UserFactory())
    note.refresh_from_db()
    assert not note.attachment
    attached = upload_complete(upload_token=token, user=owner)
    assert attached.instance == note
    assert attached.url is not None
    assert attached.url.endswith(upload_token_read(token)["key"])


def test_complete_with_an_expired_token_is_400(owner: Any, note: Note, settings: Any) -> None:
    token = presigned(owner, note).upload_token
    settings.UPLOAD_URL_SECONDS = -1
    with pytest.raises(ValidationError) as caught:
        upload_complete(upload_token=token, user=owner)
    assert caught.value.detail == {"upload_token": [INVALID_TOKEN_MESSAGE]}


@pytest.mark.parametrize(
    ("content", "error", "message"),
    [
        (
            PNG + bytes(TARGET.presign_max_bytes),
            FileTooLarge,
            FILE_TOO_LARGE_MESSAGE.format(max_mb=0.2),
        ),
        (
            BAD_FILES["html"],
            FileTypeNotAllowed,
            FILE_TYPE_MESSAGE.format(allowed="image/png"),  # the type the presign declared
        ),
    ],
    ids=["too-large", "refused-type"],
)
def test_complete_deletes_a_stored_object_it_refuses(
    owner: Any, note: Note, content: bytes, error: type[Exception], message: str
) -> None:
    token = presigned(owner, note).upload_token
    key = upload_token_read(token)["key"]
    default_storage.save(key, ContentFile(content))  # as a direct post to storage would
    with pytest.raises(error) as caught:
        upload_complete(upload_token=token, user=owner)
    assert str(caught.value.detail) == message
    assert not default_storage.exists(key)
    note.refresh_from_db()
    assert not note.attachment


@pytest.mark.parametrize(
    ("content_type", "extension"),
    [("image/png", ".png"), ("image/jpeg", ".jpg"), ("application/pdf", ".pdf")],
)
def test_storage_keys_are_generated_with_the_extension_of_the_type(
    content_type: str, extension: str
) -> None:
    """Issue 12: keys kept the client's file name, so `poc.html` stayed an HTML page."""
    key = storage_key(TARGET, "42", content_type)
    assert key.startswith(f"uploads/{TARGET.label}/42/")
    name = key.rsplit("/", 1)[-1]
    assert re.fullmatch(rf"[0-9a-f]{{32}}\{extension}", name), name
    assert storage_key(TARGET, "42", content_type) != key


def test_a_png_html_polyglot_named_html_is_stored_as_a_png(owner: Any, note: Note) -> None:
    polyglot = PNG + b"<html><script>alert(1)</script></html>"
    attached = upload_attach(
        target=TARGET, instance=note, file=SimpleUploadedFile("poc.html", polyglot)
    )
    name = attached.instance.attachment.name
    assert name.endswith(".png") and "poc" not in name


def test_the_local_presigned_store_sniffs_like_a_direct_upload(owner: Any, note: Note) -> None:
    """Issue 12: the local pre-signed path stored whatever it received."""
    token = presigned(owner, note).upload_token
    for content in (BAD_FILES["html"], JPEG):  # refused, and not the declared PNG either
        with pytest.raises(FileTypeNotAllowed):
            upload_local_store(token=token, file=SimpleUploadedFile("x.png", content))
    assert not default_storage.exists(upload_token_read(token)["key"])
