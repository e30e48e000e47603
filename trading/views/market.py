"""Markets index, the market page, its candles (JSON) and the order ticket (check and send)."""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET, require_POST

from accounts.decorators import signed_in
from trading import formatting, selectors
from trading.backpack import Side
from trading.backpack.errors import InvalidOrderError
from trading.backpack.market_types import Market
from trading.failures import EXCHANGE_ERRORS, failure_text
from trading.forms import TicketForm, new_ticket_token
from trading.live_regions import book_region, market_stats_region, trades_region
from trading.risk.services import risk_headroom_text
from trading.rows import book_from_depth, kline_point
from trading.selectors import SubaccountAccess
from trading.services import order_place
from trading.ticket import BestPrices, ConfirmGuard, TicketReview, ticket_available
from trading.views.common import (
    client_ip,
    refused,
    render_async,
)

SYMBOL = re.compile(r"^[A-Z0-9]{1,20}(_[A-Z0-9]{1,20}){1,3}$")
VIEW_ONLY = "Placing orders needs the trader role on a subaccount; you have view access only."


def _symbol(symbol: str) -> str:
    symbol = symbol.upper()
    if not SYMBOL.match(symbol):
        raise Http404("No such market.")
    return symbol


async def _market_or_error(symbol: str) -> tuple[Market | None, str]:
    """The market, or None and the reason (unknown market -> 404)."""
    try:
        return await selectors.market_get(symbol), ""
    except InvalidOrderError as error:
        if error.field == "symbol":
            raise Http404(f"There is no market {symbol} on the exchange.") from error
        return None, failure_text(error)
    except EXCHANGE_ERRORS as error:
        return None, failure_text(error)


@require_GET
@signed_in
async def markets_index(request: HttpRequest) -> HttpResponse:
    """Every market with last price and 24 h change; links to the market pages."""
    rows: list[selectors.MarketRow] = []
    error = ""
    try:
        rows = await selectors.markets_overview()
    except EXCHANGE_ERRORS as exc:
        error = failure_text(exc)
    context = {
        "rows": [
            {
                "market": row.market,
                "perp": row.market.is_perp,
                "last": formatting.price(row.ticker.last_price, row.market)
                if row.ticker
                else formatting.DASH,
                "change": formatting.percent(row.ticker.price_change_percent)
                if row.ticker
                else formatting.DASH,
                "change_class": ""
                if not row.ticker or not row.ticker.price_change_percent
                else ("bid" if row.ticker.price_change_percent > 0 else "ask"),
                "volume": formatting.usdc(row.ticker.quote_volume) if row.ticker else "",
            }
            for row in rows
        ],
        "error": error,
    }
    return await render_async(request, "trading/markets.html", context)


def _ticket_form(market: Market, tradable: list[SubaccountAccess]) -> TicketForm | None:
    if not tradable:
        return None
    return TicketForm(
        subaccounts=[a.subaccount for a in tradable],
        initial={
            "subaccount": tradable[0].subaccount.pk,
            "side": "Bid",
            "order_type": "Limit",
            "time_in_force": "GTC",
            "token": new_ticket_token(),
        },
    )


@require_GET
@signed_in
async def market_page(request: HttpRequest, symbol: str) -> HttpResponse:
    """The market page: book, trades, stats and chart from REST, then live over the
    ``ws/market/<symbol>/`` and ``ws/account/`` sockets; the ticket for traders."""
    symbol = _symbol(symbol)
    market, error = await _market_or_error(symbol)
    accesses = await selectors.subaccount_access_async(user=request.user)
    tradable = [a for a in accesses if a.can_trade]
    context: dict[str, Any] = {
        "symbol": symbol,
        "market": market,
        "error": error,
        "accesses": accesses,
        "intervals": list(selectors.KLINE_INTERVALS),
    }
    if market is not None:
        snapshot = await selectors.market_snapshot(market)
        book = book_from_depth(snapshot.depth) if snapshot.depth else None
        context.update(
            perp=market.is_perp,
            error=snapshot.error,
            book_region=book_region(market, book, oob=False) if book else None,
            trades_region=trades_region(market, snapshot.trades, oob=False)
            if snapshot.trades is not None
            else None,
            stats_region=market_stats_region(
                market, ticker=snapshot.ticker, mark=snapshot.mark, book=book, oob=False
            ),
            form=_ticket_form(market, tradable),
            tradable=tradable,  # the ladder and TWAP links, one subaccount's shown at a time
            price_step=formatting.plain(market.tick_size),
            quantity_step=formatting.plain(market.step_size),
        )
    template = "trading/market.html"
    if getattr(request, "htmx", False) and request.htmx.target == f"market-{symbol}":
        template = "trading/market.html#market_regions"
    return await render_async(request, template, context)


