"""Fixtures of the orders tests: a customer (own orders) and a manager (every order)."""

from typing import Any

import pytest

from tests import api_cases as api
from tests.factories import UserFactory

FEATURE = "orders.orders"


@pytest.fixture
def customer(db: None) -> Any:
    """A customer: their own orders only (scope `own`)."""
    user = UserFactory()
    api.grant(user, FEATURE, ("create", "retrieve", "update"), scope="own")
    return user


@pytest.fixture
def staff(db: None) -> Any:
    """A manager: every order (scope `all`)."""
    user = UserFactory()
    api.grant(user, FEATURE, ("create", "retrieve", "update"), scope="all")
    return user
