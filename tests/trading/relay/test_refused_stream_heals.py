"""A private stream the exchange refuses heals by itself, in a real dashboard process.

The sandbox's clock jumps ±30 s after the dashboard subscribed, and the socket drops: the
re-signed subscription is refused (its timestamp is 30 s off). While the exchange's time route
fails too, the clock cannot be re-measured, and the health page shows the refusal for the
subaccount; once the route answers, the stream client re-measures, re-signs, and order updates
reach the browser's account socket again.
"""

from __future__ import annotations

import asyncio
import os
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
import websockets

from tests.fixtures.dashboard_server import DashboardServer
from tests.trading.relay.test_scaled import frame_matching
from tests.waiting import eventually
from trading.backpack import Credentials, ExchangeSession

PASSWORD = "a long demo password 1"

SETUP = """
from django.contrib.auth import get_user_model
from accounts import crypto
from accounts.models import Membership, Subaccount
user = get_user_model().objects.create_user("tess", password={password!r})
desk = Subaccount.objects.create(name="Desk A", api_public_key={api_key!r},
                                 api_secret_sealed=crypto.seal({api_secret!r}))
Membership.objects.create(user=user, subaccount=desk, role="trader")
print(desk.pk)
"""


@pytest.fixture
def server(tmp_path, sandbox):
    server = DashboardServer(tmp_path, api_url=sandbox.api_url, ws_url=sandbox.ws_url)
    server.env["DASHBOARD_RELAY"] = "embedded"
    server.env["DASHBOARD_MONITORING_FLUSH_S"] = "0.5"
    if os.environ.get("REDIS_URL"):  # scaled run: leases of its own
        parts = urlsplit(os.environ["REDIS_URL"])
        server.env["REDIS_URL"] = urlunsplit(parts._replace(path="/14"))
        import redis

        redis.Redis.from_url(server.env["REDIS_URL"]).flushdb()
    key = sandbox.keys[0]
    try:
        server.start()
        output = server.manage(
            "shell",
            "-c",
            SETUP.format(password=PASSWORD, api_key=key["api_key"], api_secret=key["api_secret"]),
        )
        server.subaccount_id = int(output.strip().splitlines()[-1])
        yield server
    finally:
        sandbox.clear_faults()
        server.stop()


async def health_state_until(http: httpx.AsyncClient, pk: int, state: str, within_s: float):
    """Reload the health page until the subaccount's stream reads `state`; return the row."""
    last = [""]

    async def showing() -> str | None:
        page = (await http.get("/trading/health/")).text
        last[0] = page.split(f'data-subaccount="{pk}"', 1)[1].split("</tr>", 1)[0]
        return last[0] if f'data-stream-state="{state}"' in last[0] else None

    try:
        return await eventually(showing, within_s=within_s, every_s=0.25)
    except AssertionError:
        raise AssertionError(
            f"the health page never showed {state!r}; last row: {last[0]}"
        ) from None


@pytest.mark.parametrize(
    ("shift_ms", "reason"),
    [(30_000, "Request has expired"), (-30_000, "Request timestamp is in the future")],
)
def test_a_refused_private_stream_recovers_and_the_health_page_shows_the_refusal(
    server, sandbox, shift_ms, reason
):
    cookie = server.sign_in("tess", PASSWORD)["sessionid"]
    asyncio.run(_refuse_and_recover(server, sandbox, cookie, shift_ms, reason))


async def _refuse_and_recover(server, sandbox, cookie, shift_ms, reason):
    pk = server.subaccount_id
    ws_url = f"{server.url.replace('http://', 'ws://')}/ws/account/"
    headers = {"Cookie": f"sessionid={cookie}", "Origin": server.url}
    key = sandbox.keys[0]
    session = ExchangeSession(api_url=sandbox.api_url)
    trader = session.client(Credentials(api_key=key["api_key"], api_secret=key["api_secret"]))
    async with (
        websockets.connect(ws_url, additional_headers=headers) as browser,
        httpx.AsyncClient(base_url=server.url, cookies={"sessionid": cookie}) as http,
    ):
        try:
            # The relay may have pushed the subaccount's first state before this socket
            # joined, so the health page, not that frame, tells that the stream is live.
            await health_state_until(http, pk, "connected", 20)

            sandbox.set_faults(clock_offset_ms=shift_ms, error_rate=1.0)
            sandbox.set_faults(ws_drop=True)
            row = await health_state_until(http, pk, f"refused: {reason}", 10)
            assert f'<span class="stream-down">refused: {reason} (down since ' in row

            sandbox.set_faults(error_rate=0.0)  # the clock can be measured again
            await health_state_until(http, pk, "connected", 15)
            order = await trader.place_order(
                "SOL_USDC", "Bid", "Limit", quantity="1", price="138.77", post_only=True
            )
            # The stream's own event row first (pushed as it arrives), then the REST re-read.
            await frame_matching(
                browser, rf'data-event="orderAccepted" data-subaccount="{pk}"[^\n]*@ 138\.77<', 10
            )
            await frame_matching(browser, rf'data-order-id="{order.id}"', 10)
        finally:
            await session.aclose()
