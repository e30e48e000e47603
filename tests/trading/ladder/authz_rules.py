"""Who may use the ladder page: traders (and admins) of the subaccount."""

from __future__ import annotations

from tests.accounts.authz import TRADER_OF_A, Rule


def _ladder(world) -> dict[str, str]:
    # one order is no ladder: refused by the form before anything reaches the exchange
    return {
        "side": "Bid",
        "from_price": "149",
        "to_price": "140",
        "count": "1",
        "distribution": "flat",
        "total_quantity": "1",
    }


def _on_a_sol(world) -> dict:
    return {"subaccount_id": world.subaccount.pk, "symbol": "SOL_USDC"}


RULES = {
    "trading:ladder": Rule(TRADER_OF_A, kwargs=_on_a_sol),
    "trading:ladder_preview": Rule(TRADER_OF_A, method="post", kwargs=_on_a_sol, data=_ladder),
    "trading:ladder_send": Rule(TRADER_OF_A, method="post", kwargs=_on_a_sol, data=_ladder),
}
