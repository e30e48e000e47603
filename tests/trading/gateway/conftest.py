"""A live dashboard (daphne, embedded relay) in front of the sandbox, with a trader, a
subaccount on the sandbox's first key, a risk limit, and desk keys issued through the service:
trade, read-only, revoked and expired. The desk reaches the sandbox's WebSocket through a TCP
proxy that counts the upstream connections."""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.fixtures.dashboard_server import DashboardServer
from tests.fixtures.tcp_proxy import TcpProxy

MAX_ORDER = "2000"

SETUP = """
import json
from datetime import timedelta
from decimal import Decimal
from django.contrib.auth import get_user_model
from django.utils import timezone
from accounts import crypto
from accounts.models import Membership, Subaccount
from trading.gateway.keys import script_key_create, script_key_revoke
from trading.gateway.models import ScriptKey
from trading.models import RiskLimit
user = get_user_model().objects.create_user("scripter", password="a long script password 1")
desk = Subaccount.objects.create(name="Script desk", api_public_key={api_key!r},
                                 api_secret_sealed=crypto.seal({api_secret!r}))
Membership.objects.create(user=user, subaccount=desk, role="trader")
RiskLimit.objects.create(subaccount=desk, max_order_notional=Decimal({limit!r}))
out = {{"subaccount": desk.pk}}
for name, trade in (("trade", True), ("read", False), ("watch", False), ("revoked", True),
                    ("expired", True)):
    issued = script_key_create(actor=user, name=name, subaccounts=[desk], can_trade=trade, days=30)
    out[name] = {{"api_key": issued.key.public_key, "secret": issued.secret, "id": issued.key.pk}}
script_key_revoke(actor=user, key_id=out["revoked"]["id"])
ScriptKey.objects.filter(pk=out["expired"]["id"]).update(
    expires_at=timezone.now() - timedelta(seconds=1))
print(json.dumps(out))
"""


@dataclass
class Desk:
    server: DashboardServer
    sandbox: Any
    subaccount_id: int
    keys: dict[str, dict[str, Any]]
    upstream: TcpProxy

    @property
    def ws_url(self) -> str:
        return f"{self.server.url.replace('http://', 'ws://')}/bpx/ws"

    @property
    def bpx_url(self) -> str:
        return f"{self.server.url}/bpx"

    def shell(self, code: str) -> Any:
        """Run `code` in the server's database; it prints one JSON value, returned here."""
        return json.loads(self.server.manage("shell", "-c", code).strip().splitlines()[-1])


@pytest.fixture(scope="module")
def _desk_server(
    tmp_path_factory, _sandbox_still
) -> Iterator[tuple[DashboardServer, dict, TcpProxy]]:
    env = {
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(60),
        "DASHBOARD_ENCRYPTION_KEYS": base64.b64encode(secrets.token_bytes(32)).decode(),
    }
    target = urlsplit(_sandbox_still.ws_url)
    proxy = TcpProxy(target.hostname or "127.0.0.1", target.port or 80).__enter__()
    state = tmp_path_factory.mktemp("gateway-state")
    server = DashboardServer(
        state,
        env=env,
        api_url=_sandbox_still.api_url,
        ws_url=f"ws://127.0.0.1:{proxy.port}{target.path or '/'}",
    )
    key = _sandbox_still.keys[0]
    try:
        server.prepare()
        output = server.manage(
            "shell",
            "-c",
            SETUP.format(api_key=key["api_key"], api_secret=key["api_secret"], limit=MAX_ORDER),
        )
        server.start(migrate=False)  # its relay follows the subaccount from the start
        yield server, json.loads(output.strip().splitlines()[-1]), proxy
    finally:
        server.stop()
        proxy.__exit__(None, None, None)


@pytest.fixture
def desk(_desk_server, sandbox) -> Desk:
    """The live desk, in front of a sandbox reset to its seed for this test."""
    server, seeded, proxy = _desk_server
    keys = {k: v for k, v in seeded.items() if k != "subaccount"}
    return Desk(server, sandbox, seeded["subaccount"], keys, proxy)
