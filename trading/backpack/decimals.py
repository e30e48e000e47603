"""The dashboard side's one number parser: what a person typed (or a caller passed) as a
``Decimal``, strictly.

Accepted text is plain ASCII digits with at most one decimal point (``1250``, ``0.5``,
``.5``, ``12.``), surrounded by optional whitespace, with a leading minus only where the
caller allows a negative value. Everything ``Decimal()`` would also read but a person does
not mean as a plain amount is refused with a sentence that quotes what was typed::

    '1e5'      exponent              '1_000'   underscore
    '1,000.5'  thousands separator   '1,5'     comma as decimal point
    '١٢'       non-ASCII digits      'NaN'     not a number (also infinities)
    '+5'       plus sign             '-5'      negative where it is not allowed
    ''         empty where required  values with too many digits to store or quantize

Refusals raise ``InvalidNumberError`` (part of the client's ``BackpackError`` tree); its
``reason`` is the sentence without the field's name (for a form, which shows the label),
its ``message`` the sentence with it (for everything else).
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Context, Decimal, Inexact, InvalidOperation
from typing import Any

from .errors import InvalidNumberError

MAX_INTEGER_DIGITS = 18
MAX_PLACES = 18
MAX_TEXT = 80  # longer text is refused before any parsing

_PLAIN = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_NOT_NUMBERS = {"nan", "snan", "inf", "infinity"}
_SHOWN = 24
_GAPS = " '’\u00a0\u2009\u202f"  # spaces and apostrophes people group digits with


def is_plain(text: str) -> bool:
    """Is ``text`` exactly a plain decimal (no whitespace, sign only a leading minus)?"""
    return _PLAIN.fullmatch(text) is not None


def shown(text: str) -> str:
    """What was typed, quoted for a message (long text shortened)."""
    if len(text) > _SHOWN:
        text = text[: _SHOWN - 1] + "…"
    return f"'{text}'"


def parse_decimal(
    value: Any,
    *,
    field: str,
    allow_negative: bool = False,
    required: bool = True,
    max_integer_digits: int = MAX_INTEGER_DIGITS,
    max_places: int = MAX_PLACES,
    max_significant: int | None = None,
) -> Decimal | None:
    """Read ``value`` (text, int or ``Decimal``) as a ``Decimal`` or raise ``InvalidNumberError``.

    Text must be plain (see the module docstring); an ``int`` or a finite ``Decimal`` passes
    the same sign and size checks; floats and booleans are refused (money is never a float).
    Empty text or ``None`` gives ``None`` when not ``required``. The result is the exact value
    typed; trailing zeros beyond ``max_places`` are dropped (the value does not change).
    ``max_significant`` bounds the significant digits (where the value is stored in a column
    that keeps no more, e.g. SQLite's 15).
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise _refuse(
                field, f"{field} is required.", "A number is required here.", "", "required"
            )
        return None
    if isinstance(value, bool | float):
        kind = "a float" if isinstance(value, float) else "true or false"
        reason = f"must be given as a decimal, not {kind}."
        raise _refuse(field, f"{field} {reason}", f"It {reason}", str(value), "type")
    if isinstance(value, Decimal):
        if not value.is_finite():
            return _fail(field, str(value), "is not a number.", "not_a_number")
        number, text = value, ""  # written out only for a message
    elif isinstance(value, int):
        number, text = Decimal(value), ""
    elif isinstance(value, str):
        text = value.strip()
        if len(text) > MAX_TEXT:
            return _fail(field, text, "is too long to be an amount.", "too_long")
        if not _PLAIN.fullmatch(text):
            return _fail(field, text, *_diagnose(text))
        number = Decimal(text)
    else:
        reason = f"must be a decimal, not {type(value).__name__}."
        raise _refuse(field, f"{field} {reason}", f"It {reason}", "", "type")
    if number.is_signed() and not allow_negative:
        said = text or _as_text(number)
        return _fail(field, said, "is negative; this amount cannot be below zero.", "negative")
    number = _bounded(number, text, field, max_integer_digits, max_places)
    if max_significant is not None and number and _significant(number) > max_significant:
        return _fail(
            field,
            text or _as_text(number),
            f"has more digits than can be stored exactly: at most {max_significant} "
            "significant digits.",
            "too_precise",
        )
    return number


def _as_text(number: Decimal) -> str:
    """A caller's Decimal as plain text for a message, unless that is a million zeros long."""
    small = abs(number.adjusted()) < MAX_TEXT and abs(number.as_tuple().exponent) < MAX_TEXT
    return format(number, "f") if small else str(number)


def _significant(number: Decimal) -> int:
    """Digits from the first non-zero one to the last non-zero one (1200.50 -> 5)."""
    return len(number.normalize().as_tuple().digits)


def _bounded(
    number: Decimal, text: str, field: str, max_integer_digits: int, max_places: int
) -> Decimal:
    if number and number.adjusted() + 1 > max_integer_digits:
        return _fail(
            field,
            text or _as_text(number),
            f"is too large: at most {max_integer_digits} digits before the decimal point.",
            "too_large",
        )
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > max_places:
        # Trailing zeros past the limit do not change the value; anything else would.
        context = Context(prec=max_integer_digits + max_places + 2, traps=[Inexact])
        try:
            number = number.quantize(Decimal(1).scaleb(-max_places), context=context)
        except (Inexact, InvalidOperation):
            return _fail(
                field,
                text or _as_text(number),
                f"has too many decimals: at most {max_places} after the decimal point.",
                "too_precise",
            )
    return number


def _diagnose(text: str) -> tuple[str, str]:
    """Why ``text`` (not plain) is refused: the sentence after the quoted text, and a code."""
    bare = text.lstrip("+-")
    if bare.lower() in _NOT_NUMBERS:
        return "is not a number.", "not_a_number"
    if any(not ch.isascii() and _is_digit(ch) for ch in text):
        return "has a digit that is not 0-9; type the number with plain digits.", "digits"
    if bare[:1].isdigit() and "e" in bare.lower() and _digits_only(bare.lower(), "e+-."):
        return (
            "has an exponent; write the number out in full, like 1500 rather than 1.5e3.",
            "exponent",
        )
    if "_" in text and _digits_only(bare, "_."):
        return "has an underscore; write only digits and one decimal point.", "separator"
    if "," in text and _digits_only(bare, ",."):
        return (
            "has a comma; write no thousands separators and use a point for decimals, like 1234.5.",
            "separator",
        )
    if any(ch in _GAPS for ch in text) and _digits_only(bare, _GAPS + "."):
        return "has a space or separator inside; write only digits and one decimal point.", (
            "separator"
        )
    if text.startswith("+") and _PLAIN.fullmatch(text[1:]):
        return "has a plus sign; write the number without it.", "sign"
    if text.count(".") > 1 and _digits_only(bare, "."):
        return "has more than one decimal point.", "points"
    return "is not a number.", "not_a_number"


def _is_digit(ch: str) -> bool:
    return ch.isdigit() or unicodedata.decimal(ch, None) is not None


def _digits_only(text: str, extra: str) -> bool:
    return any(ch.isdigit() for ch in text) and all(
        (ch.isascii() and ch.isdigit()) or ch in extra for ch in text
    )


def _fail(field: str, text: str, rest: str, kind: str) -> Any:
    reason = f"{shown(text)} {rest}"
    raise _refuse(field, f"{field} {reason}", reason, text, kind)


def _refuse(field: str, message: str, reason: str, text: str, kind: str) -> InvalidNumberError:
    return InvalidNumberError(message, field=field, reason=reason, text=text, kind=kind)
