"""``/bpx/api/v1/...`` and ``/bpx/wapi/v1/...``: the exchange's REST protocol for scripts.

One request (`ScriptRequest`, whatever carried it: the ASGI route in `bare.py`, or Django's
view here for Django's test client and `reverse`) is served by `script_request_serve`. Public
routes are forwarded as they are. A signed one is checked in the exchange's order (headers,
window, signature), then replay, then the desk key (`authenticate.py`); orders pass the risk
gate (`orders.py`); the request is re-signed with the subaccount's real key and forwarded
within its rate budget, and the exchange's answer returned unchanged. Every refusal of the
desk's own is in the exchange's error shape.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from accounts.decorators import client_ip
from trading.backpack import routes as R
from trading.gateway.authenticate import script_request_admit, script_request_verify
from trading.gateway.errors import Refusal
from trading.gateway.forward import exchange_forward
from trading.gateway.orders import orders_cancel, orders_place
from trading.gateway.routes import Scope, served
from trading.gateway.verify import request_params


@dataclass(frozen=True)
class ScriptRequest:
    """What the desk reads of a script's HTTP request. `path` is after ``/bpx``;
    `headers` is case-insensitive."""

    method: str
    path: str
    query: list[tuple[str, str]]
    body: bytes
    headers: Mapping[str, str]
    ip: str | None


@dataclass(frozen=True)
class Answer:
    """The exchange's answer as it came, or the desk's refusal in the exchange's shape;
    `after`: what must still be recorded once the answer is sent (an order's outcome), awaited
    by whoever sends it, before the request ends."""

    status: int
    content_type: str
    body: bytes
    retry_after: str | None = None
    after: Callable[[], Awaitable[None]] | None = None


async def script_request_serve(request: ScriptRequest) -> Answer:
    """Serve one exchange route to a script (see the module docstring)."""
    try:
        return await _serve(request)
    except Refusal as refusal:
        status, content_type, body, retry_after = refusal.parts()
        return Answer(status, content_type, body, retry_after)


@csrf_exempt
async def bpx_endpoint(request: HttpRequest, route: str) -> HttpResponse:
    """The same, through Django (`bare.ScriptHttpApp` serves ``/bpx/`` under daphne)."""
    query = [(k, v) for k, values in request.GET.lists() for v in values]
    served_answer = await script_request_serve(
        ScriptRequest(
            method=request.method or "GET",
            path="/" + route,
            query=query,
            body=request.body,
            headers=request.headers,
            ip=client_ip(request),
        )
    )
    response = HttpResponse(
        served_answer.body, status=served_answer.status, content_type=served_answer.content_type
    )
    if served_answer.retry_after is not None:
        response["Retry-After"] = served_answer.retry_after
    if served_answer.after is not None:
        await served_answer.after()
    return response


async def _serve(request: ScriptRequest) -> Answer:
    method = request.method
    target = served(method, request.path)
    if target is None:
        raise Refusal(404, "RESOURCE_NOT_FOUND", "Not found")
    params = request_params(method, request.query, request.body, batch=target.batch)
    if target.scope is Scope.PUBLIC:
        return Answer(*await exchange_forward(target.route, params, subaccount=None))
    ip = request.ip
    instruction = target.route.instruction or ""
    wanted = request.headers.get("X-Subaccount")
    if target.route in (R.ORDER_PLACE, R.ORDERS_BATCH):
        signed = await script_request_verify(
            headers=request.headers, instruction=instruction, params=params
        )
        status, content_type, body, after = await orders_place(
            api_key=signed.api_key, served=target, subaccount=wanted, params=params, ip=ip
        )
        return Answer(status, content_type, body, after=after)
    caller = await script_request_admit(
        headers=request.headers,
        instruction=instruction,
        params=params,
        served=target,
        subaccount=wanted,
        ip=ip,
    )
    if target.route in (R.ORDER_CANCEL, R.ORDERS_CANCEL_ALL):
        assert isinstance(params, dict)
        return Answer(*await orders_cancel(caller, target.route, params, ip=ip))
    return Answer(*await exchange_forward(target.route, params, subaccount=caller.subaccount))
