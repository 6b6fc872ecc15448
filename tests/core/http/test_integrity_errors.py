"""Real database IntegrityErrors become API errors that name the field, never a 500."""

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.settings import api_settings

from apps.accounts.models import User
from apps.core.exceptions import Conflict
from apps.core.http.db_errors import (
    CHECK_MESSAGE,
    FOREIGN_KEY_MESSAGE,
    NOT_NULL_MESSAGE,
    integrity_error_to_api,
)
from apps.core.models import Feature, Role, RolePermission, UserRole
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

USER_EMAIL_TAKEN = "A user with this email already exists."
ROLE_CODE_TAKEN = "A role with this code already exists."


def integrity_error_of(write: Callable[[], Any]) -> IntegrityError:
    """The IntegrityError the database raises for `write` (rolled back in its own savepoint)."""
    with pytest.raises(IntegrityError) as caught, transaction.atomic():
        write()
    return caught.value


def field_errors(exc: APIException) -> dict[str, list[Any]]:
    """A ValidationError's `{field: [ErrorDetail, ...]}`."""
    assert isinstance(exc.detail, dict), exc.detail
    return exc.detail


def test_same_email_in_another_case_is_a_409_conflict_on_email() -> None:
    User.objects.create(email="ada@example.com", name="Ada")
    error = integrity_error_of(lambda: User.objects.create(email="ADA@Example.COM", name="Eve"))

    exc = integrity_error_to_api(error)

    assert isinstance(exc, Conflict)
    assert exc.status_code == 409
    assert exc.get_codes() == "conflict"
    assert exc.attr == "email"
    assert str(exc.detail) == USER_EMAIL_TAKEN
    assert User.objects.filter(email__iexact="ada@example.com").count() == 1


def test_soft_deleted_user_does_not_hold_its_email() -> None:
    gone = User.objects.create(email="ada@example.com", name="Ada")
    gone.soft_delete()

    with transaction.atomic():
        again = User.objects.create(email="Ada@Example.com", name="Ada again")

    assert list(User.objects.all()) == [again]
    assert User.all_objects.filter(email__iexact="ada@example.com").count() == 2


def test_second_live_role_with_the_same_code_is_a_409_conflict_on_code() -> None:
    Role.objects.create(code="manager", name="Manager")
    error = integrity_error_of(lambda: Role.objects.create(code="manager", name="Other"))

    exc = integrity_error_to_api(error)

    assert isinstance(exc, Conflict)
    assert exc.status_code == 409
    assert exc.get_codes() == "conflict"
    assert exc.attr == "code"
    assert str(exc.detail) == ROLE_CODE_TAKEN


def test_soft_deleted_role_does_not_hold_its_code() -> None:
    old = Role.objects.create(code="manager", name="Manager")
    old.soft_delete()

    with transaction.atomic():
        Role.objects.create(code="manager", name="Manager again")

    assert Role.objects.get().name == "Manager again"
    assert Role.all_objects.filter(code="manager").count() == 2


def test_duplicate_live_role_permission_is_a_409_conflict() -> None:
    role = Role.objects.create(code="manager", name="Manager")
    feature = Feature.objects.create(code="zz_test.integrity", name="Products")
    RolePermission.objects.create(role=role, feature=feature)
    error = integrity_error_of(lambda: RolePermission.objects.create(role=role, feature=feature))

    exc = integrity_error_to_api(error)

    assert isinstance(exc, Conflict)
    assert exc.status_code == 409
    assert exc.get_codes() == "conflict"
    assert exc.attr == "role"


def test_invalid_scope_in_bulk_create_is_a_400_on_scope() -> None:
    role = Role.objects.create(code="manager", name="Manager")
    feature = Feature.objects.create(code="zz_test.integrity", name="Products")
    error = integrity_error_of(
        lambda: RolePermission.objects.bulk_create(
            [RolePermission(role=role, feature=feature, scope="xyz")]
        )
    )

    exc = integrity_error_to_api(error)

    assert isinstance(exc, ValidationError)
    assert exc.status_code == 400
    assert field_errors(exc) == {"scope": [CHECK_MESSAGE]}
    assert exc.get_codes() == {"scope": ["invalid"]}
    assert not RolePermission.all_objects.exists()


def test_invalid_scope_in_queryset_update_is_a_400_on_scope() -> None:
    role = Role.objects.create(code="manager", name="Manager")
    feature = Feature.objects.create(code="zz_test.integrity", name="Products")
    permission = RolePermission.objects.create(role=role, feature=feature, scope="all")
    error = integrity_error_of(
        lambda: RolePermission.objects.filter(pk=permission.pk).update(scope="xyz")
    )

    exc = integrity_error_to_api(error)

    assert isinstance(exc, ValidationError)
    assert exc.status_code == 400
    assert exc.get_codes() == {"scope": ["invalid"]}
    assert RolePermission.objects.get().scope == "all"


def test_missing_required_value_is_a_400_naming_the_column() -> None:
    error = integrity_error_of(lambda: Role.objects.create(code="manager", name=None))

    exc = integrity_error_to_api(error)

    assert isinstance(exc, ValidationError)
    assert exc.status_code == 400
    assert field_errors(exc) == {"name": [NOT_NULL_MESSAGE]}
    assert exc.get_codes() == {"name": ["null"]}
    assert not Role.all_objects.exists()


@pytest.mark.django_db(transaction=True)
def test_reference_to_a_missing_row_is_a_400_not_a_conflict() -> None:
    user = UserFactory()
    missing_role = uuid.uuid4()
    # Foreign keys are checked when the transaction commits (deferred on SQLite and PostgreSQL).
    error = integrity_error_of(lambda: UserRole.objects.create(user=user, role_id=missing_role))

    exc = integrity_error_to_api(error)

    assert isinstance(exc, ValidationError)
    assert exc.status_code == 400
    assert field_errors(exc) == {"non_field_errors": [FOREIGN_KEY_MESSAGE]}
    assert not UserRole.all_objects.exists()


def test_global_handler_answers_a_unique_violation_with_a_409_error_item() -> None:
    User.objects.create(email="ada@example.com", name="Ada")
    error = integrity_error_of(lambda: User.objects.create(email="ADA@example.com", name="Eve"))

    response = api_settings.EXCEPTION_HANDLER(error, {"view": None, "request": None})

    assert response is not None
    assert response.status_code == 409
    assert response.data == [{"code": "conflict", "detail": USER_EMAIL_TAKEN, "attr": "email"}]
    assert response.message == USER_EMAIL_TAKEN  # the renderer builds the envelope around it


def test_global_handler_answers_a_check_violation_with_a_400_error_item() -> None:
    role = Role.objects.create(code="manager", name="Manager")
    feature = Feature.objects.create(code="zz_test.integrity", name="Products")
    error = integrity_error_of(
        lambda: RolePermission.objects.create(role=role, feature=feature, scope="xyz")
    )

    response = api_settings.EXCEPTION_HANDLER(error, {"view": None, "request": None})

    assert response is not None
    assert response.status_code == 400
    assert response.data == [{"code": "invalid", "detail": CHECK_MESSAGE, "attr": "scope"}]
