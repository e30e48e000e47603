"""Control routes outside the exchange's paths, for tests and demos (never signed).

- ``GET /_sandbox/keys``: the subaccounts' keys, as ``--dump-keys`` prints them.
- ``GET|POST|DELETE /_sandbox/faults``: read, change, clear fault injection
  (fields in :mod:`sandbox.faults`).
- ``POST /_sandbox/reset``: fresh ledger and empty books from the seed (and a fresh
  start-up history when history is on), faults off, rate budgets cleared.
- ``POST /_sandbox/withdrawals/confirm``: confirm every pending withdrawal now.
- ``POST /_sandbox/deposit`` ``{"subaccount": 1, "symbol": "USDC", "quantity": "10"}``.
- ``POST /_sandbox/markPrice`` ``{"symbol": "SOL_USDC_PERP", "price": "151.5"}``.
- ``POST /_sandbox/funding`` ``{"symbol": "SOL_USDC_PERP", "rate": "0.0001"}``: end the
  current funding interval now and charge it (at ``rate``, else the estimated rate); the
  server also charges every interval by itself when it ends.
- ``GET|DELETE /_sandbox/requests``: the exchange requests received since start, reset or
  the last DELETE, by ``"METHOD /path"`` (``{"POST /api/v1/orders": 1}``); DELETE clears.
- ``POST /_sandbox/strategies/step``: run the next slice of every running strategy now
  (the rest of each schedule moves as much earlier); answers ``{"slices": n}``.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox.engine import EngineError
from sandbox.faults import FaultError
from sandbox.server.errors import ApiError, error_response
from sandbox.server.params import Params, parse_decimal
from sandbox.server.routing import json_response, read_json_body
from sandbox.server.state import Sandbox


def control_routes(sandbox: Sandbox) -> list[Route]:
    """The /_sandbox routes."""

    async def keys(request: Request) -> Response:
        return json_response(sandbox.seed.keys())

    async def faults(request: Request) -> Response:
        hub = request.app.state.hub
        try:
            if request.method == "DELETE":
                sandbox.faults.clear()
                hub.gap_remaining.clear()
            elif request.method == "POST":
                changes = await read_json_body(request, decimals=False)
                sandbox.faults.update(changes if changes is not None else {})
                if changes and "depth_gap" in changes:
                    hub.arm_depth_gap(sandbox.faults.depth_gap)
                if sandbox.faults.ws_drop:
                    sandbox.faults.ws_drop = False
                    hub.drop_all()
        except FaultError as exc:
            return error_response(400, "INVALID_CLIENT_REQUEST", str(exc))
        except ApiError as exc:
            return exc.response()
        return json_response(sandbox.faults.as_dict())

    async def requests(request: Request) -> Response:
        counts = dict(sandbox.requests)
        if request.method == "DELETE":
            sandbox.requests.clear()
        return json_response(counts)

    async def reset(request: Request) -> Response:
        sandbox.reset()
        request.app.state.hub.gap_remaining.clear()
        return json_response({"status": "reset"})

    async def confirm(request: Request) -> Response:
        return json_response({"confirmed": sandbox.confirm_pending_withdrawals()})

    async def deposit(request: Request) -> Response:
        try:
            body = await read_json_body(request)
            params = Params(body if isinstance(body, dict) else {})
            subaccount = params.integer("subaccount", required=True, maximum=65535)
            symbol = params.string("symbol", required=True)
            quantity = params.decimal("quantity", required=True)
            if subaccount not in sandbox.subaccounts:
                raise ApiError(404, "RESOURCE_NOT_FOUND", "Subaccount not found")
            return json_response(sandbox.engine.deposit(subaccount, symbol, quantity))
        except ApiError as exc:
            return exc.response()
        except EngineError as exc:
            return error_response(exc.http_status, exc.code, exc.message)

    async def mark_price(request: Request) -> Response:
        try:
            body = await read_json_body(request)
            params = Params(body if isinstance(body, dict) else {})
            symbol = params.string("symbol", required=True)
            price = params.decimal("price", required=True)
            sandbox.engine.set_mark_price(symbol, price)
            return json_response({"symbol": symbol, "markPrice": format(price, "f")})
        except ApiError as exc:
            return exc.response()
        except EngineError as exc:
            return error_response(exc.http_status, exc.code, exc.message)

    async def funding(request: Request) -> Response:
        try:
            body = await read_json_body(request)
            params = Params(body if isinstance(body, dict) else {})
            symbol = params.string("symbol", required=True)
            raw_rate = params.values.get("rate")
            rate = parse_decimal("rate", raw_rate, negative=True) if raw_rate is not None else None
            sandbox.engine.settle_funding(symbol, rate)
            return json_response(sandbox.engine.funding_rates(symbol, limit=1)[0])
        except ApiError as exc:
            return exc.response()
        except EngineError as exc:
            return error_response(exc.http_status, exc.code, exc.message)

    async def step_strategies(request: Request) -> Response:
        return json_response({"slices": sandbox.engine.step_strategies()})

    return [
        Route("/_sandbox/strategies/step", step_strategies, methods=["POST"]),
        Route("/_sandbox/keys", keys, methods=["GET"]),
        Route("/_sandbox/faults", faults, methods=["GET", "POST", "DELETE"]),
        Route("/_sandbox/reset", reset, methods=["POST"]),
        Route("/_sandbox/requests", requests, methods=["GET", "DELETE"]),
        Route("/_sandbox/withdrawals/confirm", confirm, methods=["POST"]),
        Route("/_sandbox/deposit", deposit, methods=["POST"]),
        Route("/_sandbox/markPrice", mark_price, methods=["POST"]),
        Route("/_sandbox/funding", funding, methods=["POST"]),
    ]
