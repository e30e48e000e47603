"""Taking balance snapshots (the relay runs it every 5 minutes; `manage.py snapshot_balances`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import ngettext

from accounts.models import Subaccount
from trading.balances.readmodel import SubaccountBalances
from trading.balances.selectors import balances_for_subaccounts
from trading.balances.snapshots import balance_snapshots_prune, sparklines_forget
from trading.models.balances import BalanceSnapshot

EQUITY_QUANTUM = Decimal("1e-18")  # the column's 18 places


@dataclass
class SnapshotReport:
    """What one snapshot round did: snapshots written, subaccounts skipped (and why), pruned."""

    taken_at: datetime
    taken: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    pruned: int = 0

    def lines(self) -> list[str]:
        """Human-readable summary, one line per fact."""
        taken = len(self.taken)
        snapshots = ngettext("snapshot", "snapshots", taken)
        out = [f"{taken} {snapshots} taken at {self.taken_at:%Y-%m-%d %H:%M:%S} UTC"]
        out += [f"skipped {name}: {reason}" for name, reason in self.skipped]
        out.append(
            f"{self.pruned} old {ngettext('snapshot', 'snapshots', self.pruned)} thinned out "
            "(hourly after 7 days, daily after 91)"
        )
        return out


def _plain(value: Decimal | None) -> str:
    return "" if value is None else format(value, "f")


def snapshot_detail(view: SubaccountBalances) -> dict:
    """The snapshot's `detail`: strings only (Decimals in plain notation)."""
    assets = {}
    for row in view.rows:
        entry = {
            "available": format(row.available, "f"),
            "locked": format(row.locked, "f"),
            "staked": format(row.staked, "f"),
        }
        if row.quote is not None and row.value_usdc is not None:
            entry |= {
                "price": format(row.quote.price, "f"),
                "price_source": row.quote.source.value,
                "value_usdc": format(row.value_usdc, "f"),
            }
        assets[row.asset] = entry
    perp = view.perp
    detail: dict = {"assets": assets}
    if perp is not None:
        detail["perp"] = {
            "net_equity": format(perp.net_equity, "f"),
            "pnl_unrealized": format(perp.pnl_unrealized, "f"),
            "margin_fraction": _plain(perp.margin_fraction),
            "imf": format(perp.imf, "f"),
            "mmf": format(perp.mmf, "f"),
        }
    return detail


async def balance_snapshots_take(*, now: datetime | None = None) -> SnapshotReport:
    """Snapshot the equity of every active subaccount, then thin old snapshots out (every one
    for 7 days, hourly for a quarter, daily for ever).

    A subaccount whose balances or margin summary cannot be read gets no snapshot (never a
    zero); the report says why. Reads are fresh (not from the page's 2 s cache).
    """
    now = now or timezone.now()
    report = SnapshotReport(taken_at=now)
    subaccounts = [s async for s in Subaccount.objects.filter(is_active=True).order_by("name")]
    views = await balances_for_subaccounts(subaccounts, fresh=True, sparklines=False)
    hour = now.replace(minute=0, second=0, microsecond=0)
    this_hour = BalanceSnapshot.objects.filter(
        subaccount__in=subaccounts, taken_at__gte=hour, taken_at__lte=now
    ).values_list("subaccount_id", flat=True)
    had_one = {pk async for pk in this_hour}
    rows = []
    for view in views:
        equity = view.equity_usdc
        if equity is None:
            report.skipped.append((view.name, view.error or view.perp_error or "no equity"))
            continue
        rows.append(
            BalanceSnapshot(
                subaccount_id=view.subaccount_id,
                taken_at=now,
                equity_usdc=equity.quantize(EQUITY_QUANTUM),
                hourly=view.subaccount_id not in had_one,
                detail=snapshot_detail(view),
            )
        )
        report.taken.append(view.name)
    if rows:
        await BalanceSnapshot.objects.abulk_create(rows)
    sparklines_forget()
    report.pruned = await balance_snapshots_prune(now=now)
    return report
