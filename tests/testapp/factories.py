"""factory-boy factories of the test app: Note and Tag."""

import factory

from tests.factories import UserFactory
from tests.testapp.models import Note, Tag


class NoteFactory(factory.django.DjangoModelFactory):
    """A live note with a unique title, owned by a fresh user unless `owner=` is given."""

    class Meta:
        model = Note

    owner = factory.SubFactory(UserFactory)
    title = factory.Sequence(lambda n: f"Note {n}")
    priority = 1


class TagFactory(factory.django.DjangoModelFactory):
    """A live tag with a unique name."""

    class Meta:
        model = Tag

    name = factory.Sequence(lambda n: f"tag-{n}")
