"""Authorisation matrix rules of the trading pages (markets, ticket, orders, history,
positions). Collected through tests/trading/authz_rules.py."""

from __future__ import annotations

from tests.accounts.authz import (
    DENY,
    LOGIN,
    OK,
    SIGNED_IN,
    TRADER_OF_A,
    VIEWER_OF_A,
    Rule,
    expect,
    on_a,
)

# Any member with the trader role somewhere may check and send a ticket (on the subaccounts
# they trade); the form refuses subaccounts they may not trade. Viewers are refused outright.
TRADER_SOMEWHERE = expect(LOGIN, DENY, OK, OK, OK, OK)


def _ticket(world) -> dict[str, str]:
    return {
        "subaccount": str(world.subaccount.pk),
        "side": "Bid",
        "order_type": "Limit",
        "price": "150",
        "quantity": "1",
        "token": "authz-matrix-ticket-token",
    }


RULES: dict[str, Rule] = {
    "trading:markets": SIGNED_IN,
    "trading:market": Rule(SIGNED_IN.expect, kwargs=lambda w: {"symbol": "SOL_USDC"}),
    "trading:market_klines": Rule(
        SIGNED_IN.expect, kwargs=lambda w: {"symbol": "SOL_USDC"}, data=lambda w: {"interval": "1m"}
    ),
    "trading:market_fills": Rule(SIGNED_IN.expect, kwargs=lambda w: {"symbol": "SOL_USDC"}),
    "trading:ticket_validate": Rule(
        TRADER_SOMEWHERE, method="post", kwargs=lambda w: {"symbol": "SOL_USDC"}, data=_ticket
    ),
    "trading:ticket_submit": Rule(
        TRADER_SOMEWHERE,
        method="post",
        kwargs=lambda w: {"symbol": "SOL_USDC"},
        # an invalid quantity: checked and refused before anything could reach the exchange
        data=lambda w: {**_ticket(w), "quantity": "0.001"},
    ),
    "trading:orders": SIGNED_IN,
    "trading:order_cancel": Rule(
        TRADER_OF_A,
        method="post",
        kwargs=on_a(),
        data=lambda w: {"order_id": "1", "symbol": "SOL_USDC"},
    ),
    "trading:orders_cancel_all": Rule(
        TRADER_OF_A, method="post", kwargs=on_a(), data=lambda w: {"symbol": "NOPE_USDC"}
    ),
    "trading:account_regions": Rule(VIEWER_OF_A, kwargs=on_a()),
    "trading:history": SIGNED_IN,
    "trading:fills_csv": Rule(VIEWER_OF_A, data=lambda w: {"subaccount": str(w.subaccount.pk)}),
    "trading:orders_csv": Rule(VIEWER_OF_A, data=lambda w: {"subaccount": str(w.subaccount.pk)}),
    "trading:positions": SIGNED_IN,
    "trading:position_close": Rule(
        TRADER_OF_A, method="post", kwargs=on_a(), data=lambda w: {"symbol": "NOPE_USDC_PERP"}
    ),
    "trading:position_exit_set": Rule(
        TRADER_OF_A,
        method="post",
        kwargs=on_a(),
        data=lambda w: {"symbol": "NOPE_USDC_PERP", "trigger_price": "1"},
    ),
    "trading:position_exit_remove": Rule(
        TRADER_OF_A,
        method="post",
        kwargs=on_a(),
        data=lambda w: {"symbol": "NOPE_USDC_PERP", "order_id": "1"},
    ),
}
