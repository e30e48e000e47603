"""In a real daphne process the agent runs by itself: calls made for a page reach /metrics."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.fixtures.dashboard_server import DashboardServer
from tests.waiting import eventually

PASSWORD = "a long demo password 1"
TOKEN = "scrape-token-for-the-live-test"

SETUP = """
from django.contrib.auth import get_user_model
from accounts import crypto
from accounts.models import Membership, Subaccount
user = get_user_model().objects.create_user("vera", password={password!r})
desk = Subaccount.objects.create(name="Desk A", api_public_key={api_key!r},
                                 api_secret_sealed=crypto.seal({api_secret!r}))
Membership.objects.create(user=user, subaccount=desk, role="viewer")
print(desk.pk)
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory, _sandbox_still):
    server = DashboardServer(
        tmp_path_factory.mktemp("monitoring-live"),
        api_url=_sandbox_still.api_url,
        ws_url=_sandbox_still.ws_url,
    )
    server.env["DASHBOARD_MONITORING_FLUSH_S"] = "0.5"
    server.env["DASHBOARD_METRICS_TOKEN"] = TOKEN
    server.env["DASHBOARD_RELAY"] = "off"
    key = _sandbox_still.keys[1]
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
        server.stop()


def _ok_calls(metrics: str) -> float:
    found = re.search(
        r'desk_exchange_calls_total\{outcome="ok",subaccount="Desk A"\} (\S+)', metrics
    )
    return float(found.group(1)) if found else 0.0


def test_calls_made_for_a_page_are_flushed_and_scraped(server, _sandbox_still):
    _sandbox_still.reset()  # no fault left over from an earlier test
    with httpx.Client(base_url=server.url, timeout=10) as browser:
        login = browser.get("/accounts/login/")
        csrf = browser.cookies["csrftoken"]
        browser.post(
            "/accounts/login/",
            data={"username": "vera", "password": PASSWORD, "csrfmiddlewaretoken": csrf},
            headers={"Referer": f"{server.url}/accounts/login/"},
        )
        block = browser.get(f"/trading/balances/{server.subaccount_id}/")

        def scraped() -> str | None:
            text = browser.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).text
            return text if _ok_calls(text) > 0 else None

        metrics = eventually(
            scraped, within_s=10, what="an ok call counted", every_s=0.25
        ).blocking()
        health = browser.get("/trading/health/").text

    assert login.status_code == 200 and block.status_code == 200
    assert _ok_calls(metrics) >= 1
    row = health.split(f'data-subaccount="{server.subaccount_id}"', 1)[1].split("</tr>", 1)[0]
    assert re.search(r'<td data-label="Calls" class="num">[1-9]\d*</td>', row)  # flushed by daphne
