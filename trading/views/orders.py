"""Open orders across the team (with cancel and cancel-all), fills and order history with
pagination and CSV export, and the lazily loaded account regions of the market page."""

from __future__ import annotations

import csv
import io
from datetime import UTC
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from accounts.decorators import signed_in
from trading import formatting, selectors
from trading.failures import EXCHANGE_ERRORS, failure_text
from trading.forms import HistoryFilterForm
from trading.live_regions import Region, account_live_regions, open_orders_region
from trading.rows import fill_row, order_row, price_text, quantity_text
from trading.selectors import SubaccountAccess
from trading.selectors.account import account_state_read
from trading.services import order_cancel, orders_cancel_all
from trading.views.common import (
    access_for,
    client_ip,
    refused,
    render_async,
)
from trading.views.market import SYMBOL

TRADER_ONLY = "Cancelling orders needs the trader role on {name}."


def _block_region(block: selectors.AccountBlock, *, oob: bool) -> Region:
    access = block.access
    return open_orders_region(
        access.subaccount,
        block.orders or [],
        can_trade=access.can_trade,
        error=block.error,
        markets=block.markets,
        oob=oob,
        senders=block.senders,
    )


@require_GET
@signed_in
async def orders_page(request: HttpRequest) -> HttpResponse:
    """Open orders of every subaccount the user may see, live through ``ws/account/``."""
    blocks = await selectors.open_orders_for_team(user=request.user)
    context = {"regions": [_block_region(b, oob=False) for b in blocks], "blocks": blocks}
    template = "trading/orders.html"
    if getattr(request, "htmx", False):
        template = "trading/orders.html#regions"
    return await render_async(request, template, context)


async def _orders_region(access: SubaccountAccess) -> Region:
    subaccount = access.subaccount
    markets = await selectors.markets_known()
    try:
        orders = await selectors.open_orders_for(subaccount)
    except EXCHANGE_ERRORS as error:
        return open_orders_region(
            subaccount, [], can_trade=access.can_trade, error=failure_text(error), senders=None
        )
    senders = await selectors.order_senders(subaccount, orders)
    return open_orders_region(
        subaccount, orders, can_trade=access.can_trade, markets=markets, senders=senders
    )


async def _regions_answer(
    request: HttpRequest, regions: list[Region], text: str = "", level: str = "info"
) -> HttpResponse:
    """An htmx answer: regions swapped out of band, and the page's message when given."""
    message = {"text": text, "level": level} if text else None
    context = {"regions": regions, "message": message}
    return await render_async(request, "trading/partials/regions.html", context)


def _clean_symbol(raw: str) -> str | None:
    symbol = (raw or "").strip().upper()
    return symbol if symbol and SYMBOL.match(symbol) else None


@require_POST
@signed_in
async def cancel_order(request: HttpRequest, subaccount_id: int) -> HttpResponse:
    """Cancel one order; answers the refreshed open orders region and a message."""
    access = await access_for(request, subaccount_id)
    if not access.can_trade:
        return refused(request, TRADER_ONLY.format(name=access.subaccount.name))
    symbol = _clean_symbol(request.POST.get("symbol", ""))
    order_id = (request.POST.get("order_id") or "").strip()
    if symbol is None or not order_id.isdigit():
        return refused(request, "Say which order to cancel (market and order id).", status=400)
    try:
        order = await order_cancel(
            actor=request.user,
            subaccount=access.subaccount,
            symbol=symbol,
            order_id=order_id,
            ip=client_ip(request),
        )
        text, level = f"Order {order.id} in {symbol}: {order.status.value}.", "ok"
    except PermissionDenied as denied:
        return refused(request, str(denied))
    except EXCHANGE_ERRORS as error:
        text, level = f"Cancel failed: {failure_text(error)}", "error"
    region = await _orders_region(access)
    return await _regions_answer(request, [region], text, level)


