"""The order ticket's domain: what a checked order is and what the ticket shows about it.

`review_ticket` is pure: given the cleaned ticket data, the market, the best prices, the fee
rate and the subaccount's confirmation rules (its fat-finger guard) it returns the rounded
values, the estimated notional and fee, the problems per field, and the reasons the order
needs a second confirmation; a `Ticket` when nothing is wrong. `size_shortcuts` and
`ticket_available` turn the available balance into the ticket's 25/50/75/100 % quantities.
Nothing here talks to the exchange, the database or HTTP (`trading.forms` parses what was
typed; the views read the market around it and call `review_ticket`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal
from typing import Any

from trading.backpack import Market, OrderType, Side, TriggerBy
from trading.backpack.rules import floor_to, plain, round_price, round_quantity, validate_order
from trading.formatting import fixed, price_places, quantity_places, usdc
from trading.formatting import plain as plain_text

FAT_FINGER_FRACTION = Decimal("0.05")
HUNDRED = Decimal("100")
SHORTCUT_PCTS = (25, 50, 75, 100)
ASSUMED_TAKER_BPS = Decimal("10")
CENT = Decimal("0.01")
BPS = Decimal("10000")

# The ticket's order types: the exchange's two, and each of them waiting for a trigger price.
STOP_MARKET, STOP_LIMIT = "StopMarket", "StopLimit"
EXCHANGE_TYPE = {
    "Limit": OrderType.LIMIT,
    "Market": OrderType.MARKET,
    STOP_MARKET: OrderType.MARKET,
    STOP_LIMIT: OrderType.LIMIT,
}


@dataclass(frozen=True)
class Ticket:
    """A checked order, ready for `services.order_place` (Decimals on the market's grid)."""

    token: str
    symbol: str
    side: Side
    order_type: OrderType
    quantity: Decimal | None
    price: Decimal | None
    quote_quantity: Decimal | None
    time_in_force: str | None
    post_only: bool
    reduce_only: bool
    take_profit_trigger_price: Decimal | None = None
    stop_loss_trigger_price: Decimal | None = None
    take_profit_limit_price: Decimal | None = None
    stop_loss_limit_price: Decimal | None = None
    trigger_price: Decimal | None = None
    """A stop order's trigger: it waits off the book until `trigger_by` reaches it."""
    trigger_by: TriggerBy | None = None

    @property
    def is_stop(self) -> bool:
        return self.trigger_price is not None

    def audit_parameters(self) -> dict[str, Any]:
        """The order as the audit trail records it (Decimals as plain strings)."""
        parameters = {
            "symbol": self.symbol,
            "side": self.side.value,
            "orderType": self.order_type.value,
            "quantity": plain(self.quantity) if self.quantity is not None else None,
            "price": plain(self.price) if self.price is not None else None,
            "quoteQuantity": plain(self.quote_quantity) if self.quote_quantity else None,
            "timeInForce": self.time_in_force,
            "postOnly": self.post_only,
            "reduceOnly": self.reduce_only,
            "takeProfitTriggerPrice": plain(self.take_profit_trigger_price)
            if self.take_profit_trigger_price
            else None,
            "stopLossTriggerPrice": plain(self.stop_loss_trigger_price)
            if self.stop_loss_trigger_price
            else None,
            "ticket": self.token[:8],
        }
        stop_and_limits = {  # recorded only when given (older records have none of them)
            "takeProfitLimitPrice": _plain_or_none(self.take_profit_limit_price),
            "stopLossLimitPrice": _plain_or_none(self.stop_loss_limit_price),
            "triggerPrice": _plain_or_none(self.trigger_price),
            "triggerBy": self.trigger_by.value if self.trigger_by else None,
        }
        return {**parameters, **{k: v for k, v in stop_and_limits.items() if v is not None}}


def _plain_or_none(value: Decimal | None) -> str | None:
    return plain(value) if value is not None else None


@dataclass(frozen=True)
class BestPrices:
    """Best bid and ask of a market at the time of the check (None when a side is empty)."""

    bid: Decimal | None = None
    ask: Decimal | None = None


@dataclass(frozen=True)
class ConfirmGuard:
    """The subaccount's fat-finger guard: a share of its equity (%) and a price distance (%).

    `equity` is the subaccount's net equity in the quote currency now, or None when it could
    not be read (then every sized order asks for confirmation: the guard never lapses).
    """

    equity_pct: Decimal
    price_pct: Decimal
    equity: Decimal | None


@dataclass
class TicketReview:
    """What the ticket shows under the fields as the trader types."""

    ticket: Ticket | None = None
    problems: dict[str, list[str]] = field(default_factory=dict)
    confirm_reasons: list[str] = field(default_factory=list)
    rounded_price: str = ""
    rounded_quantity: str = ""
    notional: Decimal | None = None
    notional_text: str = ""
    notional_label: str = "Notional"
    fee_text: str = ""
    fee_note: str = ""
    available: Available | None = None

    @property
    def ok(self) -> bool:
        return self.ticket is not None and not self.problems

    @property
    def messages(self) -> list[str]:
        return [message for messages in self.problems.values() for message in messages]

    def add(self, field_name: str, message: str) -> None:
        self.problems.setdefault(field_name, []).append(message)


# The client's rules name fields in the exchange's words; the ticket shows them on its own.
_FIELD = {"orderType": "order_type", "quoteQuantity": "quote_quantity", "symbol": "__all__"}
_WORDS = {"quoteQuantity": "quote quantity", "orderType": "order type"}


def _words(message: str) -> str:
    for wire, said in _WORDS.items():
        message = message.replace(wire, said)
    return message[:1].upper() + message[1:]


def review_ticket(
    data: dict[str, Any],
    market: Market,
    *,
    prices: BestPrices,
    taker_fee_bps: Decimal | None,
    confirm_notional: Decimal | None,
    guard: ConfirmGuard | None = None,
) -> TicketReview:
    """Check the cleaned ticket `data` against `market` and the market around it.

    Returns rounded values ("use 1.23"), estimated notional (limit: price x quantity; market:
    quantity x best opposite price, or the quote quantity) and taker fee, problems per field,
    and the reasons for a confirmation step: notional above `confirm_notional`, notional above
    the guard's share of equity, or a limit price more than the guard's distance (5% without
    a guard) through the best opposite price (fat finger).
    """
    review = TicketReview()
    side = Side(data["side"])
    kind = data["order_type"]
    order_type = EXCHANGE_TYPE[kind]
    stop = kind in (STOP_MARKET, STOP_LIMIT)
    perp = market.is_perp
    is_market = order_type == OrderType.MARKET
    quantity = data.get("quantity")
    quote = data.get("quote_quantity")
    price = data.get("price")
    _ignored_by_type(review, data, is_market)
    trigger, trigger_by = _stop_trigger(review, data, kind, market)
    if stop and quote is not None:
        review.add("quote_quantity", "A stop order takes the quantity, not a quote quantity.")
        quote = None
    if is_market:
        price = None
    else:
        quote = None
    if is_market and quantity is not None and quote is not None:
        review.add("quote_quantity", "Give either the quantity or the quote quantity, not both.")
    if is_market and quantity is None and quote is None:
        review.add(
            "quantity",
            "Give the quantity."
            if stop
            else "Give the quantity (or, for a market order, the quote quantity).",
        )

    check = validate_order(
        market,
        side=side,
        order_type=order_type,
        quantity=quantity,
        price=price,
        quote_quantity=quote,
    )
    for problem in check.problems:
        if problem.field == "quantity" and "quantity" in review.problems:
            continue
        review.add(_FIELD.get(problem.field, problem.field), _words(problem.message))
    pp = price_places(market)
    if check.price is not None:
        review.rounded_price = fixed(check.price, pp)
    if check.quantity is not None:
        review.rounded_quantity = plain_text(check.quantity)

    tif = data.get("time_in_force") or "GTC"
    post_only = bool(data.get("post_only"))
    reduce_only = bool(data.get("reduce_only"))
    if is_market:
        post_only = False
        tif = None
    elif stop:
        if post_only:
            review.add("post_only", "A stop-limit order cannot be post-only.")
        if tif != "GTC":
            review.add(
                "time_in_force", f"A stop-limit order rests as GTC once triggered, not {tif}."
            )
        post_only, tif = False, "GTC"
    elif post_only and tif != "GTC":
        review.add("post_only", f"A post-only order rests on the book; it cannot be {tif}.")
    if reduce_only and not perp:
        review.add("reduce_only", "Reduce-only applies to perpetual markets only.")
        reduce_only = False

    take_profit = _trigger(review, data, "take_profit", "take-profit trigger", market, perp)
    stop_loss = _trigger(review, data, "stop_loss", "stop-loss trigger", market, perp)
    take_profit_limit = _exit_limit(review, data, "take_profit", take_profit, market, perp)
    stop_loss_limit = _exit_limit(review, data, "stop_loss", stop_loss, market, perp)
    if stop and (take_profit is not None or stop_loss is not None):
        field_name = "take_profit" if take_profit is not None else "stop_loss"
        review.add(
            field_name,
            "Take-profit and stop-loss go with limit and market orders; set them on the "
            "position once the stop has filled.",
        )
    reference = check.price if not is_market else (prices.ask if side == Side.BID else prices.bid)
    if reference is not None:
        above, below = (take_profit, stop_loss) if side == Side.BID else (stop_loss, take_profit)
        word_above = "take-profit" if side == Side.BID else "stop-loss"
        word_below = "stop-loss" if side == Side.BID else "take-profit"
        if above is not None and above <= reference:
            field_name = "take_profit" if side == Side.BID else "stop_loss"
            review.add(field_name, f"The {word_above} trigger must be above {plain(reference)}.")
        if below is not None and below >= reference:
            field_name = "stop_loss" if side == Side.BID else "take_profit"
            review.add(field_name, f"The {word_below} trigger must be below {plain(reference)}.")

    _estimate(review, check, side, is_market, prices, taker_fee_bps, market, trigger)
    _confirmations(review, check, side, is_market, prices, confirm_notional, market)
    # A stop-limit's price is set against its trigger, not today's book: no fat-finger check.
    _guarded(review, check, side, is_market or stop, prices, guard, market)

    if not review.problems and check.side is not None and check.order_type is not None:
        review.ticket = Ticket(
            token=data["token"],
            symbol=market.symbol,
            side=side,
            order_type=order_type,
            quantity=check.quantity,
            price=check.price,
            quote_quantity=check.quote_quantity,
            time_in_force=tif,
            post_only=post_only,
            reduce_only=reduce_only,
            take_profit_trigger_price=take_profit,
            stop_loss_trigger_price=stop_loss,
            take_profit_limit_price=take_profit_limit,
            stop_loss_limit_price=stop_loss_limit,
            trigger_price=trigger,
            trigger_by=trigger_by,
        )
    return review


def _stop_trigger(
    review: TicketReview, data: dict[str, Any], kind: str, market: Market
) -> tuple[Decimal | None, TriggerBy | None]:
    """A stop order's trigger price (on the tick) and reference; a trigger price on another
    order type is named, never dropped."""
    value = data.get("trigger_price")
    if kind not in (STOP_MARKET, STOP_LIMIT):
        if value is not None:
            review.add(
                "trigger_price",
                "A trigger price is for stop orders; choose Stop market or Stop limit, "
                "or clear it.",
            )
        return None, None
    trigger_by = TriggerBy(data.get("trigger_by") or TriggerBy.LAST_PRICE.value)
    if trigger_by != TriggerBy.LAST_PRICE and not market.is_perp:
        review.add("trigger_by", "A spot market's stop triggers on the last price only.")
    if value is None:
        review.add("trigger_price", "A stop order needs its trigger price.")
        return None, trigger_by
    if value <= 0:
        review.add("trigger_price", "The trigger price must be above zero.")
        return None, trigger_by
    rounded = round_price(value, market)
    if rounded != value:
        review.add(
            "trigger_price",
            f"The trigger price {plain(value)} is not a multiple of the tick "
            f"{plain(market.tick_size)}; use {plain(rounded)}.",
        )
    return rounded, trigger_by


def _exit_limit(
    review: TicketReview,
    data: dict[str, Any],
    name: str,
    trigger: Decimal | None,
    market: Market,
    perp: bool,
) -> Decimal | None:
    """The limit price a take-profit / stop-loss closes at (none: at market)."""
    words = name.replace("_", "-")
    field_name = f"{name}_limit"
    if data.get(field_name) is None:
        return None
    if data.get(name) is None:
        review.add(field_name, f"A {words} limit price needs the {words} trigger too.")
        return None
    if trigger is None:  # the trigger itself was refused: its message says why
        return None
    return _trigger(review, data, field_name, f"{words} limit price", market, perp)


def _ignored_by_type(review: TicketReview, data: dict[str, Any], is_market: bool) -> None:
    """A value in a field the chosen order type does not take is named, never dropped."""
    if is_market:
        if data.get("price") is not None:
            review.add("price", "A market order takes no price; clear the price or choose Limit.")
        if data.get("post_only"):
            review.add("post_only", "Post-only applies to limit orders only.")
        # GTC is the form's default (what an old page or a script sends without choosing).
        if data.get("time_in_force") not in (None, "", "GTC"):
            review.add(
                "time_in_force",
                f"A market order takes no time in force ({data['time_in_force']}); "
                "choose Limit for IOC or FOK.",
            )
    elif data.get("quote_quantity") is not None:
        review.add(
            "quote_quantity",
            "A limit order takes no quote quantity; give the quantity, or choose Market.",
        )


def _trigger(
    review: TicketReview, data: dict[str, Any], name: str, words: str, market: Market, perp: bool
) -> Decimal | None:
    value = data.get(name)
    if value is None:
        return None
    if not perp:
        review.add(name, f"A {words} applies to perpetual markets only.")
        return None
    if value <= 0:
        review.add(name, f"The {words} must be above zero.")
        return None
    rounded = round_price(value, market)
    if rounded != value:
        review.add(
            name,
            f"The {words} {plain(value)} is not a multiple of the tick "
            f"{plain(market.tick_size)}; use {plain(rounded)}.",
        )
    return rounded


def _estimate(
    review: TicketReview,
    check: Any,
    side: Side,
    is_market: bool,
    prices: BestPrices,
    taker_fee_bps: Decimal | None,
    market: Market,
    trigger: Decimal | None = None,
) -> None:
    notional = None
    opposite = prices.ask if side == Side.BID else prices.bid
    if is_market and trigger is not None:
        if check.quantity is not None:
            notional = check.quantity * trigger
            review.fee_note = "at the trigger price"
    elif is_market:
        if check.quote_quantity is not None:
            notional = check.quote_quantity
        elif check.quantity is not None and opposite is not None:
            notional = check.quantity * opposite
            review.fee_note = f"at the best {'ask' if side == Side.BID else 'bid'} now"
    elif check.quantity is not None and check.price is not None:
        notional = check.quantity * check.price
        review.notional_label = f"Total ({market.quote_symbol})"
    if review.problems:
        notional = None  # while an input is invalid, no figure derived from it is shown
    review.notional = notional
    if notional is None:
        return
    review.notional_text = f"{usdc(notional)} {market.quote_symbol}"
    bps = taker_fee_bps if taker_fee_bps is not None else ASSUMED_TAKER_BPS
    fee = notional * bps / BPS
    source = "the account's taker rate" if taker_fee_bps is not None else "an assumed taker rate"
    fee_text = f"≤ {fee_estimate_text(fee)} {market.quote_symbol}"
    review.fee_text = f"{fee_text} ({plain_text(bps)} bps, {source})"


def fee_estimate_text(fee: Decimal) -> str:
    """An estimated fee as the ticket and the ladder show it: an upper bound, so rounded up to
    the cent, in USDC's format ("0.01" for a tiny fee, never "0.00")."""
    return usdc(fee.quantize(CENT, rounding=ROUND_CEILING))


def _confirmations(
    review: TicketReview,
    check: Any,
    side: Side,
    is_market: bool,
    prices: BestPrices,
    confirm_notional: Decimal | None,
    market: Market,
) -> None:
    quote = market.quote_symbol
    if (
        confirm_notional is not None
        and review.notional is not None
        and review.notional > confirm_notional
    ):
        review.confirm_reasons.append(
            f"The notional {usdc(review.notional)} {quote} is above this subaccount's "
            f"confirmation limit of {plain_text(confirm_notional)} {quote}."
        )


def _guarded(
    review: TicketReview,
    check: Any,
    side: Side,
    is_market: bool,
    prices: BestPrices,
    guard: ConfirmGuard | None,
    market: Market,
) -> None:
    quote = market.quote_symbol
    fraction = FAT_FINGER_FRACTION if guard is None else guard.price_pct / HUNDRED
    if guard is not None and review.notional is not None and review.notional > 0:
        share = plain_text(guard.equity_pct.normalize())
        if guard.equity is None:
            review.confirm_reasons.append(
                f"The subaccount's equity could not be read, so the notional "
                f"{usdc(review.notional)} {quote} was not checked against {share}% of it."
            )
        elif review.notional > guard.equity * guard.equity_pct / HUNDRED:
            review.confirm_reasons.append(
                f"The notional {usdc(review.notional)} {quote} is above {share}% of this "
                f"subaccount's equity ({usdc(guard.equity)} {quote})."
            )
    if is_market or check.price is None:
        return
    if side == Side.BID and prices.ask:
        through = (check.price - prices.ask) / prices.ask
        if through > fraction:
            review.confirm_reasons.append(
                f"The buy price {plain(check.price)} is {fixed(through * 100, 1)}% above the "
                f"best ask {plain(prices.ask)}."
            )
    if side == Side.ASK and prices.bid:
        through = (prices.bid - check.price) / prices.bid
        if through > fraction:
            review.confirm_reasons.append(
                f"The sell price {plain(check.price)} is {fixed(through * 100, 1)}% below the "
                f"best bid {plain(prices.bid)}."
            )


@dataclass(frozen=True)
class SizeShortcut:
    """One of the ticket's percentage buttons: the value it puts in `field`."""

    pct: int
    field: str  # "quantity" or "quote_quantity"
    value: str


@dataclass(frozen=True)
class Available:
    """What the chosen side may spend now, and the ticket's percentage buttons for it."""

    amount: Decimal
    symbol: str
    text: str
    shortcuts: tuple[SizeShortcut, ...]


def size_shortcuts(
    market: Market,
    *,
    side: Side,
    is_market: bool,
    available: Decimal,
    price: Decimal | None,
) -> tuple[SizeShortcut, ...]:
    """The 25/50/75/100 % buttons for `available` (quote to buy, base to sell on spot; the
    collateral available, at 1x, on a perpetual), rounded down onto the market's grid so the
    exchange accepts what they fill in. A buy needs `price` (the limit price, or the best ask
    for a market order); a market buy on spot fills the quote quantity instead, which spends
    no more than it says whatever the book looks like."""
    out = []
    spends_quote = market.is_perp or side == Side.BID
    for pct in SHORTCUT_PCTS:
        amount = available * pct / HUNDRED
        if not spends_quote:
            value = round_quantity(amount, market)
            field_name = "quantity"
        elif is_market and not market.is_perp and side == Side.BID:
            value = floor_to(amount, market.tick_size)
            field_name = "quote_quantity"
        elif price is not None and price > 0:
            value = round_quantity(amount / price, market)
            field_name = "quantity"
        else:
            continue
        if value > 0:
            out.append(SizeShortcut(pct, field_name, plain_text(value)))
    return tuple(out)


def ticket_available(
    data: dict[str, Any],
    market: Market,
    *,
    prices: BestPrices,
    amount: Decimal | None,
    asset: str,
) -> Available | None:
    """The chosen side's available `amount` of `asset` and the percentage buttons for it
    (a buy is sized at the limit price typed, else at the best ask; a sell at the best bid
    on a perpetual). None when the amount could not be read."""
    if amount is None:
        return None
    side = Side(data["side"])
    buying = side == Side.BID
    is_market = data["order_type"] == OrderType.MARKET.value
    price = None if is_market else data.get("price")
    if price is not None and price > 0:
        price = round_price(price, market, side)
    else:
        price = prices.ask if buying else prices.bid
    shortcuts = size_shortcuts(
        market, side=side, is_market=is_market, available=amount, price=price
    )
    if asset == market.base_symbol:  # a holding: grouped as balances are, never shown above it
        shown = fixed(amount, quantity_places(market), grouped=True, down=True)
    else:
        shown = usdc(amount)
    text = f"{shown} {asset}"
    if market.is_perp:
        text += " (collateral, at 1x)"
    return Available(amount=amount, symbol=asset, text=text, shortcuts=shortcuts)
