"""``/bpx/api/v1/...`` and ``/bpx/wapi/v1/...``: the exchange's REST protocol for scripts.

An async view (daphne, the desk's per-process exchange session). Public routes are forwarded
as they are. A signed one is checked in the exchange's order (headers, window, signature),
then replay, then the desk key (`authenticate.py`); orders pass the risk gate (`orders.py`);
the request is re-signed with the subaccount's real key and forwarded within its rate budget,
and the exchange's answer returned unchanged. Every refusal of the desk's own is in the
exchange's error shape.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from accounts.decorators import client_ip
from trading.backpack import routes as R
from trading.gateway.authenticate import script_request_admit
from trading.gateway.errors import Refusal
from trading.gateway.forward import answer, exchange_forward
from trading.gateway.orders import orders_cancel, orders_place
from trading.gateway.routes import Scope, served
from trading.gateway.verify import request_params


@csrf_exempt
async def bpx_endpoint(request: HttpRequest, route: str) -> HttpResponse:
    """Serve one exchange route to a script (see the module docstring)."""
    try:
        return answer(*await _serve(request, "/" + route))
    except Refusal as refusal:
        return refusal.response()


async def _serve(request: HttpRequest, path: str) -> tuple[int, str, bytes]:
    method = request.method or "GET"
    target = served(method, path)
    if target is None:
        raise Refusal(404, "RESOURCE_NOT_FOUND", "Not found")
    query = [(k, v) for k, values in request.GET.lists() for v in values]
    params = request_params(method, query, request.body, batch=target.batch)
    if target.scope is Scope.PUBLIC:
        return await exchange_forward(target.route, params, subaccount=None)
    ip = client_ip(request)
    caller = await script_request_admit(
        headers=request.headers,
        instruction=target.route.instruction or "",
        params=params,
        served=target,
        subaccount=request.headers.get("X-Subaccount"),
        ip=ip,
    )
    if target.route in (R.ORDER_PLACE, R.ORDERS_BATCH):
        return await orders_place(caller, params, batch=target.batch, ip=ip)
    if target.route in (R.ORDER_CANCEL, R.ORDERS_CANCEL_ALL):
        assert isinstance(params, dict)
        return await orders_cancel(caller, target.route, params, ip=ip)
    return await exchange_forward(target.route, params, subaccount=caller.subaccount)
