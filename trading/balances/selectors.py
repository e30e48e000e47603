"""Balances read models: one subaccount's block, and the team view of every visible one.

Both are async (they read the exchange); reads of the same subaccount within ~2 s are shared,
so the page's blocks and its totals cost one exchange read per subaccount.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.utils import timezone

from accounts.models import LowBalanceThreshold, Subaccount
from accounts.permissions import subaccounts_visible_to
from trading.balances.fetch import AccountRead, account_read, market_data, price_quotes
from trading.balances.grouped import GroupedRead
from trading.balances.readmodel import PerpSummary, SubaccountBalances, TeamBalances
from trading.balances.snapshots import equity_sparklines
from trading.balances.valuation import asset_rows, asset_totals


async def _no_sparklines() -> dict:
    return {}


async def _read_minimums(ids: list[int], _unused: object) -> dict[int, dict[str, Decimal]]:
    found: dict[int, dict[str, Decimal]] = {}
    query = LowBalanceThreshold.objects.filter(subaccount_id__in=ids)
    async for threshold in query.only("subaccount_id", "asset", "minimum"):
        found.setdefault(threshold.subaccount_id, {})[threshold.asset] = threshold.minimum
    return found


# The page's blocks arrive together, one subaccount each: one query for all their minimums.
_minimums_read: GroupedRead[int, dict[str, Decimal]] = GroupedRead(_read_minimums)


async def _minimums(subaccount_ids: Iterable[int]) -> dict[int, dict[str, Decimal]]:
    return await _minimums_read.get(subaccount_ids)


def _view(
    subaccount: Subaccount,
    read: AccountRead,
    *,
    quotes: dict,
    places: dict[str, int],
    minimums: dict[str, Decimal],
    price_error: str,
    read_at: datetime,
) -> SubaccountBalances:
    if read.balances is None:
        return SubaccountBalances(
            subaccount.pk, subaccount.name, (), read_at, error=read.error, price_error=price_error
        )
    balances = {a: (b.available, b.locked, b.staked) for a, b in read.balances.items()}
    perp = None
    if read.collateral is not None:
        c = read.collateral
        perp = PerpSummary(
            net_equity=c.net_equity,
            net_equity_available=c.net_equity_available,
            pnl_unrealized=c.pnl_unrealized,
            margin_fraction=c.margin_fraction,
            imf=c.imf,
            mmf=c.mmf,
        )
    rows = asset_rows(balances, quotes=quotes, places=places, minimums=minimums)
    return SubaccountBalances(
        subaccount.pk,
        subaccount.name,
        rows,
        read_at,
        perp=perp,
        perp_error=read.collateral_error,
        price_error=price_error,
    )


async def balances_for_subaccounts(
    subaccounts: list[Subaccount], *, fresh: bool, sparklines: bool
) -> list[SubaccountBalances]:
    """Views of `subaccounts` (the caller checked who may see them), read concurrently."""
    if not subaccounts:
        return []
    ids = [s.pk for s in subaccounts]
    read_at = timezone.now()
    # Exchange reads, prices and the database queries all wait on I/O: run them together.
    reads, minimums, _market, lines = await asyncio.gather(
        asyncio.gather(*(account_read(s, fresh=fresh) for s in subaccounts)),
        _minimums(ids),
        market_data(),
        equity_sparklines(ids, now=read_at) if sparklines else _no_sparklines(),
    )
    assets = {a for r in reads if r.balances for a in r.balances}
    assets |= {a for m in minimums.values() for a in m}
    quotes, places, price_error = await price_quotes(assets)  # markets cached by now
    views = [
        _view(
            s,
            r,
            quotes=quotes,
            places=places,
            minimums=minimums.get(s.pk, {}),
            price_error=price_error,
            read_at=read_at,
        )
        for s, r in zip(subaccounts, reads, strict=True)
    ]
    if sparklines:
        views = [v.with_sparklines(*lines.get(v.subaccount_id, (None, None))) for v in views]
    return views


async def balances_view_for(
    subaccount: Subaccount, *, fresh: bool = False, sparklines: bool = True
) -> SubaccountBalances:
    """The balances block of one subaccount (the relay passes it to `balances_html`).

    `fresh=True` bypasses the ~2 s read cache (after a fill). The caller has already checked
    that the reader may see this subaccount.
    """
    (view,) = await balances_for_subaccounts([subaccount], fresh=fresh, sparklines=sparklines)
    return view


async def visible_subaccounts(*, user: Any) -> list[Subaccount]:
    """The active subaccounts `user` may see, by name."""
    query = subaccounts_visible_to(user).filter(is_active=True).order_by("name")
    return [s async for s in query]


def team_from_views(views: list[SubaccountBalances]) -> TeamBalances:
    """Team totals over the views that could be read (failed ones are listed, not counted)."""
    readable = [v.rows for v in views if v.ok]
    price_error = next((v.price_error for v in views if v.price_error), "")
    read_at = max((v.read_at for v in views), default=timezone.now())
    return TeamBalances(tuple(views), asset_totals(readable), read_at, price_error)


async def balances_for_team(
    *, user: Any, fresh: bool = False, sparklines: bool = True
) -> TeamBalances:
    """Every active subaccount `user` may see, read concurrently, with team totals."""
    subaccounts = await visible_subaccounts(user=user)
    return team_from_views(
        await balances_for_subaccounts(subaccounts, fresh=fresh, sparklines=sparklines)
    )
