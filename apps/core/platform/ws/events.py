"""Every frame the WebSockets carry, declared once: the registry behind `notify_*`, the
notification socket's groups and `docs/websockets.md`.

- `notification_event(...)` declares one event type of `/ws/notifications/`: its name, who
  receives it, the serializer that shapes its `data`, one line for frontends. It returns the
  name, which emitters pass to `notify_*`; those refuse a name nobody declared and shape
  `data` with the declared serializer (a missing or unknown key raises).
- `socket_audience(...)` declares a group of notification sockets chosen when a socket
  connects (staff; catalog editors): a predicate on the user, checked again when the user's
  roles or profile change (events declared with `regroup=True`).
- `socket_endpoint(...)` declares a socket's path, its frames in each direction (each a
  serializer of the fields beside `type`) and the close codes it uses.

Each app declares its own in `apps/<app>/notifications.py`, imported at startup by
`notification_modules_import()` (called from the core's `AppConfig.ready`). The shapes are
published as JSON Schema (`serializer_json_schema`), which the document and the tests use.
"""

import functools
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import import_module
from types import NoneType, UnionType
from typing import Any, cast

from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import module_has_submodule
from drf_spectacular.drainage import get_override
from drf_spectacular.types import OPENAPI_TYPE_MAPPING, OpenApiTypes
from rest_framework import serializers
from rest_framework.settings import api_settings

DECLARATIONS_MODULE = "notifications"  # apps/<app>/notifications.py
UNDECLARED_EVENT_MESSAGE = (
    "WebSocket event {name!r} is not declared; declare it with notification_event() in the "
    "emitting app's notifications.py (declared: {known})."
)
WRONG_AUDIENCE_MESSAGE = "WebSocket event {name!r} is declared for {declared}, not {used}."
EVENT_DATA_MESSAGE = (
    "The data of WebSocket event {name!r} does not match {serializer}: missing {missing}, "
    "unknown {unknown}."
)
REDECLARED_MESSAGE = "WebSocket {kind} {name!r} is declared twice ({first} and {second})."

SerializerClass = type[serializers.Serializer[Any]]


class UndeclaredEventError(LookupError):
    """`notify_*` was given an event name no `notification_event()` declares."""


class EventMisuseError(ValueError):
    """An event sent to other sockets than it declares, or with data not of its shape."""


@dataclass(frozen=True)
class SocketAudience:
    """A channel-layer group of notification sockets, joined at connect by users it admits.

    `admits(user)` runs in a worker thread (it may query the database) when a socket
    connects, and again when an event declared with `regroup=True` reaches the socket.
    """

    group: str
    description: str
    admits: Callable[[Any], bool] = field(compare=False)


@dataclass(frozen=True)
class NotificationEvent:
    """One event type of `/ws/notifications/`.

    `to`: the audience whose sockets receive it (`notify_audience`), or None for the sockets
    of the user it concerns (`notify_user`); `audience` says who that is, for frontends.
    `regroup`: the receiving sockets re-check which audiences they belong to.
    """

    name: str
    audience: str
    data: SerializerClass
    description: str
    to: SocketAudience | None = None
    regroup: bool = False


@dataclass(frozen=True)
class SocketFrame:
    """One frame type of a socket: `{"type": <type>, **<fields of body>}`."""

    type: str
    body: SerializerClass
    description: str


@dataclass(frozen=True)
class SocketEndpoint:
    """A WebSocket path, what it is for, its query parameters (beside `token`), its frames in
    each direction and the close codes it uses. `carries_events`: its server frames are the
    declared notification events."""

    path: str
    description: str
    close_codes: tuple[int, ...]
    query: tuple[tuple[str, str], ...] = ()
    client_frames: tuple[SocketFrame, ...] = ()
    server_frames: tuple[SocketFrame, ...] = ()
    carries_events: bool = False


_events: dict[str, NotificationEvent] = {}
_audiences: dict[str, SocketAudience] = {}
_endpoints: dict[str, SocketEndpoint] = {}
_origins: dict[tuple[str, str], str] = {}  # (kind, name) -> where it was declared


def _declare(kind: str, name: str, origin: str) -> None:
    """Note where `name` is declared; the same declaration again (a module imported twice)
    is fine, another one under the same name is refused."""
    first = _origins.setdefault((kind, name), origin)
    if first != origin:
        raise ImproperlyConfigured(
            REDECLARED_MESSAGE.format(kind=kind, name=name, first=first, second=origin)
        )


def notification_event(
    *,
    name: str,
    audience: str,
    data: SerializerClass,
    description: str,
    to: SocketAudience | None = None,
    regroup: bool = False,
) -> str:
    """Declare an event of `/ws/notifications/`; returns its name for the emitters."""
    _declare("event", name, f"{data.__module__}.{data.__qualname__}")
    _events[name] = NotificationEvent(name, audience, data, description, to, regroup)
    return name


