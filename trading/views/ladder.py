"""The ladder page of one subaccount and market: the form, the preview table (prices on
tick, sizes on step, notional, fee), sending it as one batch (trader role), and the
subaccount's open orders in that market (live through the relay; the send's answer carries
them refreshed, so the ladder shows as open orders as soon as the exchange placed it)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET, require_POST

from accounts.decorators import signed_in
from trading import selectors
from trading.backpack import Market
from trading.failures import failure_text
from trading.formatting import price, quantity, usdc
from trading.ladder.forms import LadderForm
from trading.ladder.preview import LadderError, LadderPreview, ladder_preview
from trading.ladder.services import ladder_place
from trading.live_regions import Region, open_orders_region
from trading.selectors import EXCHANGE_ERRORS
from trading.ticket import fee_estimate_text
from trading.views.common import client_ip, render_async
from trading.views.market import _market_or_error
from trading.views.trader import outcome_of, trader_page, trader_view

TRADER_ONLY = "Ladders need the trader role on {name}."
ASSUMED_FEE_BPS = Decimal("10")


async def _preview(
    request: HttpRequest, symbol: str, subaccount
) -> tuple[LadderPreview | None, Market | None, list[str]]:
    form = LadderForm(request.POST)
    if not form.is_valid():
        return None, None, form.problems()
    market, error = await _market_or_error(symbol)
    if market is None:
        return None, None, [error]
    fee = await selectors.taker_fee_bps(subaccount, market)
    try:
        preview = ladder_preview(
            spec=form.spec(symbol), market=market, fee_bps=fee or ASSUMED_FEE_BPS
        )
    except LadderError as error:
        return None, market, [str(error)]
    return preview, market, []


def _shown(preview: LadderPreview | None, market: Market | None) -> dict[str, Any] | None:
    """The preview table's figures: prices with the market's tick decimals, sizes with its
    step's, notional in USDC's format and each fee as the ticket estimates one (rounded up to
    the cent)."""
    if preview is None or market is None:
        return None
    return {
        "rows": [
            {
                "price": price(r.price, market),
                "quantity": quantity(r.quantity, market),
                "notional": usdc(r.notional),
                "fee": fee_estimate_text(r.fee),
            }
            for r in preview.rows
        ],
        "average_price": price(preview.average_price, market),
        "total_quantity": quantity(preview.total_quantity, market),
        "total_notional": usdc(preview.total_notional),
        "total_fee": fee_estimate_text(preview.total_fee),
    }


def _context(access, symbol: str, **more) -> dict:
    return {"subaccount": access.subaccount, "symbol": symbol, **more}


async def _orders_region(access, symbol: str, *, oob: bool) -> Region:
    """The subaccount's open orders in `symbol` (the reason instead, when unreadable)."""
    subaccount = access.subaccount
    markets = await selectors.markets_known()
    try:
        orders = await selectors.open_orders_for(subaccount, symbol)
    except EXCHANGE_ERRORS as error:
        error_text = failure_text(error)
        return open_orders_region(
            subaccount,
            [],
            can_trade=access.can_trade,
            error=error_text,
            symbol=symbol,
            oob=oob,
            senders=None,
        )
    senders = await selectors.order_senders(subaccount, orders)
    return open_orders_region(
        subaccount,
        orders,
        can_trade=access.can_trade,
        symbol=symbol,
        markets=markets,
        oob=oob,
        senders=senders,
    )


@require_GET
@signed_in
@trader_page(TRADER_ONLY)
async def ladder_page(
    request: HttpRequest, access, symbol: str, refusal: str | None
) -> HttpResponse:
    """The ladder form for a subaccount the user trades, on one market (for a viewer, why not
    in its place, and the open orders without their cancel buttons)."""
    context = _context(
        access,
        symbol,
        form=LadderForm(initial={"count": 10}),
        refusal=refusal,
        orders_region=await _orders_region(access, symbol, oob=False),
    )
    return await render_async(request, "trading/ladder.html", context)


@require_POST
@signed_in
@trader_view(TRADER_ONLY)
async def ladder_preview_view(request: HttpRequest, access, symbol: str) -> HttpResponse:
    """The preview table of the ladder in the form (nothing is sent)."""
    preview, market, problems = await _preview(request, symbol, access.subaccount)
    context = _context(access, symbol, preview=_shown(preview, market), problems=problems)
    return await render_async(request, "trading/ladder.html#preview", context)


@require_POST
@signed_in
@trader_view(TRADER_ONLY)
async def ladder_send(request: HttpRequest, access, symbol: str) -> HttpResponse:
    """Preview again and send the ladder as one batch after the risk gate admitted it."""
    preview, market, problems = await _preview(request, symbol, access.subaccount)
    if preview is None:
        context = _context(access, symbol, preview=None, problems=problems)
        return await render_async(request, "trading/ladder.html#preview", context)
    outcome = await outcome_of(
        ladder_place(
            actor=request.user, subaccount=access.subaccount, preview=preview, ip=client_ip(request)
        ),
        failed="Ladder not sent",
        said=lambda result: (result.message, "ok" if result.ok else "error"),
    )
    if outcome.result is not None:
        problems = list(outcome.result.refused)
    shown = _shown(preview, market)
    context = _context(access, symbol, preview=shown, problems=problems, sent=outcome.ok)
    page = await render_async(request, "trading/ladder.html#preview", context)
    orders = (await _orders_region(access, symbol, oob=True)).render()
    return HttpResponse(page.content.decode() + orders + outcome.html())
