"""A script order's fields as the desk reads them before the risk gate: symbol, side,
clientId (when the script chose one) and reduce-only checked, amounts parsed strictly, the
notional as the order may execute (a trigger order with its triggerQuantity, at its trigger
price), and the gate's refusal in the exchange's own codes. A malformed field is refused in
the exchange's error shape before anything is recorded."""

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


def order_size(order: dict[str, Any]) -> Decimal | None:
    """The base quantity the order may execute: the larger of `quantity` and
    `triggerQuantity` (a trigger order carries one of them once it fires; None: neither).

    A `triggerQuantity` in percent of the position ("50%") is refused: it cannot be sized
    before it fires, and the exchange takes it only on a reduce-only order, which the gate
    passes without sizing it."""
    trigger_quantity = order.get("triggerQuantity")
    if isinstance(trigger_quantity, str) and trigger_quantity.strip().endswith("%"):
        raise Refusal(400, "INVALID_ORDER", _percent_message(order))
    sizes = [order_decimal(order, "quantity"), order_decimal(order, "triggerQuantity")]
    known = [size for size in sizes if size is not None]
    return max(known) if known else None


def _percent_message(order: dict[str, Any]) -> str:
    symbol = str(order.get("symbol", ""))
    base = symbol.split("_")[0] if "_" in symbol else "the base asset"
    return (
        "A triggerQuantity in percent of the position requires reduceOnly: the desk cannot "
        "size an order that may open a position before it fires. Give the triggerQuantity "
        f"in {base}."
    )


def order_price(order: dict[str, Any]) -> Decimal | None:
    """The price the order is sized at when its fields give it (None: the market's price).

    The larger of the prices it may execute at: a limit order's `price` and, for a stop,
    its `triggerPrice` (a stop-limit selling below its trigger fills near the trigger); a
    market order's `triggerPrice`, as the ticket sizes a stop. A market order's `price` is
    not counted: the exchange refuses it."""
    prices = [order_decimal(order, "triggerPrice")]
    if order.get("orderType") == "Limit":
        prices.append(order_decimal(order, "price"))
    known = [price for price in prices if price is not None]
    return max(known) if known else None


def order_notional(order: dict[str, Any], market_price: Decimal | None = None) -> Decimal | None:
    """The order's notional in its quote asset, on the strict side: its size (`order_size`)
    at its price (`order_price`, else `market_price`), or its `quoteQuantity` when that is
    larger or the order has no base size. None: it needs the market's price. An order with
    no size at all is refused (in the exchange's error shape) before it is sent.

    Take-profit / stop-loss prices on an order add nothing: they become reduce-only orders
    closing what this one filled, which reduce risk."""
    quote_quantity = order_decimal(order, "quoteQuantity")
    size = order_size(order)
    if size is None:
        if quote_quantity is None:
            raise bad_request(
                "Invalid parameter `quantity`: required (or `quoteQuantity` on a market order, "
                "`triggerQuantity` on a trigger order)"
            )
        return quote_quantity
    price = order_price(order)
    if price is None:
        price = market_price
    if price is None:
        return None
    notional = size * price
    return notional if quote_quantity is None else max(notional, quote_quantity)


def order_notional_now(order: dict[str, Any]) -> Decimal | None:
    """The order's notional when its own fields give it (None: it needs the market's price)."""
    return order_notional(order)


def order_fields(order: dict[str, Any]) -> tuple[str, Side, bool]:
    """(symbol, side, reduce-only) of a well-formed order; a `Refusal` otherwise."""
    symbol = order.get("symbol")
    side = order.get("side")
    if not isinstance(symbol, str) or not symbol:
        raise bad_request("Invalid parameter `symbol`: required")
    if side not in ("Bid", "Ask"):
        raise bad_request("Invalid parameter `side`: expected Bid or Ask")
    order_client_id(order)
    reduce_only = order.get("reduceOnly") in (True, "true")
    return symbol, Side(side), reduce_only


def order_client_id(order: dict[str, Any]) -> int | None:
    """The clientId the script chose (None: none, the desk gives one); a `Refusal` for one
    that is not an integer from 0 to 2^32 - 1."""
    client_id = order.get("clientId")
    if client_id is None:
        return None
    if isinstance(client_id, str) and client_id.isascii() and client_id.isdigit():
        client_id = int(client_id)
    if isinstance(client_id, bool) or not isinstance(client_id, int) or not 0 <= client_id < 2**32:
        raise bad_request("Invalid parameter `clientId`: expected an integer from 0 to 4294967295")
    return client_id


def order_quote(symbol: str) -> str:
    """The quote asset of a market symbol (the gate's currency for it)."""
    return symbol.split("_")[1] if "_" in symbol else "USDC"


def gate_refusal(refused: RiskRefused) -> Refusal:
    """The gate's refusal as the exchange refuses an order over a limit; the gate audited it
    already as it refused (`Refusal.audited`)."""
    refusal = Refusal(400, _refusal_code(refused.limit), refused.message)
    refusal.audited = True
    return refusal
