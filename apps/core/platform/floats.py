"""Floats written exactly as DRF writes them, by the orjson renderer too.

Python (so DRF) writes `1e-05` and `1e+16` where orjson writes `0.00001` and `1e16`: the same
numbers, other bytes. A float that leaves a serializer field (a `FloatField`, a JSON field's
content) is a `ReprFloat`, which the renderer writes with Python's own `repr`.
"""

from typing import Any


class ReprFloat(float):
    """A float the API writes as Python's `repr` writes it."""

    __slots__ = ()


def floats_marked(value: Any) -> Any:
    """`value` (JSON data) with every float a ReprFloat; containers are copied only when
    they hold one."""
    if type(value) is float:
        return ReprFloat(value)
    if isinstance(value, dict):
        marked = {key: floats_marked(item) for key, item in value.items()}
        return marked if any(marked[k] is not v for k, v in value.items()) else value
    if isinstance(value, list):
        items = [floats_marked(item) for item in value]
        return items if any(a is not b for a, b in zip(items, value, strict=True)) else value
    return value
