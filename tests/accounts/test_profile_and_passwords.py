"""`me`, password change, password reset, and the phone encrypted at rest."""

import re

import pytest
from django.core import mail
from django.db.models import TextField
from django.db.models.functions import Cast
from django.urls import reverse_lazy
from rest_framework.test import APIClient

from apps.accounts.models import User
from apps.accounts.serializers import PHONE_MESSAGE
from apps.accounts.services import (
    INVALID_RESET_LINK_MESSAGE,
    WRONG_PASSWORD_MESSAGE,
    user_password_reset_request,
    user_profile_update,
)
from tests.accounts.test_auth import LOGIN, ME, PASSWORD_CHANGE, REFRESH, V1, login
from tests.conftest import bearer
from tests.envelope import assert_envelope, assert_error
from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

RESET = reverse_lazy("accounts:password-reset", kwargs=V1)
CONFIRM = reverse_lazy("accounts:password-reset-confirm", kwargs=V1)
NEW_PASSWORD = "An0ther-Str0ng-One!"
FORBIDDEN_IN_USER_PAYLOAD = (b"password", b"is_staff", b"is_superuser", b"is_deleted", b"token")


# --- me ---------------------------------------------------------------------------------


def test_me_returns_the_caller_without_internal_fields(auth_client: APIClient, user: User) -> None:
    response = auth_client.get(ME)
    body = assert_envelope(response, 200)
    assert body["data"]["id"] == str(user.pk)
    assert body["data"]["email"] == user.email
    for forbidden in FORBIDDEN_IN_USER_PAYLOAD:
        assert forbidden not in response.content


def test_me_patch_updates_name_and_phone(auth_client: APIClient, user: User) -> None:
    response = auth_client.patch(ME, {"name": "Grace", "phone": "+14155550123"}, format="json")
    body = assert_envelope(response, 200)
    assert body["data"]["name"] == "Grace"
    assert body["data"]["phone"] == "+14155550123"
    user.refresh_from_db()
    assert (user.name, user.phone) == ("Grace", "+14155550123")


def test_me_patch_refuses_email_id_and_staff_flags_naming_each(
    auth_client: APIClient, user: User
) -> None:
    """Issue 14: these were silently ignored, so a client believed the email had changed."""
    payload = {"name": "Renamed", "email": "evil@example.com", "is_staff": True}
    payload |= {"is_superuser": True, "id": str(user.pk)}
    body = assert_envelope(auth_client.patch(ME, payload, format="json"), 400)
    refused = {error["attr"]: (error["code"], error["detail"]) for error in body["errors"]}
    message = "This field cannot be set or changed here."
    names = ("email", "is_staff", "is_superuser", "id")
    assert refused == dict.fromkeys(names, ("read_only", message))
    user.refresh_from_db()
    assert user.name != "Renamed"
    assert not (user.is_staff or user.is_superuser)
    assert user.email != "evil@example.com"


def test_me_patch_refuses_an_unknown_field_and_says_what_it_accepts(
    auth_client: APIClient,
) -> None:
    body = assert_error(
        auth_client.patch(ME, {"nmae": "Typo"}, format="json"), 400, "unknown_field", "nmae"
    )
    assert body["errors"][0]["detail"] == "Unknown field; this endpoint accepts: name, phone."


def test_me_patch_reports_refused_and_invalid_fields_together(auth_client: APIClient) -> None:
    payload = {"phone": "123", "roles": ["admin"]}
    body = assert_envelope(auth_client.patch(ME, payload, format="json"), 400)
    assert {(e["attr"], e["code"]) for e in body["errors"]} == {
        ("phone", "invalid"),
        ("roles", "read_only"),
    }


@pytest.mark.parametrize(
    ("payload", "code", "attr"),
    [
        ({"phone": "12345"}, "invalid", "phone"),
        ({"phone": "+1" + "2" * 20}, "max_length", "phone"),
        ({"name": "x" * 151}, "max_length", "name"),
        ({"name": None}, "null", "name"),
    ],
)
def test_me_patch_bad_input_is_400(
    auth_client: APIClient, payload: dict[str, object], code: str, attr: str
) -> None:
    assert_error(auth_client.patch(ME, payload, format="json"), 400, code, attr)


def test_me_patch_phone_error_message_says_the_format(auth_client: APIClient) -> None:
    body = assert_error(
        auth_client.patch(ME, {"phone": "abc"}, format="json"), 400, "invalid", "phone"
    )
    assert body["errors"][0]["detail"] == PHONE_MESSAGE