@require_GET
@signed_in
async def market_klines(request: HttpRequest, symbol: str) -> JsonResponse:
    """Candles for the chart: ``{"symbol","interval","candles":[{"time",...}]}`` with prices
    as plain decimal strings, or ``{"error": "..."}``."""
    symbol = _symbol(symbol)
    interval = request.GET.get("interval", "1m")
    if interval not in selectors.KLINE_INTERVALS:
        known = ", ".join(selectors.KLINE_INTERVALS)
        return JsonResponse(
            {"error": f"Unknown interval {interval!r}; use one of {known}."}, status=400
        )
    try:
        klines = await selectors.klines_recent(symbol, interval)
    except EXCHANGE_ERRORS as exc:
        error = failure_text(exc)
        return JsonResponse({"symbol": symbol, "interval": interval, "error": error})
    candles = [kline_point(k) for k in klines if k.open is not None]
    return JsonResponse({"symbol": symbol, "interval": interval, "candles": candles})


async def _review(
    request: HttpRequest, market: Market, tradable: list[SubaccountAccess]
) -> tuple[TicketForm, TicketReview | None, SubaccountAccess | None]:
    """Parse the posted ticket and check it against the market as it is now."""
    form = TicketForm(request.POST, subaccounts=[a.subaccount for a in tradable])
    if not form.is_valid():
        return form, None, None
    access = next(a for a in tradable if a.subaccount.pk == form.cleaned_data["subaccount"])
    try:
        prices = await selectors.best_prices(market.symbol)
    except EXCHANGE_ERRORS:
        prices = BestPrices()
    fee = await selectors.taker_fee_bps(access.subaccount, market)
    funds = await selectors.ticket_funds(access.subaccount)
    subaccount = access.subaccount
    review = form.review(
        market,
        prices=prices,
        taker_fee_bps=fee,
        confirm_notional=subaccount.order_confirm_notional,
        guard=ConfirmGuard(
            equity_pct=subaccount.order_confirm_equity_pct,
            price_pct=subaccount.order_confirm_price_pct,
            equity=funds.equity,
        ),
    )
    amount, asset = funds.available(market, buying=form.cleaned_data["side"] == "Bid")
    review.available = ticket_available(
        form.cleaned_data, market, prices=prices, amount=amount, asset=asset
    )
    return form, review, access


async def _headroom(
    request: HttpRequest, access: SubaccountAccess, market: Market, form: TicketForm
) -> str:
    """The risk gate's headroom for this member, market and side (empty when unreadable)."""
    try:
        return await risk_headroom_text(
            actor=request.user,
            subaccount=access.subaccount,
            symbol=market.symbol,
            side=Side(form.cleaned_data["side"]),
            quote=market.quote_symbol,
        )
    except EXCHANGE_ERRORS:
        return ""


def _form_problems(form: TicketForm) -> list[str]:
    out = []
    for name, errors in form.errors.items():
        label = f"{form[name].label}: " if name in form.fields else ""
        out.extend(f"{label}{e}" for e in errors)
    return out


async def _tradable(request: HttpRequest) -> list[SubaccountAccess]:
    accesses = await selectors.subaccount_access_async(user=request.user)
    return [a for a in accesses if a.can_trade]


