"""Authorisation matrix rules of the ledger's pages. Collected through
tests/trading/authz_rules.py."""

from __future__ import annotations

from tests.accounts.authz import SIGNED_IN, Rule

RULES: dict[str, Rule] = {
    # every signed-in user gets the page; its figures are over their own subaccounts only
    "trading:pnl": SIGNED_IN,
    "trading:funding": SIGNED_IN,
    "trading:closed_positions": SIGNED_IN,
}
