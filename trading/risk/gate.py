"""The risk gate as a pure function: limits + current exposure + one order -> pass or refusal.

No database, no exchange, no clock: `risk_gate_check` is given everything it needs and says
whether the order may go out, or which limit it breaks, the limit's value and what is left
("Order refused: max 12,400 USDC more in SOL_USDC_PERP (position limit per market 20,000
USDC)"). The service in `trading.risk.services` reads the exposure, calls this function and
reserves the headroom atomically.

Exposure of a market is the worst case of its position and its open orders: the long side is
the signed position notional plus every open buy, the short side minus the position plus every
open sell; the market's exposure is the larger one. A new buy adds to the long side, a new sell
to the short side. The total is the sum over markets. Leverage is the total over net equity.

An order that only reduces risk (reduce-only; a close is a reduce-only order) always passes,
whatever the limits say and even in reduce-only mode. An order without the flag is checked on
its worst case: a sell against a long position uses no headroom until it would flip it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal

from django.utils.translation import ngettext

from trading.formatting import plain, usdc

ZERO = Decimal(0)
CENT = Decimal("0.01")


def amount_text(value: Decimal, *, left: bool = False) -> str:
    """Money in a refusal by the desk's one format ("12,400.00"); what is left rounds down,
    so the message never promises more headroom than there is."""
    if left:
        value = value.quantize(CENT, rounding=ROUND_DOWN)
    return usdc(value)


@dataclass(frozen=True)
class Limits:
    """The effective limits of one order (None means no limit: an explicit, audited choice)."""

    max_order_notional: Decimal | None = None
    max_position_notional_market: Decimal | None = None
    max_position_notional_total: Decimal | None = None
    max_open_orders: int | None = None
    max_leverage: Decimal | None = None
    allowed_markets: frozenset[str] | None = None
    daily_loss_limit: Decimal | None = None
    reduce_only: bool = False
    reduce_only_reason: str = ""
    loss_stop: str = ""  # today's daily loss stop of a level ("": none), see trading.risk.loss

    def stricter(self, other: Limits) -> Limits:
        """The tighter of each limit of `self` and `other` (subaccount and member rows)."""

        def low(a, b):
            if a is None:
                return b
            return a if b is None else min(a, b)

        markets = self.allowed_markets
        if other.allowed_markets is not None:
            markets = other.allowed_markets if markets is None else markets & other.allowed_markets
        reasons = [r for r in (self.reduce_only_reason, other.reduce_only_reason) if r]
        return Limits(
            max_order_notional=low(self.max_order_notional, other.max_order_notional),
            max_position_notional_market=low(
                self.max_position_notional_market, other.max_position_notional_market
            ),
            max_position_notional_total=low(
                self.max_position_notional_total, other.max_position_notional_total
            ),
            max_open_orders=low(self.max_open_orders, other.max_open_orders),
            max_leverage=low(self.max_leverage, other.max_leverage),
            allowed_markets=markets,
            daily_loss_limit=low(self.daily_loss_limit, other.daily_loss_limit),
            reduce_only=self.reduce_only or other.reduce_only,
            reduce_only_reason="; ".join(reasons),
            loss_stop="; ".join(s for s in (self.loss_stop, other.loss_stop) if s),
        )


@dataclass(frozen=True)
class MarketExposure:
    """One market's signed position notional and the notional of its open buys and sells."""

    position: Decimal = ZERO
    open_buys: Decimal = ZERO
    open_sells: Decimal = ZERO

    @property
    def long(self) -> Decimal:
        return self.position + self.open_buys

    @property
    def short(self) -> Decimal:
        return -self.position + self.open_sells

    @property
    def worst(self) -> Decimal:
        return max(self.long, self.short, ZERO)

    def plus(self, *, buy: bool, notional: Decimal) -> MarketExposure:
        if buy:
            return MarketExposure(self.position, self.open_buys + notional, self.open_sells)
        return MarketExposure(self.position, self.open_buys, self.open_sells + notional)


@dataclass(frozen=True)
class Exposure:
    """What the subaccount holds now (exchange read plus orders still in flight)."""

    markets: dict[str, MarketExposure] = field(default_factory=dict)
    open_orders: int = 0
    net_equity: Decimal | None = None
    daily_loss: Decimal | None = None  # today's loss from the ledger (shown on the risk page)

    def market(self, symbol: str) -> MarketExposure:
        return self.markets.get(symbol, MarketExposure())

    @property
    def total(self) -> Decimal:
        return sum((m.worst for m in self.markets.values()), ZERO)


@dataclass(frozen=True)
class GateOrder:
    """The order as the gate sees it: market, side, notional in the quote asset."""

    symbol: str
    buy: bool
    notional: Decimal
    quote: str = "USDC"
    reduce_only: bool = False


@dataclass(frozen=True)
class GateResult:
    """Whether the order may go; when not, which limit (`limit`) and the message."""

    allowed: bool
    message: str = ""
    limit: str = ""
    reduces_risk: bool = False
    room: Decimal = ZERO  # a refusal: the most notional the broken limit still lets in