@require_POST
@signed_in
async def ticket_validate(request: HttpRequest, symbol: str) -> HttpResponse:
    """The ticket's as-you-type check: rounded values, notional, fee, problems."""
    symbol = _symbol(symbol)
    tradable = await _tradable(request)
    if not tradable:
        if not getattr(request, "htmx", False):
            return refused(request, VIEW_ONLY)
        return await render_async(
            request, "trading/partials/ticket_feedback.html", {"error": VIEW_ONLY}
        )
    market, error = await _market_or_error(symbol)
    if market is None:
        return await render_async(
            request, "trading/partials/ticket_feedback.html", {"error": error}
        )
    form, review, access = await _review(request, market, tradable)
    context = {
        "market": market,
        "review": review,
        "form_problems": _form_problems(form),
        # The page's first check only fills in the available balance: an untouched ticket
        # shows no "required" problems before the trader typed anything.
        "quiet": request.POST.get("probe") == "1",
    }
    if review is not None and access is not None:
        context["headroom"] = await _headroom(request, access, market, form)
    return await render_async(request, "trading/partials/ticket_feedback.html", context)


@require_POST
@signed_in
async def ticket_submit(request: HttpRequest, symbol: str) -> HttpResponse:
    """Send the ticket: check it again, ask for confirmation when needed, place the order
    exactly once per ticket token, and answer with the outcome next to the ticket (accepted
    or refused, the order id, the message); the account's regions follow from the relay."""
    symbol = _symbol(symbol)
    tradable = await _tradable(request)
    if not tradable:
        return await _refused_ticket(request, VIEW_ONLY)
    market, error = await _market_or_error(symbol)
    if market is None:
        return await _result(request, {"ok": False, "text": error}, token=None)
    form, review, access = await _review(request, market, tradable)
    if review is None or access is None:
        problems = _form_problems(form)
        return await _result(request, {"ok": False, "problems": problems}, token=None)
    # The figures under the ticket always show what was checked for this submit.
    feedback = {"market": market, "review": review}
    if not review.ok:
        return await _result(
            request, {"ok": False, "problems": review.messages}, token=None, feedback=feedback
        )
    if review.confirm_reasons and not form.cleaned_data.get("confirmed"):
        return await _result(
            request, {"confirm": review.confirm_reasons}, token=None, feedback=feedback
        )
    # Sent: the answer replaces any "Needs confirmation" line under the ticket (the trader
    # confirmed, or nothing needed it); the next change to the ticket checks it anew.
    feedback["sent"] = True
    try:
        result = await order_place(
            actor=request.user,
            subaccount=access.subaccount,
            ticket=review.ticket,
            ip=client_ip(request),
        )
    except PermissionDenied as denied:
        return await _refused_ticket(request, str(denied), feedback=feedback)
    # The answer carries the outcome only: the open orders and positions regions arrive
    # once, from the order update the relay receives (trading/relay/feeds.py).
    token = new_ticket_token() if result.final else None
    outcome = {
        "ok": result.ok,
        "text": result.message,
        "repeated": result.repeated,
        "order_id": result.order.id if result.order is not None else "",
    }
    return await _result(request, outcome, token=token, feedback=feedback)


async def _refused_ticket(
    request: HttpRequest, text: str, *, feedback: dict[str, Any] | None = None
) -> HttpResponse:
    """A refusal shown where the ticket's result goes (403 for a request without htmx)."""
    if not getattr(request, "htmx", False):
        return refused(request, text)
    return await _result(request, {"ok": False, "text": text}, token=None, feedback=feedback)


async def _result(
    request: HttpRequest,
    outcome: dict[str, Any],
    *,
    token: str | None,
    feedback: dict[str, Any] | None = None,
) -> HttpResponse:
    """The ticket's answer: its outcome, a fresh token when the order was final, and (after
    a check) the figures under the ticket, swapped out of band; one template, one render."""
    context: dict[str, Any] = {"outcome": outcome, "token": token}
    if feedback is not None:
        context.update(feedback, feedback=True, oob=True)
    # A partial that needs nothing of the request and nothing of the database (no context
    # processors: the theme one reads the database): rendered here, without a thread hop.
    html = render_to_string("trading/partials/ticket_result.html", context)
    return HttpResponse(html)
