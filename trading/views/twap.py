"""The TWAP page of one subaccount and market: start a TWAP (the exchange's strategy), watch
the running ones (progress, average against arrival price; the list polls itself) and cancel
them (trader role)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from accounts.decorators import signed_in
from trading.selectors import EXCHANGE_ERRORS, exchange_error_text
from trading.selectors.markets import markets_known
from trading.twap.ended import twaps_ended
from trading.twap.forms import TwapForm
from trading.twap.selectors import TeamTwaps, twaps_for_team, twaps_running
from trading.twap.services import twap_cancel, twap_reservations_sync, twap_start
from trading.views.common import access_for, client_ip, refused, render_async
from trading.views.market import SYMBOL
from trading.views.trader import Outcome, outcome_of, trader_page, trader_view

TRADER_ONLY = "TWAPs need the trader role on {name}."
STRATEGY_ID = 20


async def _list_html(request: HttpRequest, access, symbol: str) -> str:
    context = {"subaccount": access.subaccount, "symbol": symbol, "can_trade": access.can_trade}
    started = timezone.now()
    try:
        context["rows"] = rows = await twaps_running(subaccount=access.subaccount, symbol=symbol)
    except EXCHANGE_ERRORS as error:
        context["error"] = exchange_error_text(error)
    else:
        await twap_reservations_sync(
            subaccount=access.subaccount, running=rows, read_started_at=started, symbol=symbol
        )
        context["ended"] = await twaps_ended(
            subaccount=access.subaccount, symbol=symbol, running={r.strategy.id for r in rows}
        )
    page = await render_async(request, "trading/twap.html#running", context)
    return page.content.decode()


@require_GET
@signed_in
@trader_page(TRADER_ONLY)
async def twap_page(request: HttpRequest, access, symbol: str, refusal: str | None) -> HttpResponse:
    """The TWAP form and the running TWAPs of a subaccount the user trades (for a viewer, why
    not in the form's place, and the running TWAPs without their cancel buttons)."""
    context = {
        "subaccount": access.subaccount,
        "symbol": symbol,
        "form": TwapForm(initial={"duration_s": 600, "interval_s": 60}),
        "refusal": refusal,
        "running_html": await _list_html(request, access, symbol),
    }
    return await render_async(request, "trading/twap.html", context)


@require_GET
@signed_in
@trader_page(TRADER_ONLY)
async def twap_list(request: HttpRequest, access, symbol: str, refusal: str | None) -> HttpResponse:
    """The running TWAPs (the page polls this; a member made a viewer keeps watching them,
    without the cancel buttons, and gets those back when made a trader again)."""
    return HttpResponse(await _list_html(request, access, symbol))


@require_POST
@signed_in
@trader_view(TRADER_ONLY)
async def twap_start_view(request: HttpRequest, access, symbol: str) -> HttpResponse:
    """Start the TWAP in the form; answers the refreshed list and the outcome."""
    form = TwapForm(request.POST, market=(await markets_known()).get(symbol))
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
    # the form again as typed: each problem beside its field, none left from a previous try
    context = {"subaccount": access.subaccount, "symbol": symbol, "form": form, "oob": True}
    shown = (await render_async(request, "trading/twap.html#form", context)).content.decode()
    return HttpResponse(await _list_html(request, access, symbol) + shown + outcome.html())


def _strategy_id(request: HttpRequest) -> str | None:
    """The posted strategy id, or None when it names no strategy."""
    strategy_id = (request.POST.get("strategy_id") or "").strip()
    known = strategy_id.isascii() and strategy_id.isdigit() and len(strategy_id) <= STRATEGY_ID
    return strategy_id if known else None


async def _cancel(request: HttpRequest, access, symbol: str, strategy_id: str, label: str):
    """Cancel one running TWAP through the service, as the page's outcome."""
    return await outcome_of(
        twap_cancel(
            actor=request.user,
            subaccount=access.subaccount,
            symbol=symbol,
            strategy_id=strategy_id,
            ip=client_ip(request),
        ),
        failed="TWAP not cancelled",
        said=lambda strategy: (f"TWAP {strategy.id}{label}: {strategy.status.value}.", "ok"),
    )


@require_POST
@signed_in
@trader_view(TRADER_ONLY)
async def twap_cancel_view(request: HttpRequest, access, symbol: str) -> HttpResponse:
    """Cancel one running TWAP; answers the refreshed list and the outcome."""
    strategy_id = _strategy_id(request)
    if strategy_id is None:
        return refused(request, "Say which TWAP to cancel.", status=400)
    outcome = await _cancel(request, access, symbol, strategy_id, "")
    return HttpResponse(await _list_html(request, access, symbol) + outcome.html())


def _team_context(blocks: list[TeamTwaps]) -> dict:
    return {
        "blocks": blocks,
        "running": any(b.rows for b in blocks),
        "errors": any(b.error for b in blocks),
    }


async def _team_html(request: HttpRequest) -> str:
    blocks = await twaps_for_team(user=request.user)
    for block in blocks:
        if block.read_started_at is not None:
            await twap_reservations_sync(
                subaccount=block.access.subaccount,
                running=block.rows,
                read_started_at=block.read_started_at,
            )
    page = await render_async(request, "trading/partials/team_twaps.html", _team_context(blocks))
    return page.content.decode()


@require_GET
@signed_in
async def team_twaps(request: HttpRequest) -> HttpResponse:
    """The running TWAPs of every subaccount the user may see (the orders page polls this)."""
    return HttpResponse(await _team_html(request))


@require_POST
@signed_in
async def team_twap_cancel(request: HttpRequest, subaccount_id: int) -> HttpResponse:
    """Cancel one running TWAP from the orders page; answers the refreshed list and the
    outcome."""
    try:
        access = await access_for(request, subaccount_id)
        if not access.can_trade:
            raise PermissionDenied(TRADER_ONLY.format(name=access.subaccount.name))
        symbol = (request.POST.get("symbol") or "").strip().upper()
        strategy_id = _strategy_id(request)
        if not SYMBOL.match(symbol) or strategy_id is None:
            return refused(request, "Say which TWAP to cancel.", status=400)
        outcome = await _cancel(request, access, symbol, strategy_id, f" on {symbol}")
    except PermissionDenied as denied:
        return refused(request, str(denied))
    return HttpResponse(await _team_html(request) + outcome.html())
