"""Every URL and WebSocket route of the project, requested as every kind of user.

The table is the union of `RULES` / `WS_RULES` in every `tests/<folder>/authz_rules.py`
(see `tests.accounts.authz` for how to write one). A URL pattern or WebSocket route without
a rule fails `test_every_url_has_a_rule`, so each new page must state who may use it.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import pytest
from channels.testing import WebsocketCommunicator
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from accounts.models import Role
from dashboard.routing import websocket_urlpatterns
from tests.accounts.authz import ACTORS, DENY, LOGIN, OK, TWO_FACTOR, Outcome, Rule, World, WsRule
from tests.accounts.conftest import verified_client
from tests.factories import (
    MembershipFactory,
    SubaccountFactory,
    SuperuserFactory,
    TOTPDeviceFactory,
    UserFactory,
    WithdrawalAddressFactory,
    WithdrawalPolicyFactory,
)

TESTS = Path(__file__).resolve().parent.parent


def _collect() -> tuple[dict[str, Rule], dict[str, WsRule]]:
    rules: dict[str, Rule] = {}
    ws_rules: dict[str, WsRule] = {}
    for path in sorted(TESTS.glob("*/authz_rules.py")):
        module = importlib.import_module(f"tests.{path.parent.name}.authz_rules")
        for target, found in (
            (rules, getattr(module, "RULES", {})),
            (ws_rules, getattr(module, "WS_RULES", {})),
        ):
            clash = set(target) & set(found)
            assert not clash, f"{path}: rules defined twice: {sorted(clash)}"
            target.update(found)
    return rules, ws_rules


def _walk(patterns: list[Any], prefix: str = "", namespace: str = ""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = namespace
            if pattern.namespace:
                inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            route = prefix + str(pattern.pattern)
            if pattern.name:
                yield (f"{namespace}:{pattern.name}" if namespace else pattern.name), route
            else:
                yield f"route:{route}", route


def url_keys() -> list[str]:
    """Every URL pattern of the project: 'namespace:name', or 'route:<route>' if unnamed."""
    return sorted({key for key, _ in _walk(get_resolver().url_patterns)})


def ws_keys() -> list[str]:
    return [str(route.pattern) for route in websocket_urlpatterns]


RULES, WS_RULES = _collect()


def test_every_url_has_a_rule():
    missing = [key for key in url_keys() if key not in RULES]
    missing_ws = [key for key in ws_keys() if key not in WS_RULES]

    assert not missing, (
        "URL patterns without an authorisation rule (add them to tests/<app>/authz_rules.py):\n"
        + "\n".join(missing)
    )
    assert not missing_ws, "WebSocket routes without a rule:\n" + "\n".join(missing_ws)


@pytest.fixture
def world(db) -> World:
    return build_world()


def build_world() -> World:
    """Subaccounts A and B, one user per actor, an address on A (see ACTORS)."""
    subaccount = SubaccountFactory(name="Desk A")
    other = SubaccountFactory(name="Desk B")
    WithdrawalPolicyFactory(subaccount=subaccount)
    users = {"viewer": UserFactory(username="viewer"), "trader": UserFactory(username="trader")}
    memberships = {
        "viewer": MembershipFactory(user=users["viewer"], subaccount=subaccount, role=Role.VIEWER),
        "trader": MembershipFactory(user=users["trader"], subaccount=subaccount, role=Role.TRADER),
    }
    users["admin"] = UserFactory(username="admin")
    users["admin"].user_permissions.add(*_add_subaccount_permission())
    memberships["admin"] = MembershipFactory(
        user=users["admin"], subaccount=subaccount, role=Role.ADMIN
    )
    users["other_admin"] = UserFactory(username="other_admin")
    memberships["other_admin"] = MembershipFactory(
        user=users["other_admin"], subaccount=other, role=Role.ADMIN
    )
    users["superuser"] = SuperuserFactory(username="root")
    for name in ("admin", "other_admin", "superuser"):
        TOTPDeviceFactory(user=users[name])
    address = WithdrawalAddressFactory(subaccount=subaccount, added_by=users["admin"])
    return World(subaccount, other, users, memberships, address)


def _add_subaccount_permission():
    from django.contrib.auth.models import Permission

    return Permission.objects.filter(codename="add_subaccount")


def _client(world: World, actor: str) -> Client:
    if actor == "anonymous":
        return Client()
    user = world.users[actor]
    if actor in ("admin", "other_admin", "superuser"):
        return verified_client(user)
    client = Client()
    client.force_login(user)
    return client


def classify(status: int, location: str) -> Outcome | str:
    """What a user would see: the page, a sign-in page, a two-factor step, or a refusal."""
    if status in (401, 403, 404):
        return DENY
    if status in (301, 302, 303, 307, 308):
        path = location.split("?")[0]
        if path.endswith(("/accounts/login/", "/admin/login/")):
            return LOGIN
        if path.endswith(("/accounts/security/enrol/", "/accounts/login/verify/")):
            return TWO_FACTOR
        return OK
    if 200 <= status < 300:
        return OK
    return f"HTTP {status}"


def url_for(key: str, rule: Rule, world: World) -> str:
    if rule.path is not None:
        return rule.path(world)
    return reverse(key, kwargs=rule.kwargs(world) if rule.kwargs else None)


@pytest.mark.parametrize("key", [k for k in url_keys() if k in RULES])
def test_url_answers_each_actor_as_the_table_says(key, world):
    rule = RULES[key]
    url = url_for(key, rule, world)
    data = rule.data(world) if rule.data else {}
    seen = {}
    for actor in ACTORS:
        client = _client(world, actor)
        with transaction.atomic():
            response = getattr(client, rule.method)(url, data)
            transaction.set_rollback(True)
        seen[actor] = classify(response.status_code, response.get("Location", ""))

    wrong = {
        a: f"got {seen[a]}, expected {rule.expect[a]}" for a in ACTORS if seen[a] != rule.expect[a]
    }
    assert not wrong, f"{rule.method.upper()} {url}: {wrong}"


@pytest.mark.parametrize("key", [k for k in ws_keys() if k in WS_RULES])
@pytest.mark.django_db(transaction=True)
async def test_websocket_route_admits_each_actor_as_the_table_says(key, settings):
    from asgiref.sync import sync_to_async

    from dashboard.asgi import application

    settings.DASHBOARD_RELAY = "off"
    rule = WS_RULES[key]
    world = await sync_to_async(build_world)()
    seen = {}
    for actor in ACTORS:
        cookie = await sync_to_async(_session_cookie)(world, actor)
        headers = [(b"origin", b"http://localhost")]
        if cookie:
            headers.append((b"cookie", f"sessionid={cookie}".encode()))
        communicator = WebsocketCommunicator(application, rule.path(world), headers=headers)
        connected, _ = await communicator.connect(timeout=5)
        seen[actor] = OK if connected else DENY
        await communicator.disconnect()

    wrong = {
        a: f"got {seen[a]}, expected {rule.expect[a]}" for a in ACTORS if seen[a] != rule.expect[a]
    }
    assert not wrong, f"WebSocket {key}: {wrong}"


def _session_cookie(world: World, actor: str) -> str:
    if actor == "anonymous":
        return ""
    return _client(world, actor).cookies["sessionid"].value


def test_classify_tells_sign_in_two_factor_and_refusals_apart():
    assert classify(302, "/accounts/login/?next=/x/") == LOGIN
    assert classify(302, "/admin/login/?next=/admin/") == LOGIN
    assert classify(302, "/accounts/security/enrol/?next=/x/") == TWO_FACTOR
    assert classify(302, "/accounts/subaccounts/1/") == OK
    assert classify(403, "") == DENY and classify(404, "") == DENY
    assert classify(500, "") == "HTTP 500"
