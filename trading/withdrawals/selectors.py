"""Read models for withdrawals: usable addresses, today's usage, local requests, history."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import QuerySet, Sum
from django.utils import timezone

from accounts.models import Role, Subaccount
from accounts.selectors import subaccount_list
from accounts.team import team_time_zone
from trading.backpack.errors import BackpackError
from trading.balances.valuation import asset_places, usdc_symbol
from trading.exchange import exchange_session
from trading.withdrawals.errors import WithdrawalError
from trading.withdrawals.models import (
    WithdrawalAddress,
    WithdrawalLimit,
    WithdrawalPolicy,
    WithdrawalRequest,
)

HISTORY_LOOKBACK = timedelta(minutes=5)


def subaccounts_for_withdrawals(*, user: Any) -> list[Subaccount]:
    """The subaccounts whose withdrawals `user` runs (admin role), by name."""
    rows = subaccount_list(user=user)
    return sorted(
        (r.subaccount for r in rows if r.role == Role.ADMIN), key=lambda s: s.name.lower()
    )


def withdrawal_policy_of(*, subaccount: Subaccount) -> WithdrawalPolicy:
    """The subaccount's policy; an unsaved one with the defaults (a second admin approves each
    address) when no admin has set it yet."""
    return WithdrawalPolicy.objects.filter(subaccount=subaccount).first() or WithdrawalPolicy(
        subaccount=subaccount
    )


def usable_addresses(*, subaccount: Subaccount) -> list[WithdrawalAddress]:
    """The book's addresses a withdrawal may go to: confirmed 2FA-exempt (and approved when
    the policy asks for a second admin)."""
    entries = WithdrawalAddress.objects.filter(
        subaccount=subaccount, confirmed_2fa_exempt=True
    ).select_related("subaccount__withdrawal_policy")
    return [entry for entry in entries if entry.usable]


def usable_address(*, subaccount: Subaccount, address_id: Any) -> WithdrawalAddress:
    """The usable book entry `address_id`, or WithdrawalError saying why not."""
    try:
        pk = int(address_id)
    except (TypeError, ValueError):
        raise WithdrawalError("Choose an address from the book.", field="address") from None
    entry = (
        WithdrawalAddress.objects.filter(pk=pk, subaccount=subaccount)
        .select_related("subaccount")
        .first()
    )
    if entry is None:
        raise WithdrawalError(
            "That address is not in this subaccount's address book.", field="address"
        )
    problem = unusable_reason(entry=entry)
    if problem is not None:
        raise WithdrawalError(problem, field="address")
    return entry


def unusable_reason(*, entry: WithdrawalAddress) -> str | None:
    """Why a withdrawal may not go to the book's `entry` now, or None when it may."""
    if not entry.confirmed_2fa_exempt:
        return (
            "That address is not confirmed as 2FA-exempt on the exchange; the exchange only "
            "sends to such addresses. Confirm it in the address book first."
        )
    if not entry.usable:
        return "That address still waits for a second admin's approval in the address book."
    return None


def address_name(*, record: WithdrawalRequest) -> str:
    """How a request names its address in a message: "treasury (Solana)"."""
    return f"{record.address_label or record.address} ({record.blockchain})"


def request_address(*, record: WithdrawalRequest, lock: bool = False) -> WithdrawalAddress | None:
    """The book entry `record` was requested to, while it is still in the book with the same
    blockchain and address; None once it was removed. `lock`: the entry's row is locked (inside
    a transaction), so a removal waits for the caller's decision."""
    if record.address_entry_id is None:
        return None
    entries = WithdrawalAddress.objects.filter(
        pk=record.address_entry_id,
        subaccount_id=record.subaccount_id,
        blockchain=record.blockchain,
        address=record.address,
    )
    if lock:
        entries = entries.select_for_update(of=("self",))
    return entries.select_related("subaccount__withdrawal_policy").first()


