"""Who may use the risk page: admins of the subaccount, in a two-factor session."""

from __future__ import annotations

from tests.accounts.authz import ADMIN_OF_A, DENY, LOGIN, OK, Rule, expect, on_a

RULES = {
    "trading:risk": Rule(ADMIN_OF_A, kwargs=on_a()),
    "trading:risk_limits": Rule(ADMIN_OF_A, method="post", kwargs=on_a()),
    "trading:kill": Rule(ADMIN_OF_A, method="post", kwargs=on_a()),
    "trading:loss_release": Rule(ADMIN_OF_A, method="post", kwargs=on_a()),
    # every subaccount the user admins: other_admin (of B) may pull it too
    "trading:kill_all": Rule(expect(LOGIN, DENY, DENY, OK, OK, OK), method="post"),
    # only the user's own pull is shown: anyone signed in gets their own (maybe empty) list
    "trading:kill_progress": Rule(
        expect(LOGIN, OK, OK, OK, OK, OK), kwargs=lambda w: {"run": "0" * 32}
    ),
}
