"""Parse and validate wire input (``OrderExecutePayload`` and friends) into engine values.

Everything here is pure: it reads the market's rules and raises
:class:`~sandbox.engine.errors.EngineError` with Backpack's messages; nothing is changed.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sandbox.numbers import NumberError, check_decimal, parse_int
from sandbox.numbers import parse_decimal as parse_number

from . import errors
from .errors import bad_request, invalid_order
from .markets import ZERO, Market
from .orders import (
    ASK,
    BID,
    INDEX_PRICE,
    LAST_PRICE,
    LIMIT,
    MARK_PRICE,
    MARKET,
    REJECT_BOTH,
    REJECT_MAKER,
    REJECT_TAKER,
    Order,
)

SIDES = (BID, ASK)
ORDER_TYPES = (LIMIT, MARKET)
TIME_IN_FORCE = ("GTC", "IOC", "FOK")
STP_MODES = (REJECT_TAKER, REJECT_MAKER, REJECT_BOTH)
TRIGGER_BY = (LAST_PRICE, MARK_PRICE, INDEX_PRICE)
MAX_CLIENT_ID = 2**32 - 1


def parse_decimal(value: Any, name: str, *, positive: bool = True) -> Decimal:
    """A Decimal from decimal text (strictly, see :mod:`sandbox.numbers`) or a ``Decimal``.

    A clear 400 otherwise; with ``positive`` (the default) zero and negatives are refused
    with "<Name> must be positive".
    """
    try:
        if type(value) is not Decimal:  # the common case: a JSON string
            number = parse_number(value, True)
        else:  # built by our own code (the seed, the server's control routes)
            number = check_decimal(value, negative=True)
    except NumberError as exc:
        raise bad_request(f"Invalid {name}: {exc.reason}") from None
    if positive and number <= 0:
        raise bad_request(f"{name[0].upper()}{name[1:]} must be positive")
    return number


def parse_bool(value: Any, name: str) -> bool:
    """``true``/``false`` (bool or the lowercase strings a query string carries)."""
    if isinstance(value, bool):
        return value
    if value in ("true", "True"):
        return True
    if value in ("false", "False"):
        return False
    raise bad_request(f"Invalid {name}")


def parse_int_id(value: Any, name: str) -> int:
    """An integer id sent as ASCII-digit text or a number."""
    try:
        return parse_int(value)
    except NumberError as exc:
        raise bad_request(f"Invalid {name}: {exc.reason}") from None


def parse_client_id(value: Any) -> int:
    """A ``clientId``: an unsigned 32-bit integer."""
    client_id = parse_int_id(value, "clientId")
    if not 0 <= client_id <= MAX_CLIENT_ID:
        raise bad_request("Invalid clientId")
    return client_id


def _choice(payload: Mapping[str, Any], key: str, allowed: tuple[str, ...], default: str | None):
    value = payload.get(key, default)
    if value is None:
        raise bad_request(f"Missing {key}")
    if value not in allowed:
        raise bad_request(f"Invalid {key}: expected one of {', '.join(allowed)}")
    return value


def check_price(market: Market, price: Decimal, name: str = "price") -> None:
    """On the tick grid and within the market's min/max price."""
    if price % market.tick_size:
        raise bad_request(errors.PRICE_DECIMAL_TOO_LONG)
    if price < market.min_price:
        raise bad_request(errors.PRICE_BELOW_MINIMUM)
    if market.max_price is not None and price > market.max_price:
        raise bad_request(errors.PRICE_ABOVE_MAXIMUM)


def check_quantity(market: Market, quantity: Decimal) -> None:
    """On the step grid and within the market's min/max quantity."""
    if quantity % market.step_size:
        raise bad_request(errors.QUANTITY_DECIMAL_TOO_LONG)
    if quantity < market.min_quantity:
        raise bad_request(errors.QUANTITY_BELOW_MINIMUM)
    if market.max_quantity is not None and quantity > market.max_quantity:
        raise bad_request(errors.QUANTITY_ABOVE_MAXIMUM)


def _optional_price(market: Market, payload: Mapping[str, Any], key: str) -> Decimal | None:
    value = payload.get(key)
    if value is None:
        return None
    price = parse_decimal(value, key)
    check_price(market, price, key)
    return price


_PLAIN_KEYS = frozenset({"symbol", "side", "orderType", "price", "quantity", "selfTradePrevention"})
"""Keys of the common order; a payload with only these skips the optional-key lookups."""

_TRIGGER_KEYS = frozenset(
    {
        "triggerPrice",
        "triggerQuantity",
        "triggerBy",
        "takeProfitTriggerPrice",
        "takeProfitLimitPrice",
        "takeProfitTriggerBy",
        "stopLossTriggerPrice",
        "stopLossLimitPrice",
        "stopLossTriggerBy",
        "quoteQuantity",
    }
)


