"""Perpetual positions across the team, live through the relay, with a close button."""

from __future__ import annotations

import asyncio
import re
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import trigger_client_event

from accounts.decorators import signed_in
from accounts.errors import ServiceError
from trading import selectors
from trading.exits.forms import ORDER_ID_PATTERN, REMOVE_WHICH, ExitForm
from trading.exits.services import position_exit_move, position_exit_remove, position_exit_set
from trading.failures import EXCHANGE_ERRORS, failure_text
from trading.live_regions import Region, positions_region
from trading.rows import exit_words
from trading.services import TradingError, order_summary, position_close
from trading.views.common import (
    access_for,
    client_ip,
    refused,
    render_async,
)
from trading.views.market import SYMBOL

ORDER_ID = re.compile(ORDER_ID_PATTERN)


def _block_region(block: selectors.AccountBlock, *, oob: bool) -> Region:
    access = block.access
    return positions_region(
        access.subaccount,
        block.positions or [],
        can_trade=access.can_trade,
        liquidations=block.liquidations,
        error=block.error,
        markets=block.markets,
        orders=block.orders,
        oob=oob,
    )


@require_GET
@signed_in
async def positions_page(request: HttpRequest) -> HttpResponse:
    """Open positions of every subaccount the user may see: entry, mark, liquidation
    estimate, unrealized PnL, take-profit / stop-loss; close and exit controls for traders."""
    blocks = await selectors.positions_for_team(user=request.user)
    context = {"regions": [_block_region(b, oob=False) for b in blocks], "blocks": blocks}
    template = "trading/positions.html"
    if getattr(request, "htmx", False):
        template = "trading/positions.html#regions"
    return await render_async(request, template, context)


@require_POST
@signed_in
async def close_position(request: HttpRequest, subaccount_id: int) -> HttpResponse:
    """Close one position at market (reduce-only); answers the refreshed region + message."""
    access = await access_for(request, subaccount_id)
    subaccount = access.subaccount
    if not access.can_trade:
        return refused(request, f"Closing positions needs the trader role on {subaccount.name}.")
    symbol = (request.POST.get("symbol") or "").strip().upper()
    if not SYMBOL.match(symbol):
        return refused(request, "Say which market's position to close.", status=400)
    try:
        order = await position_close(
            actor=request.user, subaccount=subaccount, symbol=symbol, ip=client_ip(request)
        )
        text, level = f"Closing order sent: {order_summary(order)}.", "ok"
    except PermissionDenied as denied:
        return refused(request, str(denied))
    except TradingError as error:
        text, level = failure_text(error), "error"
    except EXCHANGE_ERRORS as error:
        text, level = f"Close failed: {failure_text(error)}", "error"
    return await _answer(request, access, text, level)


async def _answer(
    request: HttpRequest, access: selectors.SubaccountAccess, text: str, level: str
) -> HttpResponse:
    """The subaccount's refreshed positions region (with its exits) and the message."""
    block = selectors.AccountBlock(access, markets=await selectors.markets_known())
    try:
        (block.positions, block.liquidations), block.orders = await asyncio.gather(
            selectors.positions_for(access.subaccount),
            selectors.open_orders_for(access.subaccount),
        )
    except EXCHANGE_ERRORS as error:
        block.error = failure_text(error)
    context = {
        "regions": [_block_region(block, oob=True)],
        "message": {"text": text, "level": level},
    }
    return await render_async(request, "trading/partials/regions.html", context)


_SET_FIELDS = ("trigger", "percent", "limit")  # the ids of the set form's inputs


@require_POST
@signed_in
async def exit_set(request: HttpRequest, subaccount_id: int) -> HttpResponse:
    """Set a take-profit / stop-loss on one position, or move one (``order_id``)."""
    access = await access_for(request, subaccount_id)
    subaccount = access.subaccount
    if not access.can_trade:
        return refused(request, f"Setting exits needs the trader role on {subaccount.name}.")
    form = ExitForm(request.POST)
    if not form.is_valid():
        return refused(request, " ".join(form.problems()), status=400)
    data = form.cleaned_data
    common = {
        "actor": request.user,
        "subaccount": subaccount,
        "symbol": data["symbol"],
        "trigger_price": data["trigger_price"],
        "limit_price": data["limit_price"],
        "ip": client_ip(request),
    }
    try:
        if data["order_id"]:
            order = await position_exit_move(
                order_id=data["order_id"], percent=data["percent"], **common
            )
            market = (await selectors.markets_known()).get(order.symbol)
            text = f"Exit moved: {exit_words(order, market)}."
        else:
            order = await position_exit_set(percent=data["percent"] or Decimal(100), **common)
            market = (await selectors.markets_known()).get(order.symbol)
            words = f"Exit set: {exit_words(order, market)}."
            answer = await _answer(request, access, words, "ok")
            # The card's set form empties: what was typed in it is now the exit's.
            form_ids = [f"exit-{name}-{subaccount.pk}-{data['symbol']}" for name in _SET_FIELDS]
            return trigger_client_event(answer, "deskFormDone", {"inputs": form_ids})
        level = "ok"
    except PermissionDenied as denied:
        return refused(request, str(denied))
    except ServiceError as error:
        text, level = failure_text(error), "error"
    except EXCHANGE_ERRORS as error:
        # a refused move is put back where it was by the service; the card shows it
        verb = "moved" if data["order_id"] else "set"
        text, level = f"The exit was not {verb}: {failure_text(error)}", "error"
    return await _answer(request, access, text, level)


@require_POST
@signed_in
async def exit_remove(request: HttpRequest, subaccount_id: int) -> HttpResponse:
    """Remove one take-profit / stop-loss (cancel its trigger order)."""
    access = await access_for(request, subaccount_id)
    subaccount = access.subaccount
    if not access.can_trade:
        return refused(request, f"Removing exits needs the trader role on {subaccount.name}.")
    symbol = (request.POST.get("symbol") or "").strip().upper()
    order_id = (request.POST.get("order_id") or "").strip()
    if not SYMBOL.match(symbol) or not ORDER_ID.match(order_id):
        return refused(request, REMOVE_WHICH, status=400)
    try:
        await position_exit_remove(
            actor=request.user,
            subaccount=subaccount,
            symbol=symbol,
            order_id=order_id,
            ip=client_ip(request),
        )
        text, level = f"Exit removed from the {symbol} position.", "ok"
    except PermissionDenied as denied:
        return refused(request, str(denied))
    except EXCHANGE_ERRORS as error:
        text, level = f"The exit was not removed: {failure_text(error)}", "error"
    return await _answer(request, access, text, level)
