"""What the market chart marks besides candles: the user's own fills (JSON)."""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.http import Http404, HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from accounts.decorators import signed_in
from trading.ledger.chart import chart_fills
from trading.views.market import SYMBOL


@require_GET
@signed_in
async def market_fills(request: HttpRequest, symbol: str) -> JsonResponse:
    """``{"symbol", "fills": [{"time", "side", "price", "quantity", "subaccount"}]}``: the
    newest fills in the market of the subaccounts the user may see, oldest first."""
    symbol = symbol.upper()
    if not SYMBOL.match(symbol):
        raise Http404("No such market.")
    fills = await sync_to_async(chart_fills)(request.user, symbol)
    return JsonResponse({"symbol": symbol, "fills": fills})
