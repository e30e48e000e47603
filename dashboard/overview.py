"""The overview page's read model until the team overview exists: each of the user's
subaccounts with its value and open orders, and the pages a user of that role needs."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from django.urls import reverse

from accounts.models import Role
from trading.balances.readmodel import SubaccountBalances
from trading.balances.selectors import balances_for_subaccounts
from trading.formatting import usdc
from trading.selectors import SubaccountAccess, open_orders_for_team, subaccount_access_async


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

    @property
    def is_admin(self) -> bool:
        return self.access.role == Role.ADMIN


@dataclass(frozen=True)
class Overview:
    subaccounts: tuple[SubaccountSummary, ...]
    pages: tuple[PageLink, ...]


def _value(view: SubaccountBalances | None) -> tuple[str, str]:
    if view is None or not view.ok:
        return "", (view.error if view is not None else "") or "could not be read"
    value = view.equity_usdc if view.equity_usdc is not None else view.value_usdc
    return f"{usdc(value)} USDC", ""


def pages_for(*, user: Any, roles: set[Role]) -> tuple[PageLink, ...]:
    """The pages a user with `roles` (on any subaccount) needs, most used first."""
    pages = [
        PageLink(reverse("trading:markets"), "Markets", "prices, books and charts"),
        PageLink(reverse("trading:balances"), "Balances", "every subaccount's assets"),
        PageLink(reverse("trading:orders"), "Open orders", "across the team"),
        PageLink(reverse("trading:positions"), "Positions", "perpetual positions"),
        PageLink(reverse("trading:history"), "History", "fills and past orders"),
    ]
    if Role.TRADER in roles or Role.ADMIN in roles or user.is_superuser:
        pages[0] = PageLink(reverse("trading:markets"), "Markets", "trade from the order ticket")
    if Role.ADMIN in roles or user.is_superuser:
        pages += [
            PageLink(reverse("trading:withdrawals_index"), "Withdrawals", "request and approve"),
            PageLink(reverse("accounts:subaccount_list"), "Subaccounts", "keys, members, rules"),
            PageLink(reverse("accounts:audit_log"), "Audit log", "who changed what"),
        ]
    pages.append(PageLink(reverse("trading:health"), "API health", "streams and the exchange"))
    if user.is_staff:
        pages.append(PageLink(reverse("admin:index"), "Admin", "users and records"))
    return tuple(pages)


async def overview_for(*, user: Any) -> Overview:
    """The user's subaccounts (value, open orders) and pages, read concurrently."""
    accesses = await subaccount_access_async(user=user)
    subaccounts = [a.subaccount for a in accesses]
    blocks, views = await asyncio.gather(
        open_orders_for_team(user=user),
        balances_for_subaccounts(subaccounts, fresh=False, sparklines=False),
    )
    by_id = {v.subaccount_id: v for v in views}
    summaries = []
    for block in blocks:
        value_text, value_error = _value(by_id.get(block.access.subaccount.pk))
        summaries.append(
            SubaccountSummary(
                access=block.access,
                value_text=value_text,
                value_error=value_error,
                open_orders=len(block.orders) if block.orders is not None else None,
                orders_error=block.error,
            )
        )
    roles = {Role(b.access.role) for b in blocks}
    return Overview(tuple(summaries), pages_for(user=user, roles=roles))
