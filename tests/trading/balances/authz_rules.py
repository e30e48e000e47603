"""Authorisation matrix rules of the team balances pages. Collected through
tests/trading/authz_rules.py."""

from __future__ import annotations

from tests.accounts.authz import ADMIN_OF_A, SIGNED_IN, VIEWER_OF_A, Rule, on_a

RULES: dict[str, Rule] = {
    # every signed-in user gets the page; it lists only the subaccounts they may see
    "trading:balances": SIGNED_IN,
    "trading:balances_totals": SIGNED_IN,
    "trading:balances_subaccount": Rule(VIEWER_OF_A, kwargs=on_a()),
    "trading:balances_thresholds": Rule(ADMIN_OF_A, kwargs=on_a()),
}