def socket_audience(
    *, group: str, description: str, admits: Callable[[Any], bool]
) -> SocketAudience:
    """Declare a group of notification sockets (see SocketAudience)."""
    _declare("audience", group, f"{admits.__module__}.{admits.__qualname__}")
    _audiences[group] = SocketAudience(group, description, admits)
    return _audiences[group]


def socket_endpoint(endpoint: SocketEndpoint, *, declared_in: str) -> None:
    """Declare a socket path for the document (`declared_in`: the declaring module)."""
    _declare("endpoint", endpoint.path, declared_in)
    _endpoints[endpoint.path] = endpoint


@functools.cache
def notification_modules_import() -> None:
    """Import `notifications.py` of every project app (`apps.*`) that has one: their
    declarations register, their receivers connect. Once per process."""
    for config in apps.get_app_configs():
        if config.name.startswith("apps.") and module_has_submodule(
            config.module, DECLARATIONS_MODULE
        ):
            import_module(f"{config.name}.{DECLARATIONS_MODULE}")


def declared_event(name: str) -> NotificationEvent:
    """The declaration of event `name`; UndeclaredEventError when there is none."""
    notification_modules_import()
    event = _events.get(name)
    if event is None:
        known = ", ".join(sorted(_events)) or "none"
        raise UndeclaredEventError(UNDECLARED_EVENT_MESSAGE.format(name=name, known=known))
    return event


def declared_events() -> list[NotificationEvent]:
    """Every declared event, by name."""
    notification_modules_import()
    return [_events[name] for name in sorted(_events)]


def declared_audiences() -> list[SocketAudience]:
    """Every declared audience, by group."""
    notification_modules_import()
    return [_audiences[group] for group in sorted(_audiences)]


def declared_endpoints() -> list[SocketEndpoint]:
    """Every declared socket path, by path."""
    notification_modules_import()
    return [_endpoints[path] for path in sorted(_endpoints)]


def event_for(name: str, to: SocketAudience | None) -> NotificationEvent:
    """The declaration of `name`, refusing a send to other sockets than it declares."""
    event = declared_event(name)
    if event.to != to:
        raise EventMisuseError(
            WRONG_AUDIENCE_MESSAGE.format(
                name=name, declared=_audience_label(event.to), used=_audience_label(to)
            )
        )
    return event


def _audience_label(to: SocketAudience | None) -> str:
    """`the user's own sockets` or `audience <group>`."""
    return "the user's own sockets" if to is None else f"audience {to.group!r}"


@functools.cache
def _sent_field_names(serializer: SerializerClass) -> frozenset[str]:
    """The keys a serializer's output has."""
    return frozenset(name for name, f in serializer().fields.items() if not f.write_only)


def event_data(event: NotificationEvent, data: Any) -> dict[str, Any]:
    """`data` shaped by the event's serializer. A mapping must hold exactly the declared
    keys (EventMisuseError otherwise); an object is read as the serializer reads it."""
    if isinstance(data, Mapping):
        expected = _sent_field_names(event.data)
        missing, unknown = expected - data.keys(), data.keys() - expected
        if missing or unknown:
            raise EventMisuseError(
                EVENT_DATA_MESSAGE.format(
                    name=event.name,
                    serializer=event.data.__name__,
                    missing=sorted(missing),
                    unknown=sorted(unknown),
                )
            )
    return dict(event.data(data).data)


# --- JSON Schema of a declaration ----------------------------------------------------------

_FORMATS: dict[type, dict[str, Any]] = {
    serializers.BooleanField: {"type": "boolean"},
    serializers.IntegerField: {"type": "integer"},
    serializers.FloatField: {"type": "number"},
    serializers.UUIDField: {"type": "string", "format": "uuid"},
    serializers.EmailField: {"type": "string", "format": "email"},
    serializers.URLField: {"type": "string", "format": "uri"},
    serializers.DateTimeField: {"type": "string", "format": "date-time"},
    serializers.DateField: {"type": "string", "format": "date"},
    serializers.CharField: {"type": "string"},
    serializers.JSONField: {},
    serializers.DictField: {"type": "object"},
}
_PYTHON_TYPES: dict[Any, dict[str, Any]] = {
    str: {"type": "string"},
    int: {"type": "integer"},
    float: {"type": "number"},
    bool: {"type": "boolean"},
    dict: {"type": "object"},
}


def serializer_json_schema(
    serializer: SerializerClass | serializers.Serializer[Any], *, sent_by_server: bool = True
) -> dict[str, Any]:
    """The JSON Schema of what a serializer sends (`sent_by_server`: every field it sends is
    always there) or accepts (a client frame: required as the serializer requires)."""
    instance = serializer() if isinstance(serializer, type) else serializer
    return _object_schema(instance, sent_by_server)


