"""Token pairs and families (issue 14): logout with the refresh token alone revokes the access
token issued with it; reusing a rotated refresh token revokes the whole family and is logged."""

from typing import Any

import pytest
from channels.db import database_sync_to_async as sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import connection
from django.urls import reverse_lazy
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from apps.accounts.models import User
from apps.accounts.tokens import (
    FAMILY_CLAIM,
    PAIRED_ACCESS_EXP_CLAIM,
    PAIRED_ACCESS_JTI_CLAIM,
    REUSE_EVENT,
)
from apps.core.models import AuditLog
from apps.core.platform.ws.consumers import CLOSE_UNAUTHORIZED
from config.asgi import application
from tests.api_cases import API_VERSION
from tests.envelope import assert_envelope, assert_error
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.http import post_each_in_parallel, post_in_parallel, send_json

pytestmark = pytest.mark.django_db

V1 = {"version": API_VERSION}
LOGIN = reverse_lazy("accounts:login", kwargs=V1)
REFRESH = reverse_lazy("accounts:refresh", kwargs=V1)
LOGOUT = reverse_lazy("accounts:logout", kwargs=V1)
ME = reverse_lazy("accounts:me", kwargs=V1)
NOTIFICATIONS = "/ws/notifications/"


def login(user: User) -> dict[str, str]:
    """A fresh session of `user`: its token pair."""
    body = APIClient().post(LOGIN, {"email": user.email, "password": DEFAULT_PASSWORD})
    return assert_envelope(body, 200)["data"]


def rotate(refresh: str) -> dict[str, str]:
    """The pair a refresh answers with."""
    return assert_envelope(APIClient().post(REFRESH, {"refresh": refresh}, format="json"), 200)[
        "data"
    ]


def me(access: str) -> Any:
    """GET /me with `access` as the bearer token."""
    return APIClient().get(ME, HTTP_AUTHORIZATION=f"Bearer {access}")


def logout(refresh: str, **headers: str) -> Any:
    """POST /logout with `refresh` (and any headers), no access token unless given."""
    return APIClient().post(LOGOUT, {"refresh": refresh}, format="json", **headers)


# --- pairs ------------------------------------------------------------------------------------


def test_a_refresh_token_names_the_access_token_issued_with_it_and_rotation_keeps_the_family(
    user: User,
) -> None:
    first = login(user)
    refresh, access = RefreshToken(first["refresh"]), AccessToken(first["access"])
    assert refresh[PAIRED_ACCESS_JTI_CLAIM] == access["jti"]
    assert refresh[PAIRED_ACCESS_EXP_CLAIM] == access["exp"]
    assert refresh[FAMILY_CLAIM] == refresh["jti"] == access[FAMILY_CLAIM]  # a login starts one

    second = rotate(first["refresh"])
    new_refresh, new_access = RefreshToken(second["refresh"]), AccessToken(second["access"])
    assert new_refresh[PAIRED_ACCESS_JTI_CLAIM] == new_access["jti"] != access["jti"]
    assert new_refresh[FAMILY_CLAIM] == refresh["jti"]
    stored = OutstandingToken.objects.get(jti=new_refresh["jti"]).token
    assert stored == second["refresh"]  # recorded as issued, claims included


# --- logout with the refresh token alone --------------------------------------------------------


def test_logout_with_only_the_refresh_token_revokes_the_access_token_issued_with_it(
    user: User,
) -> None:
    session = login(user)
    other_session = login(user)
    assert_envelope(me(session["access"]), 200)

    body = assert_envelope(logout(session["refresh"]), 200)

    assert body["data"] is None
    refused = assert_error(me(session["access"]), 401, "token_revoked")
    assert refused["errors"][0]["detail"] == "Access token has been revoked."
    again = APIClient().post(REFRESH, {"refresh": session["refresh"]}, format="json")
    assert_error(again, 401, "token_revoked")
    assert_envelope(me(other_session["access"]), 200)  # another device stays signed in
    assert_envelope(APIClient().post(REFRESH, {"refresh": other_session["refresh"]}), 200)


def test_logout_after_rotations_ends_the_whole_session(user: User) -> None:
    """The access token of an earlier rotation, still alive, goes with the session."""
    first = login(user)
    second = rotate(first["refresh"])
    assert_envelope(logout(second["refresh"]), 200)
    assert_error(me(second["access"]), 401, "token_revoked")
    assert_error(me(first["access"]), 401, "token_revoked")


def test_logout_with_an_expired_or_broken_access_token_still_logs_out(user: User) -> None:
    session = login(user)
    response = logout(session["refresh"], HTTP_AUTHORIZATION="Bearer not-a-jwt")
    assert_envelope(response, 200)
    assert_error(me(session["access"]), 401, "token_revoked")
    assert_envelope(logout(session["refresh"]), 200)  # twice is harmless


def test_logout_with_an_access_token_of_another_user_is_400_and_revokes_nothing(
    user: User,
) -> None:
    mine, theirs = login(user), login(UserFactory())
    response = logout(theirs["refresh"], HTTP_AUTHORIZATION=f"Bearer {mine['access']}")
    assert_error(response, 400, "invalid", "refresh")
    assert_envelope(me(theirs["access"]), 200)
    assert_envelope(me(mine["access"]), 200)


# --- reuse of a rotated refresh token -----------------------------------------------------------


