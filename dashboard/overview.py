"""The overview page's read model: the team figures (equity, today's PnL, exposure, the
largest positions, per-subaccount cards from `trading.ledger.team`), each of the user's
subaccounts with its open orders, the unread alerts, and the pages a user of that role
needs."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from asgiref.sync import sync_to_async
from django.urls import reverse

from accounts.models import Role
from trading.formatting import usdc
from trading.ledger.team import SubaccountFigures, TeamFigures, team_figures
from trading.monitoring.bell import Bell, bell_for
from trading.risk.selectors import StopMarker, risk_stops_for
from trading.selectors import SubaccountAccess, open_orders_for_team


@dataclass(frozen=True)
class PageLink:
    """A page the user's role opens, with what it is for."""

    url: str
    title: str
    what: str


@dataclass(frozen=True)
class SubaccountSummary:
    """One subaccount on the overview: value and open orders, or why they could not be read
    (never a zero for a failed read)."""

    access: SubaccountAccess
    value_text: str
    value_error: str
    open_orders: int | None
    orders_error: str
    figures: SubaccountFigures | None = None
    stops: tuple[StopMarker, ...] = ()

    @property
    def is_admin(self) -> bool:
        return self.access.role == Role.ADMIN

    @property
    def links(self) -> dict[str, str]:
        """The card's own pages (reversed once per subaccount and process)."""
        return _links(self.access.subaccount.pk)


@lru_cache(maxsize=64)
def _url(name: str) -> str:
    return reverse(name)


@lru_cache(maxsize=4096)
def _links(pk: int) -> dict[str, str]:
    # a poll renders every card: reversing four URLs each time was a tenth of the render
    return {
        "detail": reverse("accounts:subaccount_detail", args=[pk]),
        "withdrawals": reverse("trading:withdrawals", args=[pk]),
        "members": reverse("accounts:members", args=[pk]),
        "settings": reverse("accounts:subaccount_settings", args=[pk]),
    }


@dataclass(frozen=True)
class Overview:
    subaccounts: tuple[SubaccountSummary, ...]
    pages: tuple[PageLink, ...]
    team: TeamFigures | None = None
    bell: Bell | None = None


def _value(figures: SubaccountFigures | None) -> tuple[str, str]:
    if figures is None or figures.equity is None:
        return "", (figures.equity_error if figures is not None else "") or "could not be read"
    return f"{usdc(figures.equity)} USDC", ""


def pages_for(*, user: Any, roles: set[Role]) -> tuple[PageLink, ...]:
    """The pages a user with `roles` (on any subaccount) needs, most used first."""
    pages = [
        PageLink(_url("trading:markets"), "Markets", "prices, books and charts"),
        PageLink(_url("trading:balances"), "Balances", "every subaccount's assets"),
        PageLink(_url("trading:pnl"), "PnL", "by day, subaccount, market and member"),
        PageLink(_url("trading:orders"), "Open orders", "across the team"),
        PageLink(_url("trading:positions"), "Positions", "perpetual positions"),
        PageLink(_url("trading:history"), "History", "fills and past orders"),
    ]
    if Role.TRADER in roles or Role.ADMIN in roles or user.is_superuser:
        pages[0] = PageLink(_url("trading:markets"), "Markets", "trade from the order ticket")
    if Role.ADMIN in roles or user.is_superuser:
        pages += [
            PageLink(_url("trading:withdrawals_index"), "Withdrawals", "request and approve"),
            PageLink(_url("accounts:subaccount_list"), "Subaccounts", "keys, members, rules"),
            PageLink(_url("accounts:audit_log"), "Audit log", "who changed what"),
            PageLink(_url("accounts:team_settings"), "Team settings", "the team's time zone"),
        ]
    pages.append(PageLink(_url("trading:health"), "API health", "streams and the exchange"))
    if user.is_staff:
        pages.append(PageLink(_url("admin:index"), "Admin", "users and records"))
    return tuple(pages)


async def overview_for(*, user: Any) -> Overview:
    """The team figures, the user's subaccounts (value, open orders, figures, the stops in
    force: kill switch, reduce-only, daily loss), unread alerts and pages, read
    concurrently; only subaccounts the user is a member of."""
    blocks, team, bell = await asyncio.gather(
        open_orders_for_team(user=user, recent=True),
        team_figures(user=user, detail=False),
        sync_to_async(bell_for)(user),
    )
    by_id = {f.access.subaccount.pk: f for f in team.subaccounts}
    stops = await sync_to_async(risk_stops_for)(
        subaccount_ids=[b.access.subaccount.pk for b in blocks]
    )
    summaries = []
    for block in blocks:
        figures = by_id.get(block.access.subaccount.pk)
        value_text, value_error = _value(figures)
        summaries.append(
            SubaccountSummary(
                access=block.access,
                value_text=value_text,
                value_error=value_error,
                open_orders=len(block.orders) if block.orders is not None else None,
                orders_error=block.error,
                figures=figures,
                stops=tuple(stops.get(block.access.subaccount.pk, ())),
            )
        )
    roles = {Role(b.access.role) for b in blocks}
    return Overview(tuple(summaries), pages_for(user=user, roles=roles), team, bell)
