"""Who may use the health page, the alerts bell, the webhooks and /metrics."""

from __future__ import annotations

from tests.accounts.authz import DENY, LOGIN, OK, SIGNED_IN, Rule, expect

STAFF_ONLY = expect(LOGIN, DENY, DENY, DENY, DENY, OK)

RULES = {
    "trading:health": SIGNED_IN,
    "trading:alerts_bell": SIGNED_IN,
    "trading:alerts_seen": Rule(SIGNED_IN.expect, method="post"),
    "trading:alert_webhook_add": Rule(
        STAFF_ONLY, method="post", data=lambda w: {"name": "ops", "url": "https://hooks.test/x"}
    ),
    "trading:alert_webhook_remove": Rule(
        STAFF_ONLY, method="post", kwargs=lambda w: {"webhook_id": 999_999}
    ),
    # a staff session or the bearer token; everyone else gets 401
    "metrics": Rule(expect(DENY, DENY, DENY, DENY, DENY, OK)),
}
