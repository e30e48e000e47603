"""Matching and settlement (mixed into :class:`~sandbox.engine.engine.Engine`).

A taker walks the opposite side best price first, oldest order first; the taker's
self-trade-prevention mode decides what happens when it meets its own subaccount.  Each
fill settles both sides at once: spot balances (fees from what each side receives) or
perpetual positions (PnL and fees in USDC, each recorded in the account's settlement
history against its position), and records the trade.  When a position
shrinks, the account's resting reduce-only orders are cut down to it (``orderModified``)
or expired.
"""

from __future__ import annotations

from decimal import Decimal

from .events import ORDER_UPDATE, POSITION_UPDATE, Event
from .ledger import Account, Position, position_payload
from .markets import ZERO, Market
from .orders import (
    ASK,
    BID,
    EXPIRED,
    FILLED,
    LIMIT,
    MARKET,
    PARTIALLY_FILLED,
    REJECT_BOTH,
    REJECT_MAKER,
    REJECT_TAKER,
    Order,
    order_fill_payload,
)

_FMT = format

# why a taker stopped matching
STOP_DONE = 0
STOP_BOOK = 1
STOP_STP = 2
STOP_FUNDS = 3
STOP_REDUCE = 4


def _trade_payload(
    symbol: str,
    now: int,
    price: Decimal,
    quantity: Decimal,
    buyer_id: int,
    seller_id: int,
    trade_id: int,
    buyer_is_maker: bool,
) -> dict:
    """The public ``trade`` stream payload."""
    return {
        "e": "trade",
        "E": now,
        "s": symbol,
        "p": _FMT(price, "f"),
        "q": _FMT(quantity, "f"),
        "b": str(buyer_id),
        "a": str(seller_id),
        "t": trade_id,
        "T": now,
        "m": buyer_is_maker,
    }


