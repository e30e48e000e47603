"""Who may use the withdrawal pages: admins of the subaccount, in a two-factor session."""

from __future__ import annotations

from tests.accounts.authz import ADMIN_OF_A, SIGNED_IN, Rule, on_a

NO_SUCH_WITHDRAWAL = 999_999

RULES = {
    "trading:withdrawals_index": SIGNED_IN,  # lists only the subaccounts the user administers
    "trading:withdrawals": Rule(ADMIN_OF_A, kwargs=on_a()),
    "trading:withdrawal_request": Rule(ADMIN_OF_A, method="post", kwargs=on_a()),
    "trading:withdrawal_approve": Rule(
        ADMIN_OF_A, method="post", kwargs=on_a(withdrawal_id=lambda w: NO_SUCH_WITHDRAWAL)
    ),
    "trading:withdrawal_reject": Rule(
        ADMIN_OF_A, method="post", kwargs=on_a(withdrawal_id=lambda w: NO_SUCH_WITHDRAWAL)
    ),
    "trading:withdrawal_send": Rule(
        ADMIN_OF_A, method="post", kwargs=on_a(withdrawal_id=lambda w: NO_SUCH_WITHDRAWAL)
    ),
}
