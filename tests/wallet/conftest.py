"""Fixtures of the wallet tests: users who may use their wallet."""

from typing import Any

import pytest

from tests import api_cases as api
from tests.factories import UserFactory
from tests.wallet.factories import FEATURE


@pytest.fixture
def member(db: None) -> Any:
    """A user whose roles grant their own wallet (read, top up, transfer)."""
    user = UserFactory()
    api.grant(user, FEATURE, ("create", "retrieve"), scope="own")
    return user


@pytest.fixture
def other(db: None) -> Any:
    """A second wallet user (a transfer's recipient)."""
    user = UserFactory(name="Grace Hopper")
    api.grant(user, FEATURE, ("create", "retrieve"), scope="own")
    return user