@require_POST
@signed_in
async def cancel_all(request: HttpRequest, subaccount_id: int) -> HttpResponse:
    """Cancel every open order of the subaccount (in one market when `symbol` is posted)."""
    access = await access_for(request, subaccount_id)
    if not access.can_trade:
        return refused(request, TRADER_ONLY.format(name=access.subaccount.name))
    raw = request.POST.get("symbol", "")
    symbol = _clean_symbol(raw)
    if raw.strip() and symbol is None:
        return refused(request, f"{raw!r} is not a market symbol.", status=400)
    try:
        cancelled = await orders_cancel_all(
            actor=request.user,
            subaccount=access.subaccount,
            symbol=symbol,
            ip=client_ip(request),
        )
        where = f" in {symbol}" if symbol else ""
        text, level = (
            f"Cancelled {len(cancelled)} {ngettext('order', 'orders', len(cancelled))} of "
            f"{access.subaccount.name}{where}.",
            "ok",
        )
    except PermissionDenied as denied:
        return refused(request, str(denied))
    except EXCHANGE_ERRORS as error:
        text, level = f"Cancel all failed: {failure_text(error)}", "error"
    region = await _orders_region(access)
    return await _regions_answer(request, [region], text, level)


@require_GET
@signed_in
async def account_regions(request: HttpRequest, subaccount_id: int) -> HttpResponse:
    """The account regions of one subaccount (open orders, positions, balances), swapped out
    of band; the market page loads them after its first paint."""
    access = await access_for(request, subaccount_id)
    state = await account_state_read(access.subaccount, sparklines=False)
    regions = account_live_regions(state, can_trade=access.can_trade)
    return await _regions_answer(request, regions.all())


# -- history -----------------------------------------------------------------------------------


def _page_number(raw: str | None) -> int:
    try:
        return max(1, min(int(raw or 1), 10_000))
    except ValueError:
        return 1


@require_GET
@signed_in
async def history_page(request: HttpRequest) -> HttpResponse:
    """Fills or orders (``?kind=orders``) of one subaccount the user may see, 50 a page."""
    accesses = await selectors.subaccount_access_async(user=request.user)
    filters = HistoryFilterForm(request.GET)
    kind, symbol = filters.filters()
    page = _page_number(request.GET.get("page"))
    chosen = None
    wanted = request.GET.get("subaccount", "")
    for access in accesses:
        if str(access.subaccount.pk) == wanted or (chosen is None and not wanted):
            chosen = access
    context: dict[str, Any] = {
        "accesses": accesses,
        "chosen": chosen,
        "kind": kind,
        "symbol": symbol,
        "page": page,
        "rows": [],
        "has_next": False,
        "error": "",
        "notices": filters.notices(),
        # the market box keeps what was typed, to correct it (links use `symbol`)
        "symbol_typed": request.GET.get("symbol", "") if "symbol" in filters.errors else symbol,
    }
    if wanted and chosen is None:
        context["error"] = "You may not see that subaccount, or it does not exist."
    elif chosen is not None:
        try:
            if kind == "fills":
                result = await selectors.fills_page(chosen.subaccount, symbol=symbol, page=page)
                markets = await selectors.markets_known()
                context["rows"] = [fill_row(f, markets.get(f.symbol)) for f in result.rows]
            else:
                result = await selectors.orders_page(chosen.subaccount, symbol=symbol, page=page)
                markets = await selectors.markets_known()
                context["rows"] = [order_row(o, markets.get(o.symbol)) for o in result.rows]
            context["has_next"] = result.has_next
        except EXCHANGE_ERRORS as error:
            context["error"] = failure_text(error)
    template = "trading/history.html"
    if getattr(request, "htmx", False):
        template = "trading/history.html#history_table"
    return await render_async(request, template, context)


