"""Who may use the TWAP page: traders (and admins) of the subaccount."""

from __future__ import annotations

from tests.accounts.authz import SIGNED_IN, TRADER_OF_A, Rule


def _on_a_sol(world) -> dict:
    return {"subaccount_id": world.subaccount.pk, "symbol": "SOL_USDC"}


def _twap(world) -> dict[str, str]:
    # an interval longer than the duration: refused by the form before the exchange
    return {"side": "Bid", "quantity": "1", "duration_s": "10", "interval_s": "60"}


RULES = {
    # every member sees the team's running TWAPs on the orders page; traders cancel them
    "trading:team_twaps": SIGNED_IN,
    "trading:team_twap_cancel": Rule(
        TRADER_OF_A,
        method="post",
        kwargs=lambda w: {"subaccount_id": w.subaccount.pk},
        data=lambda w: {"symbol": "SOL_USDC", "strategy_id": "1"},
    ),
    "trading:twap": Rule(TRADER_OF_A, kwargs=_on_a_sol),
    "trading:twap_list": Rule(TRADER_OF_A, kwargs=_on_a_sol),
    "trading:twap_start": Rule(TRADER_OF_A, method="post", kwargs=_on_a_sol, data=_twap),
    # no such strategy: the exchange answers not found, shown as a message
    "trading:twap_cancel": Rule(
        TRADER_OF_A, method="post", kwargs=_on_a_sol, data=lambda w: {"strategy_id": "1"}
    ),
}
