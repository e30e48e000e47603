"""The Starlette application: REST under /api/v1 and /wapi/v1, WebSocket at ``/``."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from sandbox.server.control import control_routes
from sandbox.server.errors import error_response
from sandbox.server.private import private_routes
from sandbox.server.public import public_routes
from sandbox.server.state import Sandbox, ServerConfig
from sandbox.server.ws import AGGREGATED_DEPTH_MS, StreamHub, websocket_endpoint

logger = logging.getLogger("sandbox.server")


async def _not_found(request: Request, exc: Exception) -> Response:
    if isinstance(exc, HTTPException) and exc.status_code not in (404, 405):
        return error_response(exc.status_code, "INVALID_CLIENT_REQUEST", str(exc.detail))
    return error_response(404, "RESOURCE_NOT_FOUND", "Not found")


async def _server_error(request: Request, exc: Exception) -> Response:
    return error_response(500, "SERVER_ERROR", "Internal server error")


def build_app(config: ServerConfig) -> Starlette:
    """The sandbox exchange as an ASGI app (``app.state.sandbox``, ``app.state.hub``)."""
    sandbox = Sandbox(config)
    hub = StreamHub(sandbox)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        tasks = [
            asyncio.create_task(_market_data_loop(sandbox, config.market_data_interval_s)),
            asyncio.create_task(_ws_drop_loop(sandbox, hub)),
            asyncio.create_task(_strategy_loop(sandbox)),
        ]
        tasks += [
            asyncio.create_task(_flush_loop(hub, name, ms))
            for name, ms in AGGREGATED_DEPTH_MS.items()
        ]
        if config.maker:
            from sandbox.maker import MarketMaker

            maker = MarketMaker(sandbox, seed=config.maker_seed, rate=config.maker_rate)
            app.state.maker = maker
            tasks.append(asyncio.create_task(maker.run()))
        try:
            yield
        finally:
            hub.drop_all()
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    routes = [  # Starlette matches in order: the order routes, the hot path, come first
        *private_routes(sandbox),
        *public_routes(sandbox),
        *control_routes(sandbox),
        WebSocketRoute("/", websocket_endpoint),
    ]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={404: _not_found, 405: _not_found, HTTPException: _not_found},
    )
    app.state.sandbox = sandbox
    app.state.hub = hub
    return app


RAW_SEND_KEY = "sandbox.raw_send"


class KeepRawSend:
    """Outermost ASGI layer: keeps the server's own ``send`` in the scope, so a lost-response
    fault can close the connection without any answer (see ``private.LostResponse``)."""

    def __init__(self, app: Starlette) -> None:
        self.app = app
        self.state = app.state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope[RAW_SEND_KEY] = send
        await self.app(scope, receive, send)


def asgi_app(config: ServerConfig) -> ASGIApp:
    """``build_app`` wrapped for serving by uvicorn."""
    return KeepRawSend(build_app(config))


async def _market_data_loop(sandbox: Sandbox, interval_s: float) -> None:
    while True:
        await asyncio.sleep(interval_s)
        try:
            sandbox.engine.publish_market_data()
        except Exception:
            logger.exception("publishing market data failed")
        try:
            sandbox.engine.settle_due_funding()  # charge funding when an interval ends
        except Exception:
            logger.exception("settling funding failed")


STRATEGY_TICK_S = 0.05


async def _strategy_loop(sandbox: Sandbox) -> None:
    """Run the strategies' slices when they fall due (within a tick)."""
    while True:
        await asyncio.sleep(STRATEGY_TICK_S)
        try:
            sandbox.engine.run_due_strategies()
        except Exception:
            logger.exception("running strategies failed")


async def _flush_loop(hub: StreamHub, name: str, period_ms: int) -> None:
    while True:
        await asyncio.sleep(period_ms / 1000)
        try:
            hub.flush_aggregates(name)
        except Exception:
            logger.exception("flushing %s depth failed", name)


async def _ws_drop_loop(sandbox: Sandbox, hub: StreamHub) -> None:
    last_drop = time.monotonic()
    while True:
        await asyncio.sleep(0.1)
        faults = sandbox.faults
        if faults.ws_drop:
            faults.ws_drop = False
            hub.drop_all()
            last_drop = time.monotonic()
        elif faults.ws_drop_every_s and time.monotonic() - last_drop >= faults.ws_drop_every_s:
            hub.drop_all()
            last_drop = time.monotonic()
