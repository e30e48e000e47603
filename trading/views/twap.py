"""The TWAP page of one subaccount and market: start a TWAP (the exchange's strategy), watch
the running ones (progress, average against arrival price; the list polls itself) and cancel
them (trader role)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET, require_POST

from accounts.decorators import signed_in
from trading.selectors import EXCHANGE_ERRORS, exchange_error_text
from trading.twap.forms import TwapForm
from trading.twap.selectors import twaps_running
from trading.twap.services import twap_cancel, twap_start
from trading.views.common import client_ip, refused, render_async
from trading.views.trader import Outcome, outcome_of, trader_view

TRADER_ONLY = "TWAPs need the trader role on {name}."
STRATEGY_ID = 20


async def _list_html(request: HttpRequest, access, symbol: str) -> str:
    context = {"subaccount": access.subaccount, "symbol": symbol}
    try:
        context["rows"] = await twaps_running(subaccount=access.subaccount, symbol=symbol)
    except EXCHANGE_ERRORS as error:
        context["error"] = exchange_error_text(error)
    page = await render_async(request, "trading/twap.html#running", context)
    return page.content.decode()


@require_GET
@signed_in
@trader_view(TRADER_ONLY)
async def twap_page(request: HttpRequest, access, symbol: str) -> HttpResponse:
    """The TWAP form and the running TWAPs of a subaccount the user trades."""
    context = {
        "subaccount": access.subaccount,
        "symbol": symbol,
        "form": TwapForm(initial={"duration_s": 600, "interval_s": 60}),
        "running_html": await _list_html(request, access, symbol),
    }
    return await render_async(request, "trading/twap.html", context)


@require_GET
@signed_in
@trader_view(TRADER_ONLY)
async def twap_list(request: HttpRequest, access, symbol: str) -> HttpResponse:
    """The running TWAPs (the page polls this)."""
    return HttpResponse(await _list_html(request, access, symbol))


@require_POST
@signed_in
@trader_view(TRADER_ONLY)
async def twap_start_view(request: HttpRequest, access, symbol: str) -> HttpResponse:
    """Start the TWAP in the form; answers the refreshed list and the outcome."""
    form = TwapForm(request.POST)
    if not form.is_valid():
        outcome = Outcome(" ".join(form.problems()), "error")
    else:
        outcome = await outcome_of(
            twap_start(
                actor=request.user,
                subaccount=access.subaccount,
                symbol=symbol,
                ip=client_ip(request),
                **form.arguments(),
            ),
            failed="TWAP not started",
            said=lambda strategy: (
                f"TWAP started: {strategy.quantity} {symbol}, id {strategy.id}.",
                "ok",
            ),
        )
    return HttpResponse(await _list_html(request, access, symbol) + outcome.html())


@require_POST
@signed_in
@trader_view(TRADER_ONLY)
async def twap_cancel_view(request: HttpRequest, access, symbol: str) -> HttpResponse:
    """Cancel one running TWAP; answers the refreshed list and the outcome."""
    strategy_id = (request.POST.get("strategy_id") or "").strip()
    if not strategy_id.isascii() or not strategy_id.isdigit() or len(strategy_id) > STRATEGY_ID:
        return refused(request, "Say which TWAP to cancel.", status=400)
    outcome = await outcome_of(
        twap_cancel(
            actor=request.user,
            subaccount=access.subaccount,
            symbol=symbol,
            strategy_id=strategy_id,
            ip=client_ip(request),
        ),
        failed="TWAP not cancelled",
        said=lambda strategy: (f"TWAP {strategy.id}: {strategy.status.value}.", "ok"),
    )
    return HttpResponse(await _list_html(request, access, symbol) + outcome.html())
