"""A script order's fields as the desk reads them before the risk gate: symbol, side,
clientId and reduce-only checked, amounts parsed strictly, the notional when the order's own
fields give it, and the gate's refusal in the exchange's own codes. A malformed field is
refused in the exchange's error shape before anything is recorded."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from trading.backpack import Side
from trading.backpack.decimals import parse_decimal
from trading.backpack.errors import BackpackError
from trading.gateway.errors import Refusal, bad_request
from trading.risk.services import RiskRefused

# The exchange's own codes for a limit, so clients map the refusal as they map its own.
_LIMIT_CODES = {"max_leverage": "MAX_LEVERAGE_REACHED"}
_POSITION_LIMITS = ("max_position_notional_market", "max_position_notional_total")


def _refusal_code(limit: str) -> str:
    if limit in _POSITION_LIMITS:
        return "POSITION_LIMIT"
    return _LIMIT_CODES.get(limit, "ORDER_LIMIT")


def order_decimal(order: dict[str, Any], name: str) -> Decimal | None:
    """The amount `name` of the order, parsed strictly (None: absent)."""
    value = order.get(name)
    if value is None:
        return None
    if isinstance(value, bool):
        raise bad_request(f"Invalid parameter `{name}`: expected a number")
    try:
        return parse_decimal(value if isinstance(value, str) else str(value), field=name)
    except BackpackError as error:
        raise bad_request(f"Invalid parameter `{name}`: {error.message}") from None


def order_notional_now(order: dict[str, Any]) -> Decimal | None:
    """The order's notional when its fields give it (None: it needs the market's price)."""
    quote_quantity = order_decimal(order, "quoteQuantity")
    if quote_quantity is not None:
        return quote_quantity
    quantity = order_decimal(order, "quantity") or Decimal(0)
    price = order_decimal(order, "price")
    if order.get("orderType") == "Limit" and price is not None:
        return quantity * price
    return None


def order_fields(order: dict[str, Any]) -> tuple[str, Side, bool]:
    """(symbol, side, reduce-only) of a well-formed order; a `Refusal` otherwise."""
    symbol = order.get("symbol")
    side = order.get("side")
    if not isinstance(symbol, str) or not symbol:
        raise bad_request("Invalid parameter `symbol`: required")
    if side not in ("Bid", "Ask"):
        raise bad_request("Invalid parameter `side`: expected Bid or Ask")
    client_id = order.get("clientId")
    if isinstance(client_id, str) and client_id.isascii() and client_id.isdigit():
        client_id = int(client_id)
    if isinstance(client_id, bool) or not isinstance(client_id, int) or not 0 <= client_id < 2**32:
        raise bad_request("Invalid parameter `clientId`: expected an integer from 0 to 4294967295")
    reduce_only = order.get("reduceOnly") in (True, "true")
    return symbol, Side(side), reduce_only


def order_quote(symbol: str) -> str:
    """The quote asset of a market symbol (the gate's currency for it)."""
    return symbol.split("_")[1] if "_" in symbol else "USDC"


def gate_refusal(refused: RiskRefused) -> Refusal:
    """The gate's refusal as the exchange refuses an order over a limit."""
    return Refusal(400, _refusal_code(refused.limit), refused.message)