FILL_COLUMNS = [
    "time_utc", "subaccount", "symbol", "side", "price", "quantity", "fee", "fee_symbol",
    "liquidity", "order_id", "trade_id",
]  # fmt: skip
ORDER_COLUMNS = [
    "created_utc", "subaccount", "symbol", "side", "type", "status", "price", "quantity",
    "executed_quantity", "executed_quote_quantity", "time_in_force", "post_only",
    "reduce_only", "order_id", "client_id",
]  # fmt: skip


def _utc(value: Any) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ") if value else ""


def _text(value: Decimal | None) -> str:
    return formatting.plain(value, empty="")


def _fill_line(name: str, fill: Any, market: Any) -> list[Any]:
    """The history page's figures (price on the tick, size on the step), without the grouping;
    the fee as charged, to the last decimal: a CSV is what fees are added up from, and a sum
    of fees rounded to the cent would not reconcile with the exchange's."""
    return [
        _utc(fill.timestamp), name, fill.symbol, fill.side.value, price_text(fill.price, market),
        quantity_text(fill.quantity, market), _text(fill.fee), fill.fee_symbol,
        "maker" if fill.is_maker else "taker", fill.order_id,
        "" if fill.trade_id is None else fill.trade_id,
    ]  # fmt: skip


def _order_line(name: str, order: Any) -> list[Any]:
    return [
        _utc(order.created_at), name, order.symbol, order.side.value, order.order_type.value,
        order.status.value, _text(order.price), _text(order.quantity),
        formatting.plain(order.executed_quantity), formatting.plain(order.executed_quote_quantity),
        order.time_in_force.value if order.time_in_force else "",
        "true" if order.post_only else "false", "true" if order.reduce_only else "false",
        order.id, "" if order.client_id is None else order.client_id,
    ]  # fmt: skip


async def _csv_export(request: HttpRequest, kind: str) -> HttpResponse:
    """Fills (last 30 days) or order history of one subaccount the user may see, as CSV."""
    accesses = await selectors.subaccount_access_async(user=request.user)
    wanted = request.GET.get("subaccount", "")
    chosen = next((a for a in accesses if str(a.subaccount.pk) == wanted), None)
    if chosen is None:
        return HttpResponse(
            "Pick a subaccount you may see (?subaccount=<id>).", status=404,
            content_type="text/plain; charset=utf-8",
        )  # fmt: skip
    filters = HistoryFilterForm(request.GET)
    _, symbol = filters.filters()
    if "symbol" in filters.errors:
        return HttpResponse(
            " ".join(filters.errors["symbol"]), status=400,
            content_type="text/plain; charset=utf-8",
        )  # fmt: skip
    subaccount = chosen.subaccount
    try:
        if kind == "fills":
            columns = FILL_COLUMNS
            fills = await selectors.fills_all(subaccount, symbol=symbol)
            markets = await selectors.markets_known()
            lines = [_fill_line(subaccount.name, f, markets.get(f.symbol)) for f in fills]
        else:
            columns = ORDER_COLUMNS
            lines = [_order_line(subaccount.name, o)
                     for o in await selectors.orders_all(subaccount, symbol=symbol)]  # fmt: skip
    except EXCHANGE_ERRORS as error:
        context = {
            "accesses": accesses, "chosen": chosen, "kind": kind, "symbol": symbol or "",
            "page": 1, "rows": [], "has_next": False,
            "error": f"CSV export failed: {failure_text(error)}",
        }  # fmt: skip
        return await render_async(request, "trading/history.html", context)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    writer.writerows(lines)
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    filename = f"{kind}-{subaccount.pk}-{symbol or 'all'}-{stamp}.csv"
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_GET
@signed_in
async def fills_csv(request: HttpRequest) -> HttpResponse:
    """The subaccount's fills of the last 30 days as CSV, with the history page's figures."""
    return await _csv_export(request, "fills")


@require_GET
@signed_in
async def orders_csv(request: HttpRequest) -> HttpResponse:
    """The subaccount's order history as CSV (Decimals as plain strings)."""
    return await _csv_export(request, "orders")
