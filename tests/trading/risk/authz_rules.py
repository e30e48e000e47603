"""Who may use the risk page: admins of the subaccount, in a two-factor session."""

from __future__ import annotations

from tests.accounts.authz import ADMIN_OF_A, Rule, on_a

RULES = {
    "trading:risk": Rule(ADMIN_OF_A, kwargs=on_a()),
    "trading:risk_limits": Rule(ADMIN_OF_A, method="post", kwargs=on_a()),
    "trading:kill": Rule(ADMIN_OF_A, method="post", kwargs=on_a()),
}
