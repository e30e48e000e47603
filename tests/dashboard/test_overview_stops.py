"""The overview's subaccount cards say when a subaccount is stopped: the kill switch (since
when, why), a reduce-only mode set by an admin, and today's daily loss stop (the subaccount's
or a member's), for every member who sees the card, in the page and in its refresh."""

from __future__ import annotations

import html
import re
from datetime import UTC

import pytest
from asgiref.sync import sync_to_async

from accounts.models import AuditEvent
from tests.dashboard.test_team_overview import PARTIAL, _card
from tests.trading.pages.conftest import (  # the trading pages' desk on the sandbox
    _fast_passwords,
    client_for_user,
    closes_session,
    desk,
    exchange_urls,
)
from tests.trading.risk.test_kill_switch import admin, code  # noqa: F401
from trading.models import RiskLimit
from trading.risk.kill import kill_switch_engage, kill_switch_release
from trading.risk.loss import loss_day

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("closes_session")]
__all__ = ["_fast_passwords", "closes_session", "desk", "exchange_urls"]


def stops(card: str) -> list[str]:
    return [
        html.unescape(re.sub(r"\s+", " ", text).strip())
        for text in re.findall(r"<li data-stop=\"[a-z-]+\">(.*?)</li>", card, re.S)
    ]


async def test_every_member_sees_the_kill_switch_on_the_card_until_it_is_lifted(
    desk,
    admin,  # noqa: F811
) -> None:
    viewer = await client_for_user(desk.viewer)
    assert stops(_card((await viewer.get("/")).content.decode(), desk.main.pk)) == []

    await kill_switch_engage(
        actor=admin, subaccount=desk.main, reason="runaway bot", otp_code=await code(admin)
    )

    engaged = await AuditEvent.objects.aget(action="kill_switch_engage")
    since = engaged.created_at.astimezone(UTC).strftime("%H:%M")
    marker = f"Kill switch engaged: reduce-only since {since} UTC, reason: runaway bot"
    for user in (desk.viewer, desk.trader):
        client = await client_for_user(user)
        assert stops(_card((await client.get("/")).content.decode(), desk.main.pk)) == [marker]
    partial = (await client.get("/", **PARTIAL)).content.decode()  # the trader's refresh
    assert stops(_card(partial, desk.main.pk)) == [marker]
    assert stops(_card(partial, desk.other.pk)) == []

    await kill_switch_release(actor=admin, subaccount=desk.main, otp_code=await code(admin))

    partial = (await viewer.get("/", **PARTIAL)).content.decode()
    assert stops(_card(partial, desk.main.pk)) == []


async def test_the_card_shows_todays_daily_loss_stops_and_an_admins_reduce_only(desk) -> None:
    today = await sync_to_async(loss_day)()
    reason = "daily loss limit: today's loss 120.00 USDC passed the limit of 100.00 USDC"
    await RiskLimit.objects.acreate(
        subaccount=desk.main, loss_stop_day=today, loss_stop_reason=reason
    )
    await RiskLimit.objects.acreate(
        subaccount=desk.main,
        member=desk.trader,
        reduce_only=True,
        reduce_only_reason="review of yesterday",
        loss_stop_day=today.replace(year=today.year - 1),  # a stop of another day: over
        loss_stop_reason="daily loss limit of trader: old",
    )
    client = await client_for_user(desk.viewer)

    card = _card((await client.get("/")).content.decode(), desk.main.pk)

    assert stops(card) == [
        f"Daily loss stop: reduce-only for today ({reason})",
        "trader: reduce-only (review of yesterday)",
    ]