def test_reusing_a_rotated_refresh_token_revokes_the_family_and_is_a_security_event(
    user: User, logs: Any
) -> None:
    first = login(user)
    other_device = login(user)
    second = rotate(first["refresh"])  # first["refresh"] is now rotated
    assert_envelope(me(second["access"]), 200)

    reused = APIClient().post(REFRESH, {"refresh": first["refresh"]}, format="json")

    assert_error(reused, 401, "token_revoked")
    newer = APIClient().post(REFRESH, {"refresh": second["refresh"]}, format="json")
    assert_error(newer, 401, "token_revoked")  # the newer refresh token is refused
    assert_error(me(second["access"]), 401, "token_revoked")  # and its access token
    assert_error(me(first["access"]), 401, "token_revoked")
    assert_envelope(me(other_device["access"]), 200)  # another login is another family
    events = [line for line in logs.records() if line.get("event") == REUSE_EVENT]
    assert len(events) == 1 + 1  # the reuse, then the newer token (revoked with its family)
    event = events[0]
    assert event["level"] == "warning"
    assert event["logger"] == "apps.security"
    assert event["user_id"] == str(user.pk)
    assert event["family"] == RefreshToken(first["refresh"], verify=False)["jti"]
    assert event["revoked_live"] == 1
    assert events[1]["revoked_live"] == 0
    second_jti = RefreshToken(second["refresh"], verify=False)["jti"]
    audited = AuditLog.objects.get(model="token_blacklist.blacklistedtoken", action="create")
    assert audited.changes["token_id"] == [
        None,
        OutstandingToken.objects.get(jti=second_jti).pk,
    ]
    assert BlacklistedToken.objects.filter(token__jti=second_jti).exists()


def test_a_revoked_refresh_token_of_a_finished_session_is_refused_and_logged(
    user: User, logs: Any
) -> None:
    session = login(user)
    assert_envelope(logout(session["refresh"]), 200)
    response = APIClient().post(REFRESH, {"refresh": session["refresh"]}, format="json")
    assert_error(response, 401, "token_revoked")
    (event,) = [line for line in logs.records() if line.get("event") == REUSE_EVENT]
    assert event["revoked_live"] == 0


# --- sockets ------------------------------------------------------------------------------------


async def _socket(access: str) -> WebsocketCommunicator:
    """An open notifications socket authenticated with `access`."""
    communicator = WebsocketCommunicator(application, f"{NOTIFICATIONS}?token={access}")
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def _closed_with_4401(communicator: WebsocketCommunicator) -> bool:
    """True when the server closes the socket with 4401."""
    output = await communicator.receive_output(timeout=3)
    return output == {"type": "websocket.close", "code": CLOSE_UNAUTHORIZED}


@pytest.mark.django_db(transaction=True)
async def test_logout_with_the_refresh_token_closes_the_sockets_of_its_access_token() -> None:
    user = await sync_to_async(UserFactory)()
    session, other = await sync_to_async(login)(user), await sync_to_async(login)(user)
    socket, other_socket = await _socket(session["access"]), await _socket(other["access"])

    response = await sync_to_async(logout)(session["refresh"])

    assert response.status_code == 200
    assert await _closed_with_4401(socket)
    assert await other_socket.receive_nothing(timeout=0.3)
    await other_socket.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_reuse_of_a_rotated_refresh_token_closes_the_sockets_of_the_newer_access_token() -> (
    None
):
    user = await sync_to_async(UserFactory)()
    first = await sync_to_async(login)(user)
    second = await sync_to_async(rotate)(first["refresh"])
    socket = await _socket(second["access"])

    reused = await sync_to_async(
        lambda: APIClient().post(REFRESH, {"refresh": first["refresh"]}, format="json")
    )()

    assert reused.status_code == 401
    assert await _closed_with_4401(socket)


# --- concurrency (PostgreSQL) -------------------------------------------------------------------


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_parallel_refreshes_of_one_token_let_one_win_and_then_end_the_session(
    live_server: Any,
) -> None:
    """Eight clients rotate one refresh token at once: the user's row lock lets exactly one
    rotate it; the seven others present a token that is now rotated, which is reuse: the
    family ends, the winner's new tokens included (a client must refresh one at a time)."""
    assert connection.vendor == "postgresql"
    user = UserFactory()
    session = login(user)
    statuses = post_in_parallel(
        f"{live_server.url}{REFRESH}", {"refresh": session["refresh"]}, parallel=8
    )
    assert sorted(statuses) == [200] + [401] * 7, statuses
    live = OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True)
    assert not live.exists()  # the winner's refresh token was revoked with its family
    assert OutstandingToken.objects.filter(user=user).count() == 1 + 1


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_reuse_racing_a_rotation_of_the_newest_token_revokes_whatever_the_rotation_issued(
    live_server: Any,
) -> None:
    """The thief reuses the rotated token while the client rotates the newest one: whichever
    runs second sees the other's work (the user's row lock), so no refresh token of the
    family survives either order."""
    assert connection.vendor == "postgresql"
    url = f"{live_server.url}{REFRESH}"
    for _ in range(4):
        user = UserFactory()
        first = login(user)
        second = rotate(first["refresh"])
        reuse, rotation = post_each_in_parallel(
            [(url, {"refresh": first["refresh"]}, {}), (url, {"refresh": second["refresh"]}, {})]
        )
        assert reuse == 401
        assert rotation in (200, 401)
        live = OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True)
        assert not live.exists(), rotation
        assert send_json(url, {"refresh": second["refresh"]}) == 401