PASS = GateResult(allowed=True)


def _refuse(limit: str, message: str, room: Decimal = ZERO) -> GateResult:
    return GateResult(allowed=False, limit=limit, message=f"Order refused: {message}", room=room)


def tightest(*results: GateResult) -> GateResult:
    """Of the results of one order at several levels (the subaccount's limits, then the
    member's own), the refusal of the limit that binds: the one leaving the least room (the
    later level on a tie, the member's own); PASS when every level passed. A refusal names
    the limit that actually stops the order, not a looser one it also breaks."""
    refusals = [r for r in results if not r.allowed]
    if not refusals:
        return results[0] if results else PASS
    return min(reversed(refusals), key=lambda r: r.room)


def risk_gate_check(*, limits: Limits, exposure: Exposure, order: GateOrder) -> GateResult:
    """Check one order against the limits, given the exposure it would add to.

    The first broken limit is reported, in this order: reduce-only mode, allowed markets,
    daily loss, order notional, open orders, position per market, total position, leverage.
    """
    if order.reduce_only:
        return GateResult(allowed=True, reduces_risk=True)
    q = order.quote
    if limits.reduce_only:
        why = f" ({limits.reduce_only_reason})" if limits.reduce_only_reason else ""
        return _refuse("reduce_only", f"reduce-only mode{why}: only orders that reduce risk.")
    if limits.allowed_markets is not None and order.symbol not in limits.allowed_markets:
        allowed = ", ".join(sorted(limits.allowed_markets)) or "none"
        return _refuse(
            "allowed_markets", f"{order.symbol} is not an allowed market (allowed: {allowed})."
        )
    if limits.loss_stop:
        return _refuse(
            "daily_loss_limit",
            f"reduce-only ({limits.loss_stop}): only orders that reduce risk until an admin "
            "releases it or the day ends.",
        )
    cap = limits.max_order_notional
    if cap is not None and order.notional > cap:
        return _refuse(
            "max_order_notional",
            f"the order's notional {amount_text(order.notional)} {q} is above the order "
            f"limit of {amount_text(cap)} {q}.",
            cap,
        )
    if limits.max_open_orders is not None and exposure.open_orders + 1 > limits.max_open_orders:
        return _refuse(
            "max_open_orders",
            f"{exposure.open_orders} {ngettext('open order', 'open orders', exposure.open_orders)}"
            f" already, the limit is {limits.max_open_orders}.",
        )
    now = exposure.market(order.symbol)
    after = now.plus(buy=order.buy, notional=order.notional)
    added = after.worst - now.worst
    cap = limits.max_position_notional_market
    if cap is not None and added > 0 and after.worst > cap:
        left = max(cap - now.worst, ZERO)
        return _refuse(
            "max_position_notional_market",
            f"max {amount_text(left, left=True)} {q} more in {order.symbol} (position limit "
            f"per market {amount_text(cap)} {q}).",
            left,
        )
    total_after = exposure.total + added
    cap = limits.max_position_notional_total
    if cap is not None and added > 0 and total_after > cap:
        left = max(cap - exposure.total, ZERO)
        return _refuse(
            "max_position_notional_total",
            f"max {amount_text(left, left=True)} {q} more in all markets (total position limit "
            f"{amount_text(cap)} {q}).",
            left,
        )
    cap = limits.max_leverage
    if cap is not None:
        equity = exposure.net_equity
        if equity is None or equity <= 0:
            return _refuse(
                "max_leverage", f"no net equity to lever (leverage limit {plain(cap)}x)."
            )
        if added > 0 and total_after > cap * equity:
            left = max(cap * equity - exposure.total, ZERO)
            return _refuse(
                "max_leverage",
                f"max {amount_text(left, left=True)} {q} more before the leverage limit of "
                f"{plain(cap)}x on {amount_text(equity)} {q} net equity.",
                left,
            )
    return PASS


def headroom(*, limits: Limits, exposure: Exposure, symbol: str, buy: bool) -> Decimal | None:
    """The most notional a new order on this side of `symbol` may add now (None: no limit)."""
    now = exposure.market(symbol)
    side_now = now.long if buy else now.short
    # Adding n to a side raises the worst case by max(side_now + n - worst, 0).
    slack = now.worst - max(side_now, ZERO)
    caps: list[Decimal] = []
    if limits.max_order_notional is not None:
        caps.append(limits.max_order_notional)
    if limits.max_position_notional_market is not None:
        caps.append(limits.max_position_notional_market - now.worst + slack)
    total_cap = limits.max_position_notional_total
    if limits.max_leverage is not None and exposure.net_equity is not None:
        lever = limits.max_leverage * max(exposure.net_equity, ZERO)
        total_cap = lever if total_cap is None else min(total_cap, lever)
    if total_cap is not None:
        caps.append(total_cap - exposure.total + slack)
    if not caps:
        return None
    return max(min(caps), ZERO)
