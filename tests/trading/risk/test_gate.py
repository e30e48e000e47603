"""The pure risk gate: one test per limit, reduce-only passes, the stricter limit wins."""

from __future__ import annotations

from decimal import Decimal as D

from trading.risk.gate import (
    Exposure,
    GateOrder,
    Limits,
    MarketExposure,
    amount_text,
    headroom,
    risk_gate_check,
    tightest,
)

PERP = "SOL_USDC_PERP"


def buy(notional: str, symbol: str = PERP, **kw) -> GateOrder:
    return GateOrder(symbol=symbol, buy=True, notional=D(notional), **kw)


def test_no_limits_pass() -> None:
    assert risk_gate_check(limits=Limits(), exposure=Exposure(), order=buy("1000000")).allowed


def test_amounts_are_thousands_separated() -> None:
    assert amount_text(D("12400")) == "12,400.00"
    assert amount_text(D("1234.567")) == "1,234.57"
    assert amount_text(D("1234.567"), left=True) == "1,234.56"  # never more than is left


def test_order_notional_limit() -> None:
    result = risk_gate_check(
        limits=Limits(max_order_notional=D("1000")), exposure=Exposure(), order=buy("1000.01")
    )
    assert result.limit == "max_order_notional"
    assert result.message == (
        "Order refused: the order's notional 1,000.01 USDC is above the order limit of "
        "1,000.00 USDC."
    )


def test_position_limit_per_market_names_what_is_left() -> None:
    exposure = Exposure(markets={PERP: MarketExposure(position=D("7600"))})
    limits = Limits(max_position_notional_market=D("20000"))

    result = risk_gate_check(limits=limits, exposure=exposure, order=buy("12401"))

    assert result.message == (
        "Order refused: max 12,400.00 USDC more in SOL_USDC_PERP (position limit per "
        "market 20,000.00 USDC)."
    )
    assert risk_gate_check(limits=limits, exposure=exposure, order=buy("12400")).allowed
    assert headroom(limits=limits, exposure=exposure, symbol=PERP, buy=True) == D("12400")


def test_a_sell_against_a_long_position_uses_no_headroom_until_it_flips() -> None:
    exposure = Exposure(markets={PERP: MarketExposure(position=D("20000"))})
    limits = Limits(max_position_notional_market=D("20000"))
    sell = GateOrder(symbol=PERP, buy=False, notional=D("30000"))

    assert risk_gate_check(limits=limits, exposure=exposure, order=sell).allowed
    too_much = GateOrder(symbol=PERP, buy=False, notional=D("40001"))
    assert not risk_gate_check(limits=limits, exposure=exposure, order=too_much).allowed


def test_total_position_limit() -> None:
    exposure = Exposure(
        markets={
            PERP: MarketExposure(position=D("500")),
            "BTC_USDC_PERP": MarketExposure(D("-300")),
        }
    )
    result = risk_gate_check(
        limits=Limits(max_position_notional_total=D("1000")), exposure=exposure, order=buy("201")
    )
    assert result.message == (
        "Order refused: max 200.00 USDC more in all markets (total position limit 1,000.00 USDC)."
    )


def test_open_orders_limit() -> None:
    result = risk_gate_check(
        limits=Limits(max_open_orders=3), exposure=Exposure(open_orders=3), order=buy("1")
    )
    assert result.message == "Order refused: 3 open orders already, the limit is 3."


def test_leverage_limit() -> None:
    exposure = Exposure(markets={PERP: MarketExposure(D("1500"))}, net_equity=D("1000"))
    result = risk_gate_check(
        limits=Limits(max_leverage=D("2")), exposure=exposure, order=buy("600")
    )
    assert result.message == (
        "Order refused: max 500.00 USDC more before the leverage limit of 2x on 1,000.00 USDC "
        "net equity."
    )


def test_allowed_markets() -> None:
    limits = Limits(allowed_markets=frozenset({"BTC_USDC_PERP", "ETH_USDC_PERP"}))
    result = risk_gate_check(limits=limits, exposure=Exposure(), order=buy("1"))
    assert result.message == (
        "Order refused: SOL_USDC_PERP is not an allowed market (allowed: BTC_USDC_PERP, "
        "ETH_USDC_PERP)."
    )


def test_a_daily_loss_stop_refuses_naming_the_limit() -> None:
    stopped = Limits(
        daily_loss_limit=D("500"),
        loss_stop="daily loss limit: today's loss 600.00 USDC passed the limit of 500.00 USDC",
    )
    assert risk_gate_check(
        limits=Limits(daily_loss_limit=D("500")), exposure=Exposure(), order=buy("1")
    ).allowed

    result = risk_gate_check(limits=stopped, exposure=Exposure(), order=buy("1"))

    assert (result.allowed, result.limit) == (False, "daily_loss_limit")
    assert result.message == (
        "Order refused: reduce-only (daily loss limit: today's loss 600.00 USDC passed the "
        "limit of 500.00 USDC): only orders that reduce risk until an admin releases it or the "
        "day ends."
    )
    assert risk_gate_check(
        limits=stopped, exposure=Exposure(), order=buy("1", reduce_only=True)
    ).allowed


def test_reduce_only_mode_names_the_reason() -> None:
    limits = Limits(reduce_only=True, reduce_only_reason="over the weekly drawdown")
    result = risk_gate_check(limits=limits, exposure=Exposure(), order=buy("1"))
    assert result.message == (
        "Order refused: reduce-only mode (over the weekly drawdown): only orders that reduce risk."
    )


def test_reduce_only_orders_pass_at_every_limit() -> None:
    limits = Limits(
        max_order_notional=D("0"),
        max_position_notional_market=D("0"),
        max_position_notional_total=D("0"),
        max_open_orders=0,
        max_leverage=D("0"),
        allowed_markets=frozenset(),
        daily_loss_limit=D("0"),
        reduce_only=True,
    )
    exposure = Exposure(markets={PERP: MarketExposure(D("5000"))}, daily_loss=D("1"))

    result = risk_gate_check(limits=limits, exposure=exposure, order=buy("5000", reduce_only=True))

    assert result.allowed and result.reduces_risk


def test_the_stricter_of_subaccount_and_member_limits_applies() -> None:
    team = Limits(max_order_notional=D("1000"), allowed_markets=frozenset({PERP, "SOL_USDC"}))
    member = Limits(max_order_notional=D("5000"), allowed_markets=frozenset({PERP}))

    both = team.stricter(member)

    assert both.max_order_notional == D("1000")
    assert both.allowed_markets == frozenset({PERP})
    assert Limits().stricter(member).max_order_notional == D("5000")


def test_of_two_levels_broken_the_refusal_names_the_limit_that_binds() -> None:
    order = buy("20000")
    subaccount = risk_gate_check(
        limits=Limits(max_order_notional=D("1173252.50"), max_position_notional_market=D("15000")),
        exposure=Exposure(),
        order=order,
    )
    member = risk_gate_check(
        limits=Limits(max_order_notional=D("10000")), exposure=Exposure(), order=order
    )
    looser = risk_gate_check(
        limits=Limits(max_order_notional=D("19000")), exposure=Exposure(), order=order
    )

    assert tightest(subaccount, member).message.endswith("order limit of 10,000.00 USDC.")
    assert tightest(subaccount, looser).limit == "max_position_notional_market"
    assert tightest(member, subaccount) == member
    passed = risk_gate_check(limits=Limits(), exposure=Exposure(), order=order)
    assert tightest(subaccount, passed) == subaccount and tightest(passed, passed).allowed
