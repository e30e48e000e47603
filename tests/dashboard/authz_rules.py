"""Who may open the live connections (the routes live in dashboard/routing.py).

Any signed-in user may connect: the market stream is public data, and the account stream
joins only the subaccounts the user may see (tests/trading/relay checks what each receives).
"""

from __future__ import annotations

from tests.accounts.authz import DENY, OK, WsRule, expect

SIGNED_IN_SOCKET = expect(DENY, OK, OK, OK, OK, OK)

WS_RULES: dict[str, WsRule] = {
    r"^ws/market/(?P<symbol>[A-Za-z0-9_]{1,40})/$": WsRule(
        SIGNED_IN_SOCKET, path=lambda w: "/ws/market/SOL_USDC/"
    ),
    "ws/account/": WsRule(SIGNED_IN_SOCKET, path=lambda w: "/ws/account/"),
    # the overview's pushes: joins only the subaccounts the user may see
    # (tests/dashboard/test_overview_push.py checks what each receives)
    "ws/overview/": WsRule(SIGNED_IN_SOCKET, path=lambda w: "/ws/overview/"),
}
