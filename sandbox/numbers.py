"""The sandbox's one number parser: plain decimal text in, an exact ``Decimal`` out.

Accepted: ASCII digits ``0-9`` with at most one decimal point (``"140.25"``, ``"0.5"``,
``".5"``, ``"5."``), a leading minus only when the caller allows negatives, at most
:data:`MAX_INTEGER_DIGITS` significant digits before the point and
:data:`MAX_FRACTION_DIGITS` after it. The value is exactly the text typed.

Refused with a :class:`NumberError` whose message says why, in words: empty text, spaces,
a plus sign, exponents (``1e5``), underscores (``1_000``), commas (``1,000`` or ``1,5``),
non-ASCII digits (``"١٢"``, ``"１２"``: digits Python's ``Decimal`` would accept), NaN and
infinities, more than one point, values too large or too precise for the engine to
quantize, and anything that is not text (a JSON number where a decimal string is due).

Integers (ids, limits, timestamps) go through :func:`parse_int`: ASCII digits only.

This module imports nothing but the standard library: the engine, the server and the seed
reader all use it, and each turns a :class:`NumberError` into its own refusal (an
``EngineError``, an ``ApiError``, a ``SeedError``) naming the field.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

MAX_INTEGER_DIGITS = 20
MAX_FRACTION_DIGITS = 20
_FAST_LENGTH = min(MAX_INTEGER_DIGITS, MAX_FRACTION_DIGITS)  # shorter text is within both
_SHOWN = 24  # characters of a refused value quoted back in the message
_EXPONENT = frozenset("eE")
_NAMES = ("nan", "snan", "inf", "infinity")


class NumberError(ValueError):
    """A refused number; ``reason`` says why (it quotes the value, not the field)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def shown(value: Any) -> str:
    """The value as quoted in a message, cut short when long."""
    text = value if isinstance(value, str) else str(value)
    if len(text) > _SHOWN:
        text = text[:_SHOWN] + "..."
    return repr(text)


def parse_decimal(value: Any, negative: bool = False) -> Decimal:
    """The exact ``Decimal`` written in ``value`` (text), or :class:`NumberError`.

    ``negative`` allows a leading minus; without it a minus is refused.
    """
    if type(value) is str:
        # the common case, "140.25": short, ASCII, digits around at most one point
        if len(value) <= _FAST_LENGTH and value.isascii() and value.replace(".", "", 1).isdigit():
            return Decimal(value)
        return _parse_text(value, negative)
    if isinstance(value, bool) or value is None:
        raise NumberError(f"expected a decimal string, got {_json_name(value)}")
    if isinstance(value, int | float | Decimal):
        raise NumberError(f"expected a decimal string, got the number {shown(value)[1:-1]}")
    raise NumberError(f"expected a decimal string, got {_json_name(value)}")


def check_decimal(number: Decimal, *, negative: bool = False) -> Decimal:
    """A ``Decimal`` built by our own code (not parsed), held to the parser's bounds."""
    if not number.is_finite():
        raise NumberError(f"{shown(number)} is not a finite number")
    if not negative and number.is_signed() and number:
        raise NumberError(f"{shown(number)} is negative")
    _check_size(format(number, "f").lstrip("-"), number)
    return number


def parse_int(value: Any, *, negative: bool = False) -> int:
    """A whole number from text of ASCII digits (or an ``int`` that is not a bool)."""
    if isinstance(value, bool):
        raise NumberError(f"expected an integer, got {_json_name(value)}")
    if isinstance(value, int):
        if value < 0 and not negative:
            raise NumberError(f"{value} is negative")
        return value
    if not isinstance(value, str):
        raise NumberError(f"expected an integer, got {_json_name(value)}")
    digits = value[1:] if negative and value.startswith("-") else value
    if digits.isascii() and digits.isdigit():
        if len(digits) > 2 * MAX_INTEGER_DIGITS:
            raise NumberError(f"{shown(value)} is too large")
        return int(value)
    if value == "":
        raise NumberError("a value is required")
    if "." in value and _looks_numeric(value):
        raise NumberError(f"{shown(value)} is not a whole number")
    return _refuse(value, negative, "an integer")


def _parse_text(text: str, negative: bool) -> Decimal:
    body = text[1:] if negative and text.startswith("-") else text
    integer, point, fraction = body.partition(".")
    if (
        body
        and body.isascii()
        and (integer or fraction)
        and (not integer or integer.isdigit())
        and (not fraction or fraction.isdigit())
    ):
        number = Decimal(text)
        _check_size(body, number)
        return number
    if not text:
        raise NumberError("a value is required")
    return _refuse(text, negative, "a decimal")


def _check_size(body: str, number: Decimal) -> None:
    integer, _point, fraction = body.partition(".")
    if len(integer.lstrip("0")) > MAX_INTEGER_DIGITS:
        raise NumberError(
            f"{shown(body)} is too large: at most {MAX_INTEGER_DIGITS} digits before the point"
        )
    if len(fraction) > MAX_FRACTION_DIGITS:
        raise NumberError(
            f"{shown(body)} is too precise: at most {MAX_FRACTION_DIGITS} digits after the point"
        )


def _looks_numeric(text: str) -> bool:
    return any(ch.isdigit() for ch in text)


def _refuse(text: str, negative: bool, kind: str) -> Any:
    """Raise the :class:`NumberError` that says best what is wrong with ``text``."""
    quoted = shown(text)
    if text.strip() != text or any(ch.isspace() for ch in text):
        raise NumberError(f"{quoted} has spaces")
    if text.lower().lstrip("+-") in _NAMES:
        raise NumberError(f"{quoted} is not a finite number")
    if not text.isascii() and any(ch.isdigit() or ch.isnumeric() for ch in text):
        raise NumberError(f"{quoted} has a digit other than 0-9")
    if text.startswith("+"):
        raise NumberError(f"{quoted} has a plus sign")
    if text.startswith("-") and not negative:
        if _is_plain(text[1:]):
            raise NumberError(f"{quoted} is negative")
    if _looks_numeric(text):
        if "_" in text:
            raise NumberError(f"{quoted} has an underscore: write digits only")
        if "," in text:
            raise NumberError(
                f"{quoted} has a comma: use a point for decimals and no thousands separators"
            )
        if _EXPONENT.intersection(text):
            raise NumberError(f"{quoted} has an exponent: write the number out in full")
        if text.count(".") > 1:
            raise NumberError(f"{quoted} has more than one decimal point")
    raise NumberError(f"{quoted} is not {kind}")


def _is_plain(text: str) -> bool:
    integer, _point, fraction = text.partition(".")
    return (
        bool(integer or fraction)
        and text.isascii()
        and (not integer or integer.isdigit())
        and (not fraction or fraction.isdigit())
    )


def _json_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return f"a {type(value).__name__}"
