"""The orjson renderer writes exactly what DRF's JSONRenderer writes (issue 13): generated
data of every kind an answer can hold, and real answers of the API."""

import datetime as dt
import decimal
import uuid
from typing import Any

import pytest
from django.utils.functional import lazy
from hypothesis import given, settings
from hypothesis import strategies as st
from rest_framework.renderers import JSONRenderer

from apps.core.http.renderers import EnvelopeJSONRenderer
from apps.core.platform.floats import ReprFloat, floats_marked
from tests import api_cases as api
from tests.catalog.factories import ProductFactory, TagFactory

renderer, reference = EnvelopeJSONRenderer(), JSONRenderer()
lazy_text = lazy(str, str)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),  # past 64 bits: the fallback
    # Floats leave serializer fields marked (apps.core.platform.floats).
    st.floats(allow_nan=False, allow_infinity=False).map(ReprFloat),
    st.text(),  # any code point, U+2028 and U+2029 included
    st.sampled_from(["\u2028", "a\u2029b", "é", "日本", "\U0001f600", '"\\/', "1e5"]),
    st.decimals(allow_nan=False, allow_infinity=False, places=2),
    st.datetimes(timezones=st.sampled_from([None, dt.UTC, dt.timezone(dt.timedelta(hours=5))])),
    st.dates(),
    st.times(),
    st.timedeltas(),
    st.uuids(),
    st.text(max_size=20).map(lazy_text),
)
values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=5),
        st.tuples(children, children),
        st.dictionaries(st.text(max_size=10), children, max_size=5),
        st.dictionaries(st.integers(), children, max_size=3),
    ),
    max_leaves=30,
)


@settings(max_examples=400, derandomize=True, database=None, deadline=None)
@given(values)
def test_any_value_is_rendered_byte_for_byte_as_drf_renders_it(value: Any) -> None:
    assert renderer.render(value) == reference.render(value)


@pytest.mark.parametrize(
    "value",
    [
        {"price": decimal.Decimal("19.90"), "ratio": ReprFloat(0.1), "big": ReprFloat(1e16)},
        [ReprFloat(1e-05), ReprFloat(2.5e-07), ReprFloat(-0.0), ReprFloat(123456789012345678.0)],
        {"at": dt.datetime(2026, 11, 24, 1, 2, 3, 456789, tzinfo=dt.UTC), "id": uuid.uuid4()},
        {"line": "a\u2028b", 7: "int key", None: "none key", True: "bool key"},
        {"huge": 2**80},
        [],
        "",
    ],
)
def test_edge_values_are_rendered_as_drf_renders_them(value: Any) -> None:
    assert renderer.render(value) == reference.render(value)


def test_an_indented_answer_is_drfs() -> None:
    value = {"a": [1, 2]}
    media = "application/json; indent=2"
    assert renderer.render(value, media, {}) == reference.render(value, media, {})


@pytest.mark.django_db
def test_real_answers_are_the_bytes_drf_would_write() -> None:
    """Product list and detail (decimals, dates, nested tags, the envelope): the body sent
    equals DRF's rendering of the same envelope."""
    attributes = {"tiny": 1e-05, "huge": 1e16, "list": [0.5, 2.5e-07], "text": "1e5"}
    product = ProductFactory(name="Émile \u2028 tea", attributes=attributes)
    product.tags.add(TagFactory(), TagFactory())
    for url in (
        api.api_url("catalog-product-list"),
        api.api_url("catalog-product-detail", pk=product.pk),
    ):
        response = api.client_for(None).get(url)
        assert response.status_code == 200
        assert response.content == reference.render(response.json())
    for written in (b'"tiny":1e-05', b'"list":[0.5,2.5e-07]'):  # the detail (jsonb: 1e16 is an int)
        assert written in response.content  # (PostgreSQL's jsonb orders the keys its own way)


def test_marked_floats_survive_the_response_cache() -> None:
    """Cached answers are pickled data: the marks come back with them."""
    import pickle

    value = {"a": [ReprFloat(1e-05)]}
    restored = pickle.loads(pickle.dumps(value))  # noqa: S301 - our own bytes
    assert type(restored["a"][0]) is ReprFloat
    assert renderer.render(restored) == b'{"a":[1e-05]}'


def test_json_values_are_marked_only_where_they_hold_floats() -> None:
    plain = {"a": [1, "x", None], "b": {"c": True}}
    assert floats_marked(plain) is plain  # nothing copied
    marked = floats_marked({"a": [1, 1e-05], "b": {"c": 2.5}})
    assert type(marked["a"][1]) is ReprFloat
    assert type(marked["b"]["c"]) is ReprFloat


def test_float_columns_leave_their_serializer_field_marked() -> None:
    """AppModelSerializer maps float columns to AppFloatField, whose values render as DRF's."""
    from django.db import models

    from apps.core.http.serializers import AppFloatField, AppModelSerializer

    assert AppModelSerializer.serializer_field_mapping[models.FloatField] is AppFloatField
    value = AppFloatField().to_representation(1e-05)
    assert type(value) is ReprFloat
    assert renderer.render({"x": value}) == reference.render({"x": 1e-05}) == b'{"x":1e-05}'
