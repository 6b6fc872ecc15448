"""Request parsers: JSON that refuses NUL characters and pathological nesting."""

from collections.abc import Mapping
from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

NULL_CHARACTERS_MESSAGE = "Null characters are not allowed."
TOO_DEEP_MESSAGE = "JSON parse error - nesting is too deep."
# No API payload needs more; a deeper one stored today could break a read (caching, hashing,
# rendering recurse) for everyone tomorrow.
MAX_JSON_DEPTH = 32
DEEPER_THAN_ALLOWED_MESSAGE = f"JSON nesting is limited to {MAX_JSON_DEPTH} levels."


def json_depth(value: Any) -> int:
    """How many levels of objects and arrays `value` nests (0 for a scalar), without
    recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, Mapping):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth + 1)
        stack.extend((child, depth + 1) for child in children)
    return deepest


def _contains_null(value: Any) -> bool:
    """True when any key or string inside `value` holds a NUL character."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, Mapping):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


class StrictJSONParser(JSONParser):
    """DRF's JSON parser, plus a 400 for NUL characters and for nesting beyond
    MAX_JSON_DEPTH levels (a guard for every JSON body of the API)."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        """Parse as DRF does, then refuse data that the database or Python cannot hold."""
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise ParseError(TOO_DEEP_MESSAGE) from exc
        if _contains_null(data):
            raise ParseError(NULL_CHARACTERS_MESSAGE)
        if json_depth(data) > MAX_JSON_DEPTH:
            raise ParseError(DEEPER_THAN_ALLOWED_MESSAGE)
        return data
