"""Typed reading of query and body parameters, with messages that name the parameter."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from sandbox.numbers import NumberError, parse_int
from sandbox.numbers import parse_decimal as parse_number
from sandbox.server.errors import ApiError, bad_request

MAX_INT64 = 2**63 - 1
MAX_UINT32 = 2**32 - 1


class Params:
    """One request's parameters (query pairs or a JSON object body), read by name."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self.values = values

    @classmethod
    def from_pairs(cls, pairs: Iterable[tuple[str, str]]) -> Params:
        """From query pairs; a repeated key keeps its values as a list."""
        values: dict[str, Any] = {}
        for key, value in pairs:
            if key in values:
                previous = values[key]
                values[key] = (
                    [*previous, value] if isinstance(previous, list) else [previous, value]
                )
            else:
                values[key] = value
        return cls(values)

    def _raw(self, name: str, required: bool) -> Any:
        value = self.values.get(name)
        if value is None or value == "":
            if required:
                raise bad_request(f"Missing required parameter `{name}`")
            return None
        return value

    def string(self, name: str, *, required: bool = False, max_length: int = 256) -> str | None:
        """A string parameter."""
        value = self._raw(name, required)
        if value is None:
            return None
        if not isinstance(value, str):
            raise bad_request(f"Invalid parameter `{name}`: expected a string")
        if len(value) > max_length:
            raise bad_request(f"Invalid parameter `{name}`: longer than {max_length} characters")
        return value

    def choice(self, name: str, options: Iterable[str], *, required: bool = False) -> str | None:
        """A string parameter that must be one of ``options``."""
        value = self.string(name, required=required)
        allowed = tuple(options)
        if value is not None and value not in allowed:
            raise bad_request(
                f"Invalid parameter `{name}`: {value!r} is not one of {', '.join(allowed)}"
            )
        return value

    def integer(
        self,
        name: str,
        *,
        required: bool = False,
        minimum: int = 0,
        maximum: int = MAX_INT64,
        default: int | None = None,
    ) -> int | None:
        """A whole-number parameter (query text or JSON number) within bounds."""
        value = self._raw(name, required)
        if value is None:
            return default
        try:
            value = parse_int(value, negative=minimum < 0)
        except NumberError as exc:
            raise bad_request(f"Invalid parameter `{name}`: {exc.reason}") from None
        if value < minimum or value > maximum:
            raise bad_request(
                f"Invalid parameter `{name}`: must be between {minimum} and {maximum}"
            )
        return value

    def boolean(self, name: str, *, default: bool = False) -> bool:
        """A boolean parameter: JSON true/false or the text ``true`` / ``false``."""
        value = self._raw(name, False)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        if value == "true":
            return True
        if value == "false":
            return False
        raise bad_request(f"Invalid parameter `{name}`: expected true or false")

    def decimal(self, name: str, *, required: bool = False) -> Decimal | None:
        """A decimal parameter: decimal text, parsed strictly (a JSON number is refused)."""
        value = self._raw(name, required)
        if value is None:
            return None
        return parse_decimal(name, value)


def parse_decimal(name: str, value: Any, *, negative: bool = False) -> Decimal:
    """Read ``value`` (decimal text, never a JSON number) strictly or raise a 400 naming ``name``.

    The rules are :mod:`sandbox.numbers`'; ``negative`` allows a leading minus.
    """
    try:
        return parse_number(value, negative=negative)
    except NumberError as exc:
        raise bad_request(f"Invalid parameter `{name}`: {exc.reason}") from None


ORDER_FIELDS: dict[str, str] = {
    "autoLend": "bool",
    "autoLendRedeem": "bool",
    "autoBorrow": "bool",
    "autoBorrowRepay": "bool",
    "brokerId": "uint16",
    "clientId": "uint32",
    "orderType": "enum:Market,Limit",
    "postOnly": "bool",
    "price": "decimal",
    "quantity": "decimal",
    "quoteQuantity": "decimal",
    "reduceOnly": "bool",
    "selfTradePrevention": "enum:RejectTaker,RejectMaker,RejectBoth",
    "side": "enum:Bid,Ask",
    "stopLossLimitPrice": "decimal",
    "stopLossTriggerBy": "enum:MarkPrice,LastPrice,IndexPrice",
    "stopLossTriggerPrice": "decimal",
    "symbol": "string",
    "takeProfitLimitPrice": "decimal",
    "takeProfitTriggerBy": "enum:MarkPrice,LastPrice,IndexPrice",
    "takeProfitTriggerPrice": "decimal",
    "timeInForce": "enum:GTC,IOC,FOK",
    "triggerBy": "enum:MarkPrice,LastPrice,IndexPrice",
    "triggerPrice": "decimal",
    "triggerQuantity": "decimal",
    "slippageTolerance": "decimal",
    "slippageToleranceType": "enum:TickSize,Percent",
}
ORDER_REQUIRED = ("orderType", "side", "symbol")
PERCENT_FIELDS = frozenset({"triggerQuantity"})
"""Decimal fields that may also be a percent (``"50%"``), as Backpack's clients send them."""


def order_payload(raw: Any) -> dict[str, Any]:
    """Check an ``OrderExecutePayload`` against the spec's field types.

    Returns the payload with decimals as strings; raises 400 naming the first bad field.
    """
    if not isinstance(raw, dict):
        raise bad_request("Invalid order: expected a JSON object")
    for name in ORDER_REQUIRED:
        if raw.get(name) is None:
            raise bad_request(f"Missing required parameter `{name}`")
    clean: dict[str, Any] = {}
    for name, value in raw.items():
        kind = ORDER_FIELDS.get(name)
        if kind is None:
            raise bad_request(f"Unknown parameter `{name}`")
        if value is None:
            continue
        if name in PERCENT_FIELDS and isinstance(value, str) and value.endswith("%"):
            _check_field(name, kind, value[:-1])  # "50%": of the position when it fires
            clean[name] = value
            continue
        clean[name] = _check_field(name, kind, value)
    return clean


def _check_field(name: str, kind: str, value: Any) -> Any:
    if kind == "bool":
        if not isinstance(value, bool):
            raise bad_request(f"Invalid parameter `{name}`: expected true or false")
        return value
    if kind in ("uint16", "uint32"):
        top = 65535 if kind == "uint16" else MAX_UINT32
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= top:
            raise bad_request(f"Invalid parameter `{name}`: expected an integer 0..{top}")
        return value
    if kind == "decimal":
        number = parse_decimal(name, value, negative=True)
        if number.is_signed():  # "-0" too: the exchange's numbers carry no minus there
            if "rice" in name:
                raise ApiError(
                    400, "INVALID_PRICE", f"Invalid parameter `{name}`: price is negative"
                )
            raise ApiError(
                400, "INVALID_QUANTITY", f"Invalid parameter `{name}`: quantity is negative"
            )
        return value
    if kind == "string":
        if not isinstance(value, str) or len(value) > 64:
            raise bad_request(f"Invalid parameter `{name}`: expected a string")
        return value
    options = kind.removeprefix("enum:").split(",")
    if value not in options:
        raise bad_request(f"Invalid parameter `{name}`: expected one of {', '.join(options)}")
    return value
