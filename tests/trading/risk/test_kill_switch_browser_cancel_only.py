"""The admin chooses "cancel orders only" on the risk page in Chromium and presses "stop
everything": every order is cancelled on both desks, every position stays open, and the
progress and the report say so (a server and a sandbox of its own: the codes are fresh)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.trading.risk.test_kill_switch_browser import (  # noqa: F401
    PASSWORD,
    _arrange,
    _left,
    code,
    desk,
    exchange,
    run,
)

pytestmark = pytest.mark.browser


def test_the_admin_chooses_cancel_only_and_the_positions_stay_open(desk, exchange, page):  # noqa: F811
    run(_arrange(exchange))
    risk = f"/trading/subaccounts/{desk.subaccount_id}/risk/"
    page.goto(f"{desk.url}/accounts/login/?next={risk}")
    page.fill("#id_username", "ada")
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/accounts/login/verify/"))
    page.fill("#id_code", code())
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(re.escape(risk) + "$"))
    exchange.set_faults(latency_ms=300)

    page.check("#id_kill_what_cancel")
    page.fill("#id_kill_reason", "pause the bots")
    page.fill("#id_kill_code", code(steps_ahead=1))
    page.click("#kill-all")

    progress = page.locator("#kill-progress")
    expect(progress).to_contain_text("Reduce-only; cancelling every open order (cancel only)")
    page.wait_for_url(re.compile(re.escape(risk) + "$"), timeout=30_000)
    page.locator("text=Desk A: Kill switch (cancel orders only)").wait_for(timeout=30_000)
    html = page.content()
    exchange.clear_faults()

    for name in ("Desk A", "Desk B"):
        assert (
            f"{name}: Kill switch (cancel orders only): 3 orders cancelled. No open order is "
            "left; positions kept open: SOL_USDC_PERP; the subaccount is reduce-only." in html
        )
    assert run(_left(exchange)) == [(0, 1), (0, 1)]
