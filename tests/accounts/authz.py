"""The authorisation matrix's vocabulary: actors, outcomes, rules and the world they act in.

Add rules for your app's URLs in ``tests/<your folder>/authz_rules.py``::

    from tests.accounts.authz import ADMIN_OF_A, TRADER_OF_A, Rule, expect

    RULES = {
        "trading:orders": SIGNED_IN,                        # GET, no URL parameters
        "trading:order_cancel": Rule(TRADER_OF_A.expect, method="post",
                                     kwargs=lambda w: {"subaccount_id": w.subaccount.pk}),
    }
    WS_RULES = {"ws/orders/<int:subaccount_id>/": WsRule(expect(...), path=lambda w: ...)}

The matrix test finds every such module, requests each URL as each actor (inside a
savepoint that is rolled back, so a POST leaves nothing behind) and compares the outcome.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Outcome(StrEnum):
    OK = "ok"  # 2xx, or a redirect somewhere other than sign-in / two-factor
    LOGIN = "login"  # redirected to a sign-in page (/accounts/login/ or /admin/login/)
    TWO_FACTOR = "2fa"  # redirected to two-factor enrolment or the code step
    DENY = "deny"  # 403 or 404 (for WebSockets: the connection is refused)


OK, LOGIN, TWO_FACTOR, DENY = Outcome.OK, Outcome.LOGIN, Outcome.TWO_FACTOR, Outcome.DENY

ACTORS = ("anonymous", "viewer", "trader", "other_admin", "admin", "superuser")
"""viewer, trader and admin are members of subaccount A; other_admin admins subaccount B.
admin, other_admin and superuser have a confirmed authenticator and a verified session."""


def expect(
    anonymous: Outcome,
    viewer: Outcome,
    trader: Outcome,
    other_admin: Outcome,
    admin: Outcome,
    superuser: Outcome,
) -> dict[str, Outcome]:
    """The expected outcome for each actor, in the order of ACTORS."""
    return dict(
        zip(ACTORS, (anonymous, viewer, trader, other_admin, admin, superuser), strict=True)
    )


@dataclass
class World:
    """What the rules can point at. `extra` is free for other apps' fixtures."""

    subaccount: Any  # A
    other_subaccount: Any  # B
    users: dict[str, Any]
    memberships: dict[str, Any]
    address: Any
    extra: dict[str, Any] = field(default_factory=dict)


Kwargs = Callable[[World], dict[str, Any]]


@dataclass(frozen=True)
class Rule:
    """How to request one URL name and what each actor must get."""

    expect: dict[str, Outcome]
    method: str = "get"
    kwargs: Kwargs | None = None  # URL parameters
    data: Kwargs | None = None  # query (GET) or form (POST) data
    path: Callable[[World], str] | None = None  # for patterns without a name


@dataclass(frozen=True)
class WsRule:
    """A WebSocket route: the path to connect to and who may connect."""

    expect: dict[str, Outcome]
    path: Callable[[World], str]


def on_a(**more: Callable[[World], Any]) -> Kwargs:
    """URL kwargs with subaccount A's id, plus any others."""
    return lambda w: {"subaccount_id": w.subaccount.pk, **{k: f(w) for k, f in more.items()}}


PUBLIC = Rule(expect(OK, OK, OK, OK, OK, OK))
SIGNED_IN = Rule(expect(LOGIN, OK, OK, OK, OK, OK))
VIEWER_OF_A = expect(LOGIN, OK, OK, DENY, OK, OK)
TRADER_OF_A = expect(LOGIN, DENY, OK, DENY, OK, OK)
ADMIN_OF_A = expect(LOGIN, DENY, DENY, DENY, OK, OK)
STAFF = expect(LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, OK)
