"""factory-boy factories of the core RBAC models: Feature, Role, RolePermission, UserRole."""

import factory

from apps.core.models import Feature, PermissionScope, Role, RolePermission, UserRole
from tests.factories import UserFactory


class FeatureFactory(factory.django.DjangoModelFactory):
    """A feature (API module); an existing live one with the same `code` is reused."""

    class Meta:
        model = Feature
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"test.feature-{n}")
    name = factory.LazyAttribute(lambda feature: feature.code)


class RoleFactory(factory.django.DjangoModelFactory):
    """A role with no permissions."""

    class Meta:
        model = Role

    code = factory.Sequence(lambda n: f"test-role-{n}")
    name = "Test role"


class RolePermissionFactory(factory.django.DjangoModelFactory):
    """Read access (scope `all`) to a fresh feature through a fresh role; pass `can_*=True`."""

    class Meta:
        model = RolePermission

    role = factory.SubFactory(RoleFactory)
    feature = factory.SubFactory(FeatureFactory)
    can_retrieve = True
    scope = PermissionScope.ALL


class UserRoleFactory(factory.django.DjangoModelFactory):
    """A user holding a role."""

    class Meta:
        model = UserRole

    user = factory.SubFactory(UserFactory)
    role = factory.SubFactory(RoleFactory)
