"""The PnL page: a calendar of daily PnL, the team's equity curve and breakdown tables by
subaccount, market and member from the ledger; the closed-positions and funding pages. Every
table is also a CSV (`?export=subaccount|market|member|day`, `?export=closed`,
`?export=funding`; see `trading.views.pnl_csv`)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from accounts.decorators import signed_in
from trading.formatting import USDC_PLACES, fixed
from trading.ledger.closed import closed_positions
from trading.ledger.funding import funding_report
from trading.ledger.report import BreakdownRow, PnlReport, pnl_report
from trading.views.common import render_async
from trading.views.pnl_csv import breakdown_csv, closed_csv, days_csv, funding_csv

TABLES = {"subaccount": "Subaccount", "market": "Market", "member": "Member"}


def _table(report: PnlReport, table: str) -> tuple[BreakdownRow, ...]:
    if table == "subaccount":
        return report.by_subaccount
    return report.by_market if table == "market" else report.by_member


def _curve_data(report: PnlReport) -> list[dict[str, object]]:
    return [
        {"time": int(p.at.timestamp()), "value": fixed(p.equity, USDC_PLACES)} for p in report.curve
    ]


@require_GET
@signed_in
async def pnl_page(request: HttpRequest) -> HttpResponse:
    """The PnL page over the subaccounts the user is a member of, or one table as CSV."""
    report = await pnl_report(user=request.user)
    table = request.GET.get("export", "")
    if table in TABLES:
        return breakdown_csv(table, TABLES[table], _table(report, table))
    if table == "day":
        return days_csv(report)
    tables = [(key, title, _table(report, key)) for key, title in TABLES.items()]
    context = {"report": report, "tables": tables, "curve": _curve_data(report)}
    return await render_async(request, "trading/pnl.html", context)


@require_GET
@signed_in
async def funding_page(request: HttpRequest) -> HttpResponse:
    """Funding paid and received per position over 24 h and 7 d, and the next estimate."""
    report = await funding_report(user=request.user)
    if request.GET.get("export") == "funding":
        return funding_csv(report)
    return await render_async(request, "trading/funding.html", {"report": report})


def _duration(seconds: float) -> str:
    minutes = int(seconds // 60)
    days, minutes = divmod(minutes, 1440)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days} d {hours} h"
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


@require_GET
@signed_in
async def closed_page(request: HttpRequest) -> HttpResponse:
    """Closed perpetual positions: entry, exit, size, realized PnL, fees, funding, duration."""
    rows = await closed_positions(user=request.user)
    if request.GET.get("export") == "closed":
        return closed_csv(rows)
    shown = [(row, _duration(row.duration.total_seconds())) for row in rows]
    return await render_async(request, "trading/closed_positions.html", {"rows": shown})
