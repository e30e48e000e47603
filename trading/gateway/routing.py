"""``/bpx/ws`` in front of the browsers' WebSocket routes.

Scripts authenticate by signature, not by a session cookie, and send no ``Origin``: their
socket is routed here before the origin check and session middleware the browsers' sockets
go through (a page on another site gains nothing: without the key's signature it can do
nothing).
"""

from __future__ import annotations

from typing import Any

from trading.gateway.stream import ScriptStreamConsumer

SCRIPT_SOCKET_PATH = "/bpx/ws"


class ScriptSocketRouter:
    """Send ``/bpx/ws`` to the script stream consumer, every other socket to `browsers`."""

    def __init__(self, browsers: Any) -> None:
        self.browsers = browsers
        self.scripts = ScriptStreamConsumer.as_asgi()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        if scope.get("path", "").rstrip("/") == SCRIPT_SOCKET_PATH:
            return await self.scripts(scope, receive, send)
        return await self.browsers(scope, receive, send)
