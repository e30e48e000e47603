"""The TWAP page of one subaccount and market: start a TWAP (the exchange's strategy), watch
the running ones (progress, average against arrival price; the list polls itself) and cancel
them (trader role); and the running TWAPs of the whole team on the orders page (every
member sees them, traders cancel them)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from accounts.decorators import signed_in
from trading.risk.services import RiskRefused
from trading.selectors import EXCHANGE_ERRORS, exchange_error_text
from trading.twap.forms import TwapForm
from trading.twap.selectors import TeamTwaps, twaps_for_team, twaps_running
from trading.twap.services import twap_cancel, twap_reservations_sync, twap_start
from trading.views.common import access_for, client_ip, message_html, refused, render_async
from trading.views.market import SYMBOL, _symbol

TRADER_ONLY = "TWAPs need the trader role on {name}."
STRATEGY_ID = 20


async def _trader_access(request: HttpRequest, subaccount_id: int):
    access = await access_for(request, subaccount_id)
    if not access.can_trade:
        raise PermissionDenied(TRADER_ONLY.format(name=access.subaccount.name))
    return access


async def _list_html(request: HttpRequest, access, symbol: str) -> str:
    context = {"subaccount": access.subaccount, "symbol": symbol}
    started = timezone.now()
    try:
        context["rows"] = rows = await twaps_running(subaccount=access.subaccount, symbol=symbol)
    except EXCHANGE_ERRORS as error:
        context["error"] = exchange_error_text(error)
    else:
        await twap_reservations_sync(
            subaccount=access.subaccount, running=rows, read_started_at=started, symbol=symbol
        )
    page = await render_async(request, "trading/twap.html#running", context)
    return page.content.decode()


@require_GET
@signed_in
async def twap_page(request: HttpRequest, subaccount_id: int, symbol: str) -> HttpResponse:
    """The TWAP form and the running TWAPs of a subaccount the user trades."""
    symbol = _symbol(symbol)
    try:
        access = await _trader_access(request, subaccount_id)
    except PermissionDenied as denied:
        return refused(request, str(denied))
    context = {
        "subaccount": access.subaccount,
        "symbol": symbol,
        "form": TwapForm(initial={"duration_s": 600, "interval_s": 60}),
        "running_html": await _list_html(request, access, symbol),
    }
    return await render_async(request, "trading/twap.html", context)


@require_GET
@signed_in
async def twap_list(request: HttpRequest, subaccount_id: int, symbol: str) -> HttpResponse:
    """The running TWAPs (the page polls this)."""
    symbol = _symbol(symbol)
    try:
        access = await _trader_access(request, subaccount_id)
    except PermissionDenied as denied:
        return refused(request, str(denied))
    return HttpResponse(await _list_html(request, access, symbol))


@require_POST
@signed_in
async def twap_start_view(request: HttpRequest, subaccount_id: int, symbol: str) -> HttpResponse:
    """Start the TWAP in the form; answers the refreshed list and the outcome."""
    symbol = _symbol(symbol)
    try:
        access = await _trader_access(request, subaccount_id)
    except PermissionDenied as denied:
        return refused(request, str(denied))
    form = TwapForm(request.POST)
    if not form.is_valid():
        text, level = " ".join(form.problems()), "error"
    else:
        try:
            strategy = await twap_start(
                actor=request.user,
                subaccount=access.subaccount,
                symbol=symbol,
                ip=client_ip(request),
                **form.arguments(),
            )
            text, level = f"TWAP started: {strategy.quantity} {symbol}, id {strategy.id}.", "ok"
        except PermissionDenied as denied:
            return refused(request, str(denied))
        except RiskRefused as refusal:
            text, level = refusal.message, "error"
        except EXCHANGE_ERRORS as error:
            text, level = f"TWAP not started: {exchange_error_text(error)}", "error"
    html = await _list_html(request, access, symbol)
    return HttpResponse(html + message_html(text, level=level))


@require_POST
@signed_in
async def twap_cancel_view(request: HttpRequest, subaccount_id: int, symbol: str) -> HttpResponse:
    """Cancel one running TWAP; answers the refreshed list and the outcome."""
    symbol = _symbol(symbol)
    try:
        access = await _trader_access(request, subaccount_id)
    except PermissionDenied as denied:
        return refused(request, str(denied))
    strategy_id = (request.POST.get("strategy_id") or "").strip()
    if not strategy_id.isascii() or not strategy_id.isdigit() or len(strategy_id) > STRATEGY_ID:
        return refused(request, "Say which TWAP to cancel.", status=400)
    try:
        strategy = await twap_cancel(
            actor=request.user,
            subaccount=access.subaccount,
            symbol=symbol,
            strategy_id=strategy_id,
            ip=client_ip(request),
        )
        text, level = f"TWAP {strategy.id}: {strategy.status.value}.", "ok"
    except PermissionDenied as denied:
        return refused(request, str(denied))
    except EXCHANGE_ERRORS as error:
        text, level = f"TWAP not cancelled: {exchange_error_text(error)}", "error"
    html = await _list_html(request, access, symbol)
    return HttpResponse(html + message_html(text, level=level))


def _team_context(blocks: list[TeamTwaps]) -> dict:
    return {
        "blocks": blocks,
        "running": any(b.rows for b in blocks),
        "errors": any(b.error for b in blocks),
    }


async def _team_html(request: HttpRequest) -> str:
    started = timezone.now()
    blocks = await twaps_for_team(user=request.user)
    for block in blocks:
        if not block.error:
            await twap_reservations_sync(
                subaccount=block.access.subaccount, running=block.rows, read_started_at=started
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
    access = await access_for(request, subaccount_id)
    if not access.can_trade:
        return refused(request, TRADER_ONLY.format(name=access.subaccount.name))
    symbol = (request.POST.get("symbol") or "").strip().upper()
    strategy_id = (request.POST.get("strategy_id") or "").strip()
    known_id = strategy_id.isascii() and strategy_id.isdigit() and len(strategy_id) <= STRATEGY_ID
    if not SYMBOL.match(symbol) or not known_id:
        return refused(request, "Say which TWAP to cancel.", status=400)
    try:
        strategy = await twap_cancel(
            actor=request.user,
            subaccount=access.subaccount,
            symbol=symbol,
            strategy_id=strategy_id,
            ip=client_ip(request),
        )
        text, level = f"TWAP {strategy.id} on {symbol}: {strategy.status.value}.", "ok"
    except PermissionDenied as denied:
        return refused(request, str(denied))
    except EXCHANGE_ERRORS as error:
        text, level = f"TWAP not cancelled: {exchange_error_text(error)}", "error"
    return HttpResponse(await _team_html(request) + message_html(text, level=level))
