"""Request parsers: JSON that refuses NUL characters and pathological nesting."""

from collections.abc import Mapping
from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

NULL_CHARACTERS_MESSAGE = "Null characters are not allowed."
TOO_DEEP_MESSAGE = "JSON parse error - nesting is too deep."


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
    """DRF's JSON parser, plus a 400 for NUL characters and for nesting deep enough to crash."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        """Parse as DRF does, then refuse data that the database or Python cannot hold."""
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise ParseError(TOO_DEEP_MESSAGE) from exc
        if _contains_null(data):
            raise ParseError(NULL_CHARACTERS_MESSAGE)
        return data
