"""Order placement and cancellation that never duplicates and never fails on a race.

Every order carries a ``clientId`` (uint32). When the answer to a placement is lost (timeout,
connection cut, 5xx) the client does not resend blindly: it looks the ``clientId`` up in the
open orders and the order history (``reconcile.py``), and resends only when the exchange has
no such order.
Cancelling an order that is already cancelled or filled returns its final state.
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from . import routes as R
from .account_types import Order, OrderType, Side, parse_order_or_none
from .client_session import ClientSession
from .decimals import parse_decimal
from .errors import (
    BackpackError,
    ExchangeUnavailableError,
    InvalidOrderError,
    OrderNotFoundError,
    ServerError,
)
from .market_types import Market
from .reconcile import find_orders, reconcile
from .rules import quick_check, validate_order
from .signing import Credentials
from .wire import list_of, obj_of, parse

UNKNOWN_OUTCOME = (ExchangeUnavailableError, ServerError)
MAX_CLIENT_ID = 2**32 - 1


_next_client_id = itertools.count(secrets.randbelow(MAX_CLIENT_ID) + 1)


def new_client_id() -> int:
    """A non-zero uint32 client order id: a counter from a random start, so ids from this
    process never repeat until 2**32 orders and two processes rarely collide."""
    return next(_next_client_id) % MAX_CLIENT_ID + 1


class OrderMethods:
    """Order endpoints, mixed into ``BackpackClient``."""

    session: ClientSession
    credentials: Credentials | None
    label: str
    resend_attempts: int = 3
    reconcile_delay_s: float = 0.1

    # Provided by BackpackClient: the one signed call of every endpoint.
    _call: Callable[..., Awaitable[Any]]

    async def order_params(
        self,
        symbol: str,
        side: Side | str,
        order_type: OrderType | str,
        *,
        quantity: Decimal | str | None = None,
        price: Decimal | str | None = None,
        quote_quantity: Decimal | str | None = None,
        client_id: int | None = None,
        validate: bool = True,
        **extra: Any,
    ) -> dict[str, Any]:
        """Build (and by default validate against the market's rules) one order's body.

        ``extra`` takes the other ``OrderExecutePayload`` fields in snake case."""
        market = None
        if validate:
            market = self.session.markets.fresh(symbol) or await self.session.markets.get(symbol)
        options = {
            _WIRE_NAMES.get(key) or _camel(key): value
            for key, value in extra.items()
            if value is not None
        }
        return order_body(
            market, symbol, side, order_type, quantity, price, quote_quantity, client_id, options
        )

    async def place_order(
        self,
        symbol: str,
        side: Side | str,
        order_type: OrderType | str,
        *,
        quantity: Decimal | str | None = None,
        price: Decimal | str | None = None,
        quote_quantity: Decimal | str | None = None,
        time_in_force: str | None = None,
        post_only: bool | None = None,
        reduce_only: bool | None = None,
        self_trade_prevention: str | None = None,
        client_id: int | None = None,
        validate: bool = True,
        take_profit_trigger_price: Decimal | None = None,
        take_profit_limit_price: Decimal | None = None,
        stop_loss_trigger_price: Decimal | None = None,
        stop_loss_limit_price: Decimal | None = None,
        **extra: Any,
    ) -> Order:
        """``POST /api/v1/order``: place one order; exactly once even if the answer is lost.

        Validates against the market's tick and step first (``InvalidOrderError`` naming
        the field), gives the order a ``clientId`` if none was given, and on a lost answer
        reconciles by that ``clientId`` before deciding to resend. Other fields of the
        spec's ``OrderExecutePayload`` may be given in snake case (``auto_borrow=True``,
        ``trigger_price=...``).
        """
        market = None
        if validate:
            market = self.session.markets.fresh(symbol) or await self.session.markets.get(symbol)
        named = (
            ("timeInForce", time_in_force),
            ("postOnly", post_only),
            ("reduceOnly", reduce_only),
            ("selfTradePrevention", self_trade_prevention),
            ("takeProfitTriggerPrice", take_profit_trigger_price),
            ("takeProfitLimitPrice", take_profit_limit_price),
            ("stopLossTriggerPrice", stop_loss_trigger_price),
            ("stopLossLimitPrice", stop_loss_limit_price),
        )
        options: dict[str, Any] = {name: value for name, value in named if value is not None}
        for key, value in extra.items():
            if value is not None:
                options[_WIRE_NAMES.get(key) or _camel(key)] = value
        params = order_body(
            market, symbol, side, order_type, quantity, price, quote_quantity, client_id, options
        )
        return await self.send_order(params)

    async def send_order(self, params: dict[str, Any]) -> Order:
        """``POST /api/v1/order`` with a body from ``order_body`` / ``order_params`` (which
        gave it a ``clientId``): exactly once, reconciling a lost answer by that id."""
        last_error: BackpackError | None = None
        for _ in range(self.resend_attempts):
            sent_at_ms = self.session.clock.now_ms()
            try:
                payload = await self._call(R.ORDER_PLACE, params, retry=False)
            except UNKNOWN_OUTCOME as error:
                last_error = error
                if not getattr(error, "maybe_sent", True):
                    # Never left this machine: nothing to reconcile, try again shortly.
                    await asyncio.sleep(self.reconcile_delay_s)
                    continue
                found = await self._reconcile(params, sent_at_ms)
                if found is not None:
                    return found
                continue
            except InvalidOrderError as error:
                if error.code == "INVALID_MARKET":
                    self.session.markets.invalidate()
                raise
            return parse(R.ORDER_PLACE.label, Order.from_wire, payload)
        assert last_error is not None
        raise last_error

    async def find_order(self, symbol: str, client_id: int) -> Order | None:
        """The order with ``client_id`` among open orders, then in order history."""
        return (await self.find_orders([(symbol, client_id)])).get(client_id)

    async def find_orders(self, wanted: Iterable[tuple[str, int]]) -> dict[int, Order]:
        """Orders by ``clientId`` for ``(symbol, clientId)`` pairs (``reconcile.find_orders``)."""
        return await find_orders(self, wanted)  # type: ignore[arg-type]

    async def _reconcile(self, body: dict[str, Any], sent_at_ms: int) -> Order | None:
        """After a lost answer: is the order on the exchange? ``None``: resending is safe."""
        return (await self._reconcile_many([body], sent_at_ms)).get(body["clientId"])

    async def _reconcile_many(
        self, bodies: list[dict[str, Any]], sent_at_ms: int
    ) -> dict[int, Order]:
        """Find the orders of a request whose answer was lost (``reconcile.reconcile``)."""
        return await reconcile(
            self,  # type: ignore[arg-type]
            bodies,
            sent_at_ms,
            window_ms=self.session.window_ms,
            now_ms=self.session.clock.now_ms,
            attempts=self.resend_attempts,
            delay_s=self.reconcile_delay_s,
        )

    async def place_orders(
        self, orders: Sequence[Mapping[str, Any]]
    ) -> list[Order | BackpackError]:
        """``POST /api/v1/orders``: place a batch; one result (order or error) per order.

        Each item takes the keyword arguments of ``place_order`` (``symbol``, ``side``,
        ``order_type``, ``quantity``, ``price``...). Lost answers are reconciled per
        ``clientId``; only orders the exchange does not have are resent.
        """
        bodies = []
        for item in orders:
            spec = dict(item)
            bodies.append(
                await self.order_params(
                    spec.pop("symbol"), spec.pop("side"), spec.pop("order_type"), **spec
                )
            )
        results: dict[int, Order | BackpackError] = {}
        pending = bodies
        for _ in range(self.resend_attempts):
            sent_at_ms = self.session.clock.now_ms()
            try:
                payload = await self._call(R.ORDERS_BATCH, pending, retry=False)
            except UNKNOWN_OUTCOME as error:
                if getattr(error, "maybe_sent", True):
                    found = await self._reconcile_many(pending, sent_at_ms)
                else:
                    found = {}
                    await asyncio.sleep(self.reconcile_delay_s)
                still = []
                for body in pending:
                    order = found.get(body["clientId"])
                    results[body["clientId"]] = error if order is None else order
                    if order is None:
                        still.append(body)
                pending = still
                if not pending:
                    break
                continue
            for body, result in zip(
                pending, parse(R.ORDERS_BATCH.label, _batch, payload), strict=False
            ):
                results[body["clientId"]] = result
            break
        return [results[b["clientId"]] for b in bodies]

    async def cancel_order(
        self, symbol: str, *, order_id: str | None = None, client_id: int | None = None
    ) -> Order:
        """``DELETE /api/v1/order``: cancel; an order already gone returns its final state."""
        if order_id is None and client_id is None:
            raise InvalidOrderError("Give the order id or the clientId to cancel.", field="orderId")
        params = {"symbol": symbol, "orderId": order_id, "clientId": client_id}
        try:
            payload = await self._call(R.ORDER_CANCEL, params, retry=True)
        except (OrderNotFoundError, InvalidOrderError) as error:
            if error.code not in (None, "RESOURCE_NOT_FOUND", "INVALID_ORDER"):
                raise
            final = await self._final_state(symbol, order_id, client_id)
            if final is None:
                raise
            return final
        order = parse(R.ORDER_CANCEL.label, parse_order_or_none, payload)
        if order is None:
            final = await self._final_state(symbol, order_id, client_id)
            if final is None:
                raise OrderNotFoundError(f"Order {order_id or client_id} was not found.")
            return final
        return order

    async def _final_state(
        self, symbol: str, order_id: str | None, client_id: int | None
    ) -> Order | None:
        history = await self.order_history(symbol=symbol, order_id=order_id, limit=1000)
        for order in history:
            if (order_id is not None and order.id == order_id) or (
                client_id is not None and order.client_id == client_id
            ):
                return order
        return None

    async def cancel_all_orders(self, symbol: str, *, order_type: str | None = None) -> list[Order]:
        """``DELETE /api/v1/orders``: cancel every open order of a market (safe to repeat)."""
        payload = await self._call(
            R.ORDERS_CANCEL_ALL, {"symbol": symbol, "orderType": order_type}, retry=True
        )
        if not payload:
            return []
        return parse(
            R.ORDERS_CANCEL_ALL.label,
            lambda p: [Order.from_wire(obj_of(o, "(item)")) for o in list_of(p)],
            payload,
        )


def order_body(
    market: Market | None,
    symbol: str,
    side: Side | str,
    order_type: OrderType | str,
    quantity: Decimal | str | None,
    price: Decimal | str | None,
    quote_quantity: Decimal | str | None,
    client_id: int | None,
    options: dict[str, Any],
) -> dict[str, Any]:
    """One order's wire body; with ``market``, checked and put on its tick and step grid
    first (``InvalidOrderError`` naming the field). Gives it a ``clientId`` if it has none.
    Numbers are read strictly whether validated or not (``parse_decimal``: a ``Decimal``, an
    int or plain text; ``InvalidNumberError`` otherwise), so nothing but a plain decimal is
    ever signed."""
    quantity = parse_decimal(quantity, field="quantity", required=False)
    price = parse_decimal(price, field="price", required=False)
    quote_quantity = parse_decimal(quote_quantity, field="quoteQuantity", required=False)
    for key in _DECIMAL_OPTIONS.intersection(options):
        number = parse_decimal(options[key], field=key, required=False)
        if number is None:
            del options[key]
        else:
            options[key] = number
    fast = None
    if market is not None and quote_quantity is None:
        fast = quick_check(market, side, order_type, quantity, price)
    if fast is not None:
        quantity, price = fast
    elif market is not None:
        check = validate_order(
            market,
            side=side,
            order_type=order_type,
            quantity=quantity,
            price=price,
            quote_quantity=quote_quantity,
        )
        if check.problems:
            problem = check.problems[0]
            raise InvalidOrderError(problem.message, field=problem.field)
        quantity, price, quote_quantity = check.quantity, check.price, check.quote_quantity
    if client_id is None:
        client_id = new_client_id()
    elif type(client_id) is not int or not 0 <= client_id <= MAX_CLIENT_ID:
        raise InvalidOrderError(f"clientId {client_id} is not a uint32.", field="clientId")
    body = {
        "symbol": symbol,
        "side": side,
        "orderType": order_type,
        "clientId": client_id,
    }
    if quantity is not None:
        body["quantity"] = quantity
    if price is not None:
        body["price"] = price
    if quote_quantity is not None:
        body["quoteQuantity"] = quote_quantity
    if options:
        body.update(options)
    return body


def _batch(payload: Any) -> list[Order | BackpackError]:
    """Parse ``[{"operation":"Ok","id":"1",...},
    {"operation":"Err","code":"INVALID_ORDER","message":"..."}]``."""
    from .errors import error_from_response

    out: list[Order | BackpackError] = []
    for item in list_of(payload):
        obj = obj_of(item, "(item)")
        if obj.get("operation") == "Err" or ("code" in obj and "id" not in obj):
            out.append(error_from_response(400, obj, route=R.ORDERS_BATCH.label))
        else:
            out.append(Order.from_wire(obj))
    return out


_DECIMAL_OPTIONS = frozenset(
    (
        "triggerPrice",
        "takeProfitTriggerPrice",
        "takeProfitLimitPrice",
        "stopLossTriggerPrice",
        "stopLossLimitPrice",
        "slippageTolerance",
    )
)

_WIRE_NAMES = {
    "time_in_force": "timeInForce",
    "post_only": "postOnly",
    "reduce_only": "reduceOnly",
    "self_trade_prevention": "selfTradePrevention",
}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)