def test_me_anonymous_is_401(api_client: APIClient) -> None:
    assert_error(api_client.get(ME), 401, "not_authenticated")
    assert_error(api_client.patch(ME, {"name": "x"}, format="json"), 401, "not_authenticated")


def test_me_with_token_of_deleted_user_is_401(user: User) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=bearer(user))
    user.soft_delete()
    assert_envelope(client.get(ME), 401)


def test_phone_is_not_stored_in_plain_text(auth_client: APIClient, user: User) -> None:
    auth_client.patch(ME, {"phone": "+14155550123"}, format="json")
    # Cast to a plain text column: the value as stored, without the field's decryption.
    stored = (
        User.objects.filter(pk=user.pk)
        .annotate(raw=Cast("phone", output_field=TextField()))
        .values_list("raw", flat=True)
        .get()
    )
    assert "4155550123" not in stored
    assert stored.startswith("gAAAA")  # a Fernet token
    assert User.objects.get(pk=user.pk).phone == "+14155550123"


# --- password change --------------------------------------------------------------------


def test_password_change_revokes_other_sessions_and_returns_a_new_pair(
    api_client: APIClient, user: User
) -> None:
    other_device = login(api_client, user.email)
    this_device = login(api_client, user.email)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {this_device['access']}")
    payload = {"old_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD}
    body = assert_envelope(api_client.post(PASSWORD_CHANGE, payload, format="json"), 200)
    assert set(body["data"]) == {"access", "refresh"}
    api_client.credentials()
    for old in (other_device["refresh"], this_device["refresh"]):
        assert_error(
            api_client.post(REFRESH, {"refresh": old}, format="json"), 401, "token_revoked"
        )
    assert_envelope(
        api_client.post(REFRESH, {"refresh": body["data"]["refresh"]}, format="json"), 200
    )
    assert_envelope(api_client.post(LOGIN, {"email": user.email, "password": NEW_PASSWORD}), 200)


def test_access_tokens_from_before_a_password_change_stay_revoked_after_a_cache_loss(
    api_client: APIClient, user: User
) -> None:
    """Issue 12: revocations lived only in Redis (a restart revived them) and had one-second
    resolution (a token minted in the same second as the change stayed valid)."""
    from django.core.cache import caches

    minted_just_before = login(api_client, user.email)["access"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {minted_just_before}")
    payload = {"old_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD}
    fresh = assert_envelope(api_client.post(PASSWORD_CHANGE, payload, format="json"), 200)
    for alias in ("default", "guard"):
        caches[alias].clear()  # Redis restarted or evicted everything
    assert_error(api_client.get(ME), 401, "token_revoked")
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {fresh['data']['access']}")
    assert_envelope(api_client.get(ME), 200)


def test_password_change_with_wrong_old_password_is_400(auth_client: APIClient, user: User) -> None:
    payload = {"old_password": "nope-nope", "new_password": NEW_PASSWORD}
    body = assert_error(
        auth_client.post(PASSWORD_CHANGE, payload, format="json"), 400, "invalid", "old_password"
    )
    assert body["errors"][0]["detail"] == WRONG_PASSWORD_MESSAGE
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)


def test_password_change_weak_new_password_is_400(auth_client: APIClient) -> None:
    payload = {"old_password": DEFAULT_PASSWORD, "new_password": "123"}
    assert_error(
        auth_client.post(PASSWORD_CHANGE, payload, format="json"),
        400,
        "password_too_short",
        "new_password",
    )


def test_password_change_anonymous_is_401(api_client: APIClient) -> None:
    payload = {"old_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD}
    assert_error(api_client.post(PASSWORD_CHANGE, payload, format="json"), 401, "not_authenticated")


# --- password reset ---------------------------------------------------------------------


@pytest.fixture
def request_reset(api_client: APIClient, django_capture_on_commit_callbacks):
    """POST to the reset endpoint and run what it queued on commit (the email task)."""

    def post(email: str):
        with django_capture_on_commit_callbacks(execute=True):
            return api_client.post(RESET, {"email": email}, format="json")

    return post


def _link_parts(body: str) -> tuple[str, str]:
    """uid and token from the reset link in an email body."""
    match = re.search(r"uid=([\w-]+)&token=([\w-]+)", body)
    assert match, body
    return match.group(1), match.group(2)


def test_reset_answers_the_same_whether_or_not_the_account_exists(
    request_reset, user: User
) -> None:
    known = request_reset(user.email)
    unknown = request_reset("nobody@example.com")
    known_body, unknown_body = assert_envelope(known, 202), assert_envelope(unknown, 202)
    assert known_body["message"] == unknown_body["message"]
    assert known_body["data"] is None
    assert unknown_body["data"] is None
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [user.email]


def test_reset_email_is_sent_only_after_commit(
    user: User, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        user_password_reset_request(email=user.email)
    assert len(mail.outbox) == 0, "nothing is sent before the transaction commits"
    assert len(callbacks) == 1
    callbacks[0]()
    assert len(mail.outbox) == 1


def test_reset_confirm_sets_the_password_and_revokes_sessions(
    api_client: APIClient, request_reset, user: User
) -> None:
    session = login(api_client, user.email)
    request_reset(user.email)
    uid, token = _link_parts(mail.outbox[0].body)
    payload = {"uid": uid, "token": token, "new_password": NEW_PASSWORD}
    assert_envelope(api_client.post(CONFIRM, payload, format="json"), 200)
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert_error(
        api_client.post(REFRESH, {"refresh": session["refresh"]}, format="json"),
        401,
        "token_revoked",
    )
    reused = api_client.post(
        CONFIRM, {**payload, "new_password": "Y3t-Another-One!"}, format="json"
    )
    assert_error(reused, 400, "invalid", "token")  # a reset link works once


@pytest.mark.parametrize(
    ("uid", "token"),
    [("bad", "bad-token"), ("MTIz", "abc-def"), ("", "")],
)
def test_reset_confirm_with_a_bad_link_is_400(api_client: APIClient, uid: str, token: str) -> None:
    payload = {"uid": uid, "token": token, "new_password": NEW_PASSWORD}
    response = api_client.post(CONFIRM, payload, format="json")
    assert_envelope(response, 400)


def test_reset_confirm_bad_token_message(api_client: APIClient, request_reset, user: User) -> None:
    request_reset(user.email)
    uid, _ = _link_parts(mail.outbox[0].body)
    payload = {"uid": uid, "token": "1-wrong", "new_password": NEW_PASSWORD}
    body = assert_error(api_client.post(CONFIRM, payload, format="json"), 400, "invalid", "token")
    assert body["errors"][0]["detail"] == INVALID_RESET_LINK_MESSAGE


def test_reset_confirm_weak_password_is_400(
    api_client: APIClient, request_reset, user: User
) -> None:
    request_reset(user.email)
    uid, token = _link_parts(mail.outbox[0].body)
    payload = {"uid": uid, "token": token, "new_password": "password"}
    assert_error(
        api_client.post(CONFIRM, payload, format="json"), 400, "password_too_common", "new_password"
    )


def test_reset_for_inactive_user_sends_nothing(request_reset) -> None:
    inactive = UserFactory(is_active=False)
    assert_envelope(request_reset(inactive.email), 202)
    assert mail.outbox == []


@pytest.mark.usefixtures("frozen_throttle_clock")
def test_reset_is_throttled_per_client(api_client: APIClient, user: User) -> None:
    for _ in range(5):
        api_client.post(RESET, {"email": user.email}, format="json")
    assert_error(api_client.post(RESET, {"email": user.email}, format="json"), 429, "throttled")


@pytest.mark.django_db
def test_a_profile_update_from_a_stale_copy_writes_only_name_and_phone() -> None:
    """A password reset or a deactivation between reading the user and saving the profile
    must survive: the profile update writes its own columns only."""
    user = UserFactory(name="Before")
    stale = User.objects.get(pk=user.pk)
    User.objects.filter(pk=user.pk).update(is_active=False, password="reset-elsewhere")

    user_profile_update(user=stale, data={"name": "After"})

    stored = User.all_objects.get(pk=user.pk)
    assert (stored.name, stored.is_active, stored.password) == ("After", False, "reset-elsewhere")


def test_a_refresh_token_of_an_earlier_generation_is_refused(
    api_client: APIClient, user: User
) -> None:
    """Review of issue 12: the refresh never compared the token's generation, so a refresh
    token that escaped the blacklist (a rotation racing a password change) still worked."""
    from apps.core.platform.revocation import user_access_tokens_revoke

    pair = login(api_client, user.email)
    user_access_tokens_revoke(user_id=user.pk)  # the generation moves on, nothing blacklisted
    response = api_client.post(REFRESH, {"refresh": pair["refresh"]}, format="json")
    assert_error(response, 401, "token_revoked")
