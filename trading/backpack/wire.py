"""Small, fast helpers for reading the exchange's JSON into typed values.

A parser raises ``FieldError`` naming the field; ``parse`` turns it (and any stray
``KeyError``/``TypeError``) into ``MalformedResponseError`` naming the route and field.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, TypeVar

from .decimals import is_plain
from .errors import MalformedResponseError

T = TypeVar("T")
_INTEGER = re.compile(r"-?[0-9]{1,30}")


class FieldError(Exception):
    """A field of a response is missing or has the wrong type."""

    def __init__(self, field: str, value: Any = None, expected: str = "a value") -> None:
        super().__init__(field)
        self.field = field
        self.value = value
        self.expected = expected


class TolerantEnum(StrEnum):
    """A string enum that accepts values it does not know (the exchange adds new ones)."""

    @classmethod
    def _missing_(cls, value: object) -> Any:
        if isinstance(value, str):
            member = str.__new__(cls, value)
            member._name_ = value.upper()
            member._value_ = value
            return member
        return None


def dec(obj: dict[str, Any], key: str) -> Decimal:
    """A required decimal field (sent as a string; integers accepted)."""
    try:
        value = obj[key]
    except KeyError:
        raise FieldError(key, None, "a decimal") from None
    return to_decimal(value, key)


def dec_opt(obj: dict[str, Any], key: str) -> Decimal | None:
    """An optional decimal field (missing, null or empty gives ``None``)."""
    value = obj.get(key)
    if value is None or value == "":
        return None
    return to_decimal(value, key)


def to_decimal(value: Any, key: str) -> Decimal:
    """Convert a wire value to ``Decimal`` or raise ``FieldError``.

    Text must be a plain decimal (ASCII digits, one point, optional minus): the exchange
    never sends exponents, separators, other scripts' digits, NaN or infinities, so such a
    value is a malformed answer rather than a number to guess at."""
    kind = type(value)
    if kind is str:
        if is_plain(value):
            return Decimal(value)
    elif kind is int:
        return Decimal(value)
    elif kind is float and math.isfinite(value):
        return Decimal(repr(value))
    raise FieldError(key, value, "a decimal")


def text(obj: dict[str, Any], key: str) -> str:
    """A required string field; integers are accepted and turned into text (ids)."""
    try:
        value = obj[key]
    except KeyError:
        raise FieldError(key, None, "a string") from None
    if type(value) is str:
        return value
    if type(value) is int:
        return str(value)
    raise FieldError(key, value, "a string")


def text_opt(obj: dict[str, Any], key: str) -> str | None:
    """An optional string (or integer id) field."""
    value = obj.get(key)
    if value is None:
        return None
    if type(value) is str:
        return value
    if type(value) is int:
        return str(value)
    raise FieldError(key, value, "a string")


def integer(obj: dict[str, Any], key: str) -> int:
    """A required integer field (integers sent as strings accepted)."""
    try:
        value = obj[key]
    except KeyError:
        raise FieldError(key, None, "an integer") from None
    return to_int(value, key)


def int_opt(obj: dict[str, Any], key: str) -> int | None:
    """An optional integer field."""
    value = obj.get(key)
    if value is None or value == "":
        return None
    return to_int(value, key)


def to_int(value: Any, key: str) -> int:
    """Convert a wire value (int or digit string) to ``int`` or raise ``FieldError``."""
    if type(value) is int:
        return value
    if type(value) is str and _INTEGER.fullmatch(value):
        return int(value)
    raise FieldError(key, value, "an integer")


def boolean(obj: dict[str, Any], key: str, default: bool | None = None) -> bool:
    """A boolean field; ``default`` when missing (required when ``default`` is None)."""
    value = obj.get(key)
    if value is None:
        if default is None:
            raise FieldError(key, None, "true or false")
        return default
    if value is True or value is False:
        return value
    raise FieldError(key, value, "true or false")


def enum(cls: type[T], obj: dict[str, Any], key: str) -> T:
    """A required enum field (unknown values tolerated)."""
    try:
        value = obj[key]
    except KeyError:
        raise FieldError(key, None, "a string") from None
    if type(value) is not str:
        raise FieldError(key, value, "a string")
    return cls._value2member_map_.get(value) or cls(value)  # type: ignore[attr-defined]


def enum_opt(cls: type[T], obj: dict[str, Any], key: str) -> T | None:
    """An optional enum field."""
    value = obj.get(key)
    if value is None:
        return None
    if type(value) is not str:
        raise FieldError(key, value, "a string")
    return cls._value2member_map_.get(value) or cls(value)  # type: ignore[attr-defined]


def timestamp(obj: dict[str, Any], key: str) -> datetime:
    """A time that arrives as epoch milliseconds or a naive ISO date-time (UTC)."""
    value = obj.get(key)
    if value is None:
        raise FieldError(key, None, "a time")
    return to_datetime(value, key)


def timestamp_opt(obj: dict[str, Any], key: str) -> datetime | None:
    """An optional time field."""
    value = obj.get(key)
    return None if value is None else to_datetime(value, key)


def to_datetime(value: Any, key: str) -> datetime:
    """Epoch ms / µs (int or digits) or ISO text to an aware UTC ``datetime``."""
    if type(value) is str and not (value.isascii() and value.isdigit()):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise FieldError(key, value, "a time") from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    number = to_int(value, key)
    try:
        if number > 10**14:  # microseconds
            return datetime.fromtimestamp(number / 1_000_000, UTC)
        return datetime.fromtimestamp(number / 1000, UTC)
    except (OverflowError, OSError, ValueError):
        raise FieldError(key, value, "a time") from None


def obj_of(value: Any, where: str) -> dict[str, Any]:
    """Check that ``value`` is a JSON object."""
    if type(value) is not dict:
        raise FieldError(where, value, "an object")
    return value


def list_of(value: Any, where: str = "(body)") -> list[Any]:
    """Check that ``value`` is a JSON array."""
    if type(value) is not list:
        raise FieldError(where, value, "a list")
    return value


def parse(route: str, parser: Callable[[Any], T], payload: Any) -> T:
    """Run ``parser`` on ``payload``; any shape problem becomes ``MalformedResponseError``."""
    try:
        return parser(payload)
    except FieldError as exc:
        shown = repr(exc.value)[:60]
        raise MalformedResponseError(
            f"The exchange's answer to {route} is malformed: field '{exc.field}' should be "
            f"{exc.expected}, got {shown}.",
            route=route,
            field=exc.field,
        ) from None
    except (KeyError, TypeError, AttributeError, IndexError, ValueError, ArithmeticError) as exc:
        raise MalformedResponseError(
            f"The exchange's answer to {route} is malformed ({type(exc).__name__}: {exc}).",
            route=route,
        ) from None


def parse_list(route: str, item_parser: Callable[[dict[str, Any]], T], payload: Any) -> list[T]:
    """Parse a JSON array of objects with ``item_parser``."""

    def run(value: Any) -> list[T]:
        return [item_parser(obj_of(item, "(item)")) for item in list_of(value)]

    return parse(route, run, payload)