def parse_order(market: Market, subaccount_id: int, payload: Mapping[str, Any]) -> Order:
    """An :class:`Order` (id 0, not yet accepted) from an ``OrderExecutePayload``.

    Checks what needs only the payload and the market's rules: types, grid, bounds, the
    combinations Backpack refuses.  Book- and account-dependent checks (price band,
    postOnly, reduceOnly, funds, margin) are the engine's.
    """
    get = payload.get
    side = get("side")
    if side != BID and side != ASK:
        side = _choice(payload, "side", SIDES, None)
    order_type = get("orderType")
    if order_type != LIMIT and order_type != MARKET:
        order_type = _choice(payload, "orderType", ORDER_TYPES, None)
    order = Order(market, subaccount_id, side, order_type)
    # the common order carries none of the optional keys: skip looking each one up
    plain = payload.keys() <= _PLAIN_KEYS
    if plain:
        time_in_force = client_id = post_only = reduce_only = quote_quantity = None
    else:
        time_in_force = get("timeInForce")
        client_id = get("clientId")
        post_only = get("postOnly")
        reduce_only = get("reduceOnly")
        quote_quantity = get("quoteQuantity")
    if time_in_force is not None:
        order.time_in_force = _choice(payload, "timeInForce", TIME_IN_FORCE, "GTC")
    stp = get("selfTradePrevention")
    if stp is not None:
        if stp in STP_MODES:
            order.stp = stp
        else:
            _choice(payload, "selfTradePrevention", STP_MODES, REJECT_TAKER)  # raises
    if client_id is not None:
        order.client_id = parse_client_id(client_id)
    if post_only is not None:
        order.post_only = parse_bool(post_only, "postOnly")
    if reduce_only is not None:
        order.reduce_only = parse_bool(reduce_only, "reduceOnly")

    quantity = get("quantity")
    if quantity is not None:
        order.quantity = parse_decimal(quantity, "quantity")
    price = get("price")
    if order_type == LIMIT:
        if price is None:
            raise bad_request("Limit orders must specify a price")
        order.price = price = parse_decimal(price, "price")
        check_price(market, price)
        if quote_quantity is not None:
            raise bad_request("Limit orders cannot specify a quoteQuantity")
    else:
        if price is not None:
            raise bad_request("Market orders cannot specify a price")
        if order.post_only:
            raise invalid_order("Market orders cannot be post only")
        if quote_quantity is not None:
            if order.quantity is not None:
                raise bad_request("Specify either quantity or quoteQuantity, not both")
            order.quote_quantity = parse_decimal(quote_quantity, "quoteQuantity")
            if order.quote_quantity % market.tick_size:
                raise bad_request("Quote quantity decimal too long")

    trigger_quantity = None if plain else get("triggerQuantity")
    if type(trigger_quantity) is str and trigger_quantity.endswith("%"):
        order.trigger_percent = _percent(trigger_quantity)
    elif trigger_quantity is not None:
        order.trigger_quantity = parse_decimal(trigger_quantity, "triggerQuantity")
        check_quantity(market, order.trigger_quantity)
    if order.quantity is None and order.quote_quantity is None:
        if order.trigger_quantity is None and order.trigger_percent is None:
            if order_type == LIMIT:
                raise bad_request("Limit orders must specify a quantity")
            raise bad_request("Market orders must specify a quantity or quoteQuantity")
    if order.quantity is not None:
        check_quantity(market, order.quantity)
    if order.post_only and order.time_in_force != "GTC":
        raise invalid_order("Post only orders must be GTC")

    if plain or _TRIGGER_KEYS.isdisjoint(payload):
        if order.reduce_only and not market.is_perp:
            raise invalid_order(errors.REDUCE_ONLY_SPOT)
        return order
    order.trigger_price = _optional_price(market, payload, "triggerPrice")
    if order.trigger_price is not None:
        order.trigger_by = _choice(payload, "triggerBy", TRIGGER_BY, LAST_PRICE)
    elif order.trigger_quantity is not None or order.trigger_percent is not None:
        raise bad_request("triggerQuantity requires a triggerPrice")
    if order.trigger_percent is not None:
        if not order.reduce_only:
            raise invalid_order("A triggerQuantity in percent requires reduceOnly")
        if order.quantity is not None:
            raise bad_request("Specify either quantity or a triggerQuantity in percent")
    order.take_profit_trigger_price = _optional_price(market, payload, "takeProfitTriggerPrice")
    order.stop_loss_trigger_price = _optional_price(market, payload, "stopLossTriggerPrice")
    if order.take_profit_trigger_price is not None:
        order.take_profit_trigger_by = _choice(
            payload, "takeProfitTriggerBy", TRIGGER_BY, LAST_PRICE
        )
        order.take_profit_limit_price = _optional_price(market, payload, "takeProfitLimitPrice")
    if order.stop_loss_trigger_price is not None:
        order.stop_loss_trigger_by = _choice(payload, "stopLossTriggerBy", TRIGGER_BY, LAST_PRICE)
        order.stop_loss_limit_price = _optional_price(market, payload, "stopLossLimitPrice")
    has_trigger = (
        order.trigger_price is not None
        or order.take_profit_trigger_price is not None
        or order.stop_loss_trigger_price is not None
    )
    if has_trigger and not market.is_perp:
        raise invalid_order(errors.TRIGGER_SPOT)
    if order.reduce_only and not market.is_perp:
        raise invalid_order(errors.REDUCE_ONLY_SPOT)
    if order.quote_quantity is not None and order.reduce_only:
        raise invalid_order("Reduce only orders must specify a quantity")
    return order


def _percent(text: str) -> Decimal:
    """A ``triggerQuantity`` given as ``"N%"`` (of the position when it fires): 0 < N <= 100."""
    percent = parse_decimal(text[:-1], "triggerQuantity")
    if percent > 100:
        raise bad_request("Invalid triggerQuantity: a percent must be at most 100")
    return percent


def split_trigger_quantity(order: Order) -> Decimal:
    """The base quantity a trigger order will carry once it fires."""
    if order.trigger_quantity is not None:
        return order.trigger_quantity
    return order.quantity if order.quantity is not None else ZERO