def today_start() -> datetime:
    """Midnight of today in the team's time zone (the daily limits' day, as the daily loss
    limits' and the PnL's)."""
    zone = ZoneInfo(team_time_zone())
    return datetime.combine(timezone.now().astimezone(zone).date(), time(), zone)


def day_used(*, subaccount: Subaccount, asset: str) -> Decimal:
    """Sum of today's requests of `asset` that were not rejected or refused."""

    total = (
        WithdrawalRequest.objects.filter(
            subaccount=subaccount, asset=asset, created_at__gte=today_start()
        )
        .exclude(status__in=WithdrawalRequest.NOT_COUNTED)
        .aggregate(total=Sum("quantity"))["total"]
    )
    return total or Decimal(0)


@dataclass(frozen=True)
class LimitRow:
    """One asset's daily limit and what is left of it today."""

    asset: str
    daily_limit: Decimal
    used: Decimal

    @property
    def left(self) -> Decimal:
        return max(self.daily_limit - self.used, Decimal(0))


@dataclass(frozen=True)
class MaxWithdrawable:
    """What can be withdrawn of one asset now: the smaller of the exchange's maximum and what
    today's limit leaves, with both figures (the exchange's is None when it could not be read,
    and then nothing is claimed to be withdrawable)."""

    asset: str
    exchange_max: Decimal | None
    limit_left: Decimal

    @property
    def now(self) -> Decimal | None:
        if self.exchange_max is None:
            return None
        return min(self.exchange_max, self.limit_left)

    @property
    def bound_by(self) -> str:
        """Which of the two sets the figure: "exchange", "limit", or "" when unknown."""
        if self.exchange_max is None:
            return ""
        return "limit" if self.limit_left < self.exchange_max else "exchange"


def max_withdrawable(*, row: LimitRow, exchange_max: Decimal | None) -> MaxWithdrawable:
    """The max withdrawable now of `row`'s asset, given the exchange's maximum."""
    return MaxWithdrawable(row.asset, exchange_max, row.left)


def limits_today(*, subaccount: Subaccount) -> list[LimitRow]:
    """Every asset with a daily limit, with today's usage."""
    return [
        LimitRow(limit.asset, limit.daily_limit, day_used(subaccount=subaccount, asset=limit.asset))
        for limit in WithdrawalLimit.objects.filter(subaccount=subaccount)
    ]


def withdrawal_requests(*, subaccount: Subaccount, limit: int = 50) -> QuerySet:
    """The subaccount's local withdrawal requests, newest first."""

    return WithdrawalRequest.objects.filter(subaccount=subaccount).select_related(
        "requested_by", "decided_by"
    )[:limit]


async def display_places(*, assets: Iterable[str]) -> dict[str, int]:
    """The display places of each asset's amounts, as the balances page shows them
    (`trading.balances.valuation.asset_places`), from the exchange's markets (cached)."""
    try:
        markets = await exchange_session().markets.all()
    except BackpackError:
        markets = {}  # USDC keeps its cents; another asset is shown with 8 places
    places = {}
    for asset in assets:
        market = markets.get(usdc_symbol(asset))
        places[asset] = asset_places(asset, market.step_size if market is not None else None)
    return places


async def withdrawal_history(*, client: Any, limit: int = 50) -> list:
    """The exchange's withdrawal history of the client's subaccount (with statuses)."""
    return await client.withdrawals(limit=limit)


async def find_on_exchange(*, client: Any, record: Any) -> Any | None:
    """The exchange's withdrawal carrying `record.client_id`, or None when it has none.

    Looks at the withdrawals created since a few minutes before the record.
    """
    since_ms = int((record.created_at - HISTORY_LOOKBACK).timestamp() * 1000)
    offset = 0
    while True:
        page = await client.withdrawals(from_ms=since_ms, limit=1000, offset=offset)
        for withdrawal in page:
            if withdrawal.client_id == record.client_id:
                return withdrawal
        if len(page) < 1000:
            return None
        offset += len(page)
