"""Who may use the script keys page and the /bpx/ endpoint."""

from __future__ import annotations

from tests.accounts.authz import DENY, LOGIN, SIGNED_IN, Rule, expect

RULES = {
    # everyone signed in manages their own keys (the page lists what each may see)
    "gateway:script_keys": SIGNED_IN,
    # no key in the world: 404 (not among the keys one may revoke) once signed in
    "gateway:script_key_revoke": Rule(
        expect(LOGIN, DENY, DENY, DENY, DENY, DENY), method="post", kwargs=lambda w: {"key_id": 0}
    ),
    # the exchange's protocol: a browser session is no signature, a private route is refused
    "gateway:bpx": Rule(
        expect(DENY, DENY, DENY, DENY, DENY, DENY), kwargs=lambda w: {"route": "api/v1/capital"}
    ),
}
