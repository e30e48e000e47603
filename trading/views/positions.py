"""Perpetual positions across the team, live through the relay, with a close button."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET, require_POST

from accounts.decorators import signed_in
from trading import selectors
from trading.failures import EXCHANGE_ERRORS, failure_text
from trading.live_regions import Region, positions_region
from trading.services import TradingError, order_summary, position_close
from trading.views.common import (
    access_for,
    client_ip,
    refused,
    render_async,
)
from trading.views.market import SYMBOL


def _block_region(block: selectors.AccountBlock, *, oob: bool) -> Region:
    access = block.access
    return positions_region(
        access.subaccount,
        block.positions or [],
        can_trade=access.can_trade,
        liquidations=block.liquidations,
        error=block.error,
        markets=block.markets,
        oob=oob,
    )


@require_GET
@signed_in
async def positions_page(request: HttpRequest) -> HttpResponse:
    """Open positions of every subaccount the user may see: entry, mark, liquidation
    estimate, unrealized PnL; a close button for traders."""
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
    block = selectors.AccountBlock(access, markets=await selectors.markets_known())
    try:
        block.positions, block.liquidations = await selectors.positions_for(subaccount)
    except EXCHANGE_ERRORS as error:
        block.error = failure_text(error)
    context = {
        "regions": [_block_region(block, oob=True)],
        "message": {"text": text, "level": level},
    }
    return await render_async(request, "trading/partials/regions.html", context)