def _object_schema(serializer: serializers.Serializer[Any], server: bool) -> dict[str, Any]:
    """An object with the serializer's fields, nothing else."""
    properties: dict[str, Any] = {}
    required: list[str] = []
    for name, item in serializer.fields.items():
        if (server and item.write_only) or (not server and item.read_only):
            continue
        properties[name] = _field_schema(serializer, item, server)
        if server or item.required:
            required.append(name)
    return {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


def _field_schema(
    parent: Any, item: serializers.Field[Any, Any, Any, Any], server: bool
) -> dict[str, Any]:
    """The schema of one field (nullable when it allows null)."""
    if isinstance(item, serializers.ListSerializer):
        child = cast(serializers.Serializer[Any], item.child)
        schema: dict[str, Any] = {"type": "array", "items": _object_schema(child, server)}
    elif isinstance(item, serializers.Serializer):
        schema = _object_schema(item, server)
    elif isinstance(item, serializers.SerializerMethodField):
        schema = _method_schema(getattr(parent, item.method_name), server)
    elif isinstance(item, serializers.ListField):
        schema = {"type": "array", "items": _field_schema(parent, item.child, server)}
    elif isinstance(item, serializers.ChoiceField):
        schema = {"type": "string", "enum": [str(choice) for choice in item.choices]}
    elif isinstance(item, serializers.DecimalField):
        schema = _decimal_schema(item)
    else:
        schema = next((dict(_FORMATS[cls]) for cls in type(item).__mro__ if cls in _FORMATS), {})
        if isinstance(item, serializers.CharField) and not server:
            schema.update(_length_limits(item))
    if item.help_text:
        schema["description"] = str(item.help_text)
    return _nullable(schema) if item.allow_null else schema


def _length_limits(item: serializers.CharField) -> dict[str, int]:
    """`minLength`/`maxLength` of a client's string."""
    limits = {"minLength": item.min_length, "maxLength": item.max_length}
    return {key: value for key, value in limits.items() if value is not None}


def _decimal_schema(item: serializers.DecimalField) -> dict[str, Any]:
    """A decimal as DRF sends it: a string with exactly `decimal_places` places."""
    if not getattr(item, "coerce_to_string", api_settings.COERCE_DECIMAL_TO_STRING):
        return {"type": "number"}
    places = item.decimal_places
    fraction = rf"\.\d{{{places}}}" if places else ""
    return {"type": "string", "format": "decimal", "pattern": rf"^-?\d+{fraction}$"}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` or null (unchanged when it already allows null)."""
    if "type" not in schema:
        return schema
    kinds = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
    nullable = {**schema, "type": [*kinds, "null"] if "null" not in kinds else kinds}
    if "enum" in schema and None not in schema["enum"]:
        nullable["enum"] = [*schema["enum"], None]
    return nullable


def _method_schema(method: Callable[..., Any], server: bool) -> dict[str, Any]:
    """A method field: its `extend_schema_field` annotation, else its return type hint."""
    hinted = _python_type_schema(typing.get_type_hints(method).get("return", Any))
    annotation = get_override(method, "field")
    schema: dict[str, Any]
    if isinstance(annotation, OpenApiTypes):
        schema = dict(OPENAPI_TYPE_MAPPING[annotation] or {})
    elif isinstance(annotation, serializers.ListSerializer):
        child = cast(serializers.Serializer[Any], annotation.child)
        schema = {"type": "array", "items": _object_schema(child, server)}
    elif isinstance(annotation, serializers.Serializer):
        schema = _object_schema(annotation, server)
    elif isinstance(annotation, dict):
        schema = dict(annotation)
    else:
        return hinted
    # The annotation says what a value is; the hint also says whether it may be null.
    hinted_type = hinted.get("type")
    return _nullable(schema) if isinstance(hinted_type, list) and "null" in hinted_type else schema


def _python_type_schema(hint: Any) -> dict[str, Any]:
    """The schema of a return type hint (str, int, bool, list[...], X | None)."""
    origin, arguments = typing.get_origin(hint), typing.get_args(hint)
    if origin in (UnionType, typing.Union) and NoneType in arguments:
        rest = [argument for argument in arguments if argument is not NoneType]
        inner = _python_type_schema(rest[0]) if len(rest) == 1 else {}
        return _nullable(inner)
    if origin is list:
        return {"type": "array", "items": _python_type_schema(arguments[0] if arguments else Any)}
    if origin is dict:
        return {"type": "object"}
    return dict(_PYTHON_TYPES.get(hint, {}))