def floor_to_step(value: Decimal, step: Decimal) -> Decimal:
    """``value`` rounded down to a multiple of ``step`` (zero if not positive)."""
    if value <= 0:
        return ZERO
    return (value // step) * step


class MatchingMixin:
    """The matching loop and fill settlement."""

    # ------------------------------------------------------------------ matching
    def _match(self, account: Account, taker: Order, book) -> int:
        market = taker.market
        step = market.step_size
        bid = taker.side == BID
        limit = taker.price if taker.order_type == LIMIT else None
        by_quote = taker.quantity is None
        spot = not market.is_perp
        prices = book.ask_prices if bid else book.bid_prices
        levels = book.asks if bid else book.bids
        accounts = self._accounts
        while True:
            if not by_quote and taker.quantity - taker.executed_quantity <= 0:
                return STOP_DONE
            if not prices:
                return STOP_BOOK
            best = prices[0] if bid else prices[-1]
            if limit is not None and (best > limit if bid else best < limit):
                return STOP_BOOK
            maker = next(iter(levels[best].values()))
            if maker.subaccount_id == taker.subaccount_id:
                stp = taker.stp
                if stp == REJECT_MAKER or stp == REJECT_BOTH:
                    self._unrest(account, maker)
                    self._close(account, maker, EXPIRED, "SelfTradePrevention")
                if stp == REJECT_TAKER or stp == REJECT_BOTH:
                    return STOP_STP
                continue
            maker_account = accounts[maker.subaccount_id]
            quantity = maker.quantity - maker.executed_quantity
            if by_quote:
                budget = taker.quote_quantity - taker.executed_quote_quantity
                quantity = min(quantity, floor_to_step(budget / best, step))
                if quantity <= 0:
                    return STOP_FUNDS
            else:
                quantity = min(quantity, taker.quantity - taker.executed_quantity)
            if spot:
                if bid and taker.order_type == MARKET:
                    affordable = floor_to_step(taker.locked / best, step)
                    if affordable < quantity:
                        quantity = affordable
                        if quantity <= 0:
                            return STOP_FUNDS
                elif not bid and taker.locked < quantity:
                    quantity = taker.locked
                    if quantity <= 0:
                        return STOP_FUNDS
            else:
                if taker.reduce_only:
                    reducible = self._reducible(account, taker.symbol, taker.side)
                    if reducible <= 0:
                        return STOP_REDUCE
                    quantity = min(quantity, reducible)
                if maker.reduce_only:
                    reducible = self._reducible(maker_account, maker.symbol, maker.side)
                    if reducible <= 0:
                        self._unrest(maker_account, maker)
                        self._close(maker_account, maker, EXPIRED, "ReduceOnlyNotReduced")
                        continue
                    quantity = min(quantity, reducible)
            self._fill(account, taker, maker_account, maker, best, quantity, book)

    def _fill(
        self,
        taker_account: Account,
        taker: Order,
        maker_account: Account,
        maker: Order,
        price: Decimal,
        quantity: Decimal,
        book,
    ) -> None:
        market = taker.market
        now = self._now
        quote = price * quantity
        taker_bid = taker.side == BID
        buyer, seller = (taker, maker) if taker_bid else (maker, taker)
        trade = self._data[market.symbol].record_trade(
            price, quantity, now, not taker_bid, buyer.id, seller.id
        )
        trade_id = trade[0]
        taker.executed_quantity += quantity
        taker.executed_quote_quantity += quote
        maker.executed_quantity += quantity
        maker.executed_quote_quantity += quote
        if market.is_perp and not maker.reduce_only:
            self._add_open_notional(maker_account, maker, -quantity)
        book.reduce(maker, quantity)
        emitting = self._emitting
        append = self._batch.append
        symbol = market.symbol
        for account, order, rate, is_maker in (
            (taker_account, taker, market.taker_fee, False),
            (maker_account, maker, market.maker_fee, True),
        ):
            if market.is_perp:
                fee, fee_symbol = self._settle_perp(account, order, price, quantity, quote, rate)
            else:
                fee, fee_symbol = self._settle_spot(account, order, price, quantity, quote, rate)
            account.fills.append(
                (
                    order.id,
                    trade_id,
                    quantity,
                    price,
                    is_maker,
                    fee,
                    fee_symbol,
                    now,
                    order.symbol,
                    order.side,
                    order.client_id,
                    market.market_type,
                )
            )
            if is_maker:
                if order.quantity - order.executed_quantity <= 0:
                    order.status = FILLED
                    del account.open_orders[order.id]
                    account.reduce_only_orders.pop(order.id, None)
                else:
                    order.status = PARTIALLY_FILLED
            else:
                order.status = (
                    FILLED
                    if order.quantity is not None and order.quantity <= order.executed_quantity
                    else PARTIALLY_FILLED
                )
            if emitting:
                build = (  # one flat tuple: the payload is built only if read
                    order_fill_payload,
                    order,
                    now,
                    order.status,
                    order.executed_quantity,
                    order.executed_quote_quantity,
                    trade_id,
                    quantity,
                    price,
                    is_maker,
                    fee,
                    fee_symbol,
                )
                append(Event(ORDER_UPDATE, None, symbol, order.subaccount_id, build))
        if emitting:
            build = (
                _trade_payload,
                symbol,
                now,
                price,
                quantity,
                buyer.id,
                seller.id,
                trade_id,
                not taker_bid,
            )
            append(Event(self._trade_stream[symbol], None, symbol, None, build))
        self._trigger_check[market.symbol] = None
        if market.is_perp:
            for account in (taker_account, maker_account):
                if account.reduce_only_orders:
                    self._trim_reduce_only(account, market.symbol)
        if maker.status == FILLED and not maker.exits_attached:
            if maker.take_profit_trigger_price is not None or (
                maker.stop_loss_trigger_price is not None
            ):
                self._attach_exits(maker_account, maker)

    def _trim_reduce_only(self, account: Account, symbol: str) -> None:
        """Resting reduce-only orders may together close the position, never reverse it:
        after the position shrank, cut them down oldest first (``orderModified``) and
        expire those with nothing left to reduce."""
        position = account.positions.get(symbol)
        net = position.net_quantity if position is not None else ZERO
        allowed = {BID: -net if net < 0 else ZERO, ASK: net if net > 0 else ZERO}
        book = self._books[symbol]
        for order in sorted(account.reduce_only_orders.values(), key=lambda o: o.id):
            if order.symbol != symbol:
                continue
            remaining = order.quantity - order.executed_quantity
            keep = min(remaining, allowed[order.side])
            allowed[order.side] -= keep
            if keep == remaining:
                continue
            if not keep:
                self._unrest(account, order)
                self._close(account, order, EXPIRED, "ReduceOnlyNotReduced")
                continue
            order.quantity = order.executed_quantity + keep
            order.wire_base = order.event_base = None
            book.reduce(order, remaining - keep)
            self._touched.add(symbol)
            if self._emitting:
                self._private(order, "orderModified")

    def _settle_spot(
        self,
        account: Account,
        order: Order,
        price: Decimal,
        quantity: Decimal,
        quote: Decimal,
        rate: Decimal,
    ) -> tuple[Decimal, str]:
        market = order.market
        base_symbol = market.base_symbol
        quote_symbol = market.quote_symbol
        balances = account.balances
        fees = self._fee_account
        if order.side == BID:
            release = order.price * quantity if order.order_type == LIMIT else quote
            order.locked -= release
            quote_balance = balances[quote_symbol]
            quote_balance.locked -= release
            quote_balance.available += release - quote
            fee = quantity * rate
            (balances.get(base_symbol) or account.balance(base_symbol)).available += quantity - fee
            (fees.balances.get(base_symbol) or fees.balance(base_symbol)).available += fee
            return fee, base_symbol
        order.locked -= quantity
        balances[base_symbol].locked -= quantity
        fee = quote * rate
        (balances.get(quote_symbol) or account.balance(quote_symbol)).available += quote - fee
        (fees.balances.get(quote_symbol) or fees.balance(quote_symbol)).available += fee
        return fee, quote_symbol

    def _settle_perp(
        self,
        account: Account,
        order: Order,
        price: Decimal,
        quantity: Decimal,
        quote: Decimal,
        rate: Decimal,
    ) -> tuple[Decimal, str]:
        """Apply a perpetual fill to the account's position; PnL and fee settle in USDC,
        each recorded in the account's settlement history against the position.

        A fill that reverses the position closes it (with the part of the fee its closing
        quantity pays) and opens a new position with the rest, so each position's history
        row holds exactly the PnL, fees and funding of its own lifetime."""
        market = order.market
        symbol = market.symbol
        position = account.positions.get(symbol)
        first = position.net_quantity if position is not None else ZERO
        signed = quantity if order.side == BID else -quantity
        fee = quote * rate
        if first and (first > 0) != (signed > 0) and quantity > abs(first):
            closing_fee = -first * price * rate if first < 0 else first * price * rate
            parts: tuple = ((-first, closing_fee), (signed + first, fee - closing_fee))
        else:
            parts = ((signed, fee),)
        collateral = self.collateral_symbol
        settlements = account.settlements
        account_id = account.subaccount_id
        now = self._now
        for part, part_fee in parts:
            opened = position is None
            if opened:
                self._last_position_id += 1
                position = account.positions[symbol] = Position(
                    self._last_position_id, account_id, market, now
                )
                account.position_history.append(position)
            before = position.net_quantity
            realized = position.apply_fill(part, price)
            after = position.net_quantity
            position.fees_paid += part_fee
            account.balance(collateral).available += realized - part_fee
            self._fee_account.balance(collateral).available += part_fee
            position_id = position.position_id
            sequence = self._last_sequence
            if before and (part > 0) != (before > 0):  # it reduced the position
                sequence += 1
                settlements.append((sequence, now, "RealizePnl", realized, position_id, account_id))
            if part_fee:
                sequence += 1
                settlements.append(
                    (sequence, now, "TradingFees", -part_fee, position_id, account_id)
                )
            self._last_sequence = sequence
            if not after:
                del account.positions[symbol]
                position.closed_us = now
                if symbol in self._triggers:
                    self._expire_stops(account, symbol)
                kind = "positionClosed"
            else:
                kind = "positionOpened" if opened or not before else "positionAdjusted"
            if self._emitting:
                self._position_event(account, market, position, kind, price)
            if not after:
                position = None
        last = position.net_quantity if position is not None else ZERO
        self._open_interest[symbol] += max(last, ZERO) - max(first, ZERO)
        return fee, collateral

    def _position_event(
        self, account: Account, market: Market, position: Position, kind: str, price: Decimal
    ) -> None:
        symbol = market.symbol
        mark = self._mark.get(symbol)  # as _reference_mark(symbol, price), inlined
        if mark is None:
            mark = self._data[symbol].last_price
            if mark is None:
                mark = price
        build = (  # position.snapshot(), inlined
            position_payload,
            kind,
            self._now,
            mark,
            account.open_bid_quantity.get(symbol, ZERO),
            account.open_ask_quantity.get(symbol, ZERO),
            market,
            position.position_id,
            position.net_quantity,
            position.net_cost,
            position.pnl_realized,
            position.fees_paid,
            position.cumulative_funding,
        )
        self._batch.append(Event(POSITION_UPDATE, None, symbol, account.subaccount_id, build))
