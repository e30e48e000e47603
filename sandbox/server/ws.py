"""The WebSocket API at path ``/``: subscriptions, stream fan-out, private streams.

Frames in::

    {"method": "SUBSCRIBE", "params": ["depth.SOL_USDC", "trade.SOL_USDC"], "id": 1}
    {"method": "SUBSCRIBE", "params": ["account.orderUpdate"],
     "signature": ["<verifying key>", "<signature>", "<timestamp>", "<window>"]}
    {"method": "UNSUBSCRIBE", "params": ["depth.SOL_USDC"]}

Frames out: ``{"stream": "<name>", "data": {...}}``; a refused frame gets
``{"id": <id or null>, "error": {"code": 4xxx, "message": "..."}}`` and the connection stays
open. A request carrying an ``id`` is acknowledged with ``{"id": <id>, "result": null}``
once its subscriptions are live (requests without ``id`` get no acknowledgement, as on the
real exchange). Keep-alive pings are protocol Ping frames sent by uvicorn
(``--ws-ping-interval`` / ``--ws-ping-timeout``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from decimal import Decimal
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from sandbox.engine import Event
from sandbox.server.errors import ApiError
from sandbox.server.state import Sandbox

logger = logging.getLogger("sandbox.ws")

KLINE_INTERVALS = {
    "1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d", "3d", "1w",
    "1month",
}  # fmt: skip
SIMPLE_PUBLIC = {"bookTicker", "depth", "trade", "ticker", "markPrice", "openInterest"}
AGGREGATED_DEPTH_MS = {"200ms": 200, "600ms": 600, "1000ms": 1000}
PRIVATE_KINDS = {"account.orderUpdate", "account.positionUpdate"}
MAX_QUEUE = 20_000
MAX_FRAME = 64 * 1024
MAX_STREAMS_PER_REQUEST = 200

ERR_BAD_REQUEST = 4000
ERR_AUTH = 4001
ERR_STREAM = 4006


class Connection:
    """One WebSocket client: its subscriptions, subaccount (once signed) and send queue."""

    def __init__(self, websocket: WebSocket) -> None:
        self.websocket = websocket
        self.queue: asyncio.Queue[str | None] = asyncio.Queue()
        self.public: set[str] = set()
        self.private: dict[str, int] = {}
        self.closed = False

    def send(self, text: str) -> None:
        """Queue a frame; a client that falls too far behind is disconnected."""
        if self.closed:
            return
        if self.queue.qsize() >= MAX_QUEUE:
            self.close()
            return
        self.queue.put_nowait(text)

    def close(self) -> None:
        """Ask the writer to close the connection."""
        if not self.closed:
            self.closed = True
            self.queue.put_nowait(None)


class DepthAggregate:
    """Depth updates merged over one period: first U, last u, last absolute level values."""

    def __init__(self) -> None:
        self.first_update: int | None = None
        self.data: dict[str, Any] = {}
        self.asks: dict[str, str] = {}
        self.bids: dict[str, str] = {}

    def add(self, data: dict[str, Any]) -> None:
        """Merge one realtime depth payload (absolute level values: the last one wins)."""
        if self.first_update is None:
            self.first_update = data["U"]
        self.data = data
        for price, quantity in data.get("a", ()):
            self.asks[price] = quantity
        for price, quantity in data.get("b", ()):
            self.bids[price] = quantity

    def message(self, now_us: int) -> dict[str, Any]:
        """The merged payload: ``U`` of the first update, ``u`` and ``T`` of the last."""
        return {
            "e": "depth",
            "E": now_us,
            "s": self.data["s"],
            "a": _ascending(self.asks),
            "b": _ascending(self.bids),
            "U": self.first_update,
            "u": self.data["u"],
            "T": self.data.get("T", now_us),
        }


def _ascending(levels: dict[str, str]) -> list[list[str]]:
    """Levels sorted by price, low to high, as the realtime depth stream sends them."""
    return [[price, levels[price]] for price in sorted(levels, key=Decimal)]


class StreamHub:
    """Fans engine events out to subscribed connections; serialises each frame once."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.connections: set[Connection] = set()
        self.public: dict[str, set[Connection]] = {}
        self.private: dict[tuple[int, str], set[Connection]] = {}
        self.aggregates: dict[str, DepthAggregate] = {}
        self.gap_remaining: dict[str, int] = {}
        self.depth_messages_sent = 0
        sandbox.event_sinks.append(self.publish)
        if sandbox.faults.depth_gap:
            self.arm_depth_gap(sandbox.faults.depth_gap)

    # ---------------------------------------------------------------- faults
    def arm_depth_gap(self, count: int) -> None:
        """Skip the next ``count`` depth updates of every market."""
        for market in self.sandbox.seed.markets:
            self.gap_remaining[market.symbol] = count

    def drop_all(self) -> int:
        """Close every connection now; returns how many."""
        count = len(self.connections)
        for connection in list(self.connections):
            connection.close()
        return count

    # ------------------------------------------------------------ publishing
    def publish(self, event: Event) -> None:
        """Deliver one engine event to its subscribers (sync: called inside engine commands)."""
        if not self.connections:
            return
        if event.subaccount_id is not None and event.stream.startswith("account."):
            self._publish_private(event)
            return
        stream = event.stream
        if stream.startswith("depth."):
            symbol = event.symbol or ""  # not event.data: that would build every payload
            if self.gap_remaining.get(symbol):
                self.gap_remaining[symbol] -= 1
                return
            for name in AGGREGATED_DEPTH_MS:
                key = f"depth.{name}.{symbol}"
                if self.public.get(key):
                    aggregate = self.aggregates.get(key)
                    if aggregate is None:
                        aggregate = self.aggregates[key] = DepthAggregate()
                    aggregate.add(event.data)
        subscribers = self.public.get(stream)
        if subscribers:
            text = json.dumps({"stream": stream, "data": event.data}, separators=(",", ":"))
            for connection in subscribers:
                connection.send(text)

    def _publish_private(self, event: Event) -> None:
        sub = event.subaccount_id
        names = [event.stream]
        if event.symbol:
            names.append(f"{event.stream}.{event.symbol}")
        for name in names:
            subscribers = self.private.get((sub, name))
            if subscribers:
                text = json.dumps({"stream": name, "data": event.data}, separators=(",", ":"))
                for connection in subscribers:
                    connection.send(text)

    def flush_aggregates(self, period: str) -> None:
        """Send the merged depth of one period (``200ms`` ...) to its subscribers."""
        prefix = f"depth.{period}."
        now_us = self.sandbox.clock_us()
        for key in [k for k in self.aggregates if k.startswith(prefix)]:
            aggregate = self.aggregates.pop(key)
            subscribers = self.public.get(key)
            if not subscribers or aggregate.first_update is None:
                continue
            frame = {"stream": key, "data": aggregate.message(now_us)}
            text = json.dumps(frame, separators=(",", ":"))
            for connection in subscribers:
                connection.send(text)

    # ---------------------------------------------------------- subscriptions
    def stream_error(self, name: Any) -> str | None:
        """Why ``name`` is not a stream this exchange offers, or None when it is."""
        if not isinstance(name, str) or not name:
            return "Invalid stream"
        symbols = {market.symbol for market in self.sandbox.seed.markets}
        if name in PRIVATE_KINDS:
            return None
        parts = name.split(".")
        if name.startswith("account."):
            kind = ".".join(parts[:2])
            if kind in PRIVATE_KINDS and len(parts) == 3 and parts[2] in symbols:
                return None
            return f"Invalid stream: {name}"
        if len(parts) == 2 and parts[0] in SIMPLE_PUBLIC:
            return None if parts[1] in symbols else f"Invalid market: {parts[1]}"
        if len(parts) == 3 and parts[0] == "depth" and parts[1] in AGGREGATED_DEPTH_MS:
            return None if parts[2] in symbols else f"Invalid market: {parts[2]}"
        if len(parts) == 3 and parts[0] == "kline" and parts[1] in KLINE_INTERVALS:
            return None if parts[2] in symbols else f"Invalid market: {parts[2]}"
        return f"Invalid stream: {name}"

    def subscribe(self, connection: Connection, name: str, subaccount: int | None) -> None:
        """Add one stream to a connection (private streams belong to ``subaccount``)."""
        if name.startswith("account."):
            assert subaccount is not None
            old = connection.private.get(name)
            if old is not None:
                self.private.get((old, name), set()).discard(connection)
            connection.private[name] = subaccount
            self.private.setdefault((subaccount, name), set()).add(connection)
        else:
            connection.public.add(name)
            self.public.setdefault(name, set()).add(connection)

    def unsubscribe(self, connection: Connection, name: str) -> None:
        """Remove one stream from a connection (unknown names are ignored)."""
        if name in connection.public:
            connection.public.discard(name)
            self.public.get(name, set()).discard(connection)
        subaccount = connection.private.pop(name, None)
        if subaccount is not None:
            self.private.get((subaccount, name), set()).discard(connection)

    def forget(self, connection: Connection) -> None:
        """Drop a closed connection and all its subscriptions."""
        for name in list(connection.public) + list(connection.private):
            self.unsubscribe(connection, name)
        self.connections.discard(connection)

    # --------------------------------------------------------------- frames
    def handle_frame(self, connection: Connection, text: str) -> None:
        """Act on one client frame; refusals go back as error frames."""
        request_id: Any = None
        try:
            if len(text) > MAX_FRAME:
                raise _WsError(ERR_BAD_REQUEST, "Frame too large")
            try:
                message = json.loads(text)
            except ValueError:
                raise _WsError(ERR_BAD_REQUEST, "Invalid JSON") from None
            if not isinstance(message, dict):
                raise _WsError(ERR_BAD_REQUEST, "Expected a JSON object")
            request_id = message.get("id")
            if not isinstance(request_id, int | str) or isinstance(request_id, bool):
                request_id = None
            method = message.get("method")
            params = message.get("params")
            if method not in ("SUBSCRIBE", "UNSUBSCRIBE"):
                raise _WsError(ERR_BAD_REQUEST, "Invalid method: expected SUBSCRIBE or UNSUBSCRIBE")
            if not isinstance(params, list) or not params:
                raise _WsError(ERR_BAD_REQUEST, "Invalid params: expected a list of streams")
            if len(params) > MAX_STREAMS_PER_REQUEST:
                raise _WsError(
                    ERR_BAD_REQUEST, f"Too many streams: at most {MAX_STREAMS_PER_REQUEST} at once"
                )
            for name in params:
                reason = self.stream_error(name)
                if reason is not None:
                    raise _WsError(ERR_STREAM, reason)
            if method == "UNSUBSCRIBE":
                for name in params:
                    self.unsubscribe(connection, name)
            else:
                subaccount = None
                if any(name.startswith("account.") for name in params):
                    subaccount = self._check_signature(message.get("signature"))
                for name in params:
                    self.subscribe(connection, name, subaccount)
                    if name.startswith("account.positionUpdate"):
                        self._send_positions(connection, name, subaccount)
            if "id" in message:
                connection.send(json.dumps({"id": request_id, "result": None}))
        except _WsError as exc:
            error = {"id": request_id, "error": {"code": exc.code, "message": exc.message}}
            connection.send(json.dumps(error))

    def _check_signature(self, signature: Any) -> int:
        if (
            not isinstance(signature, list)
            or len(signature) != 4
            or not all(isinstance(part, str | int) for part in signature)
        ):
            raise _WsError(
                ERR_AUTH, "Private streams need a signature: [key, signature, timestamp, window]"
            )
        key, sig, timestamp, window = (str(part) for part in signature)
        try:
            return self.sandbox.auth.check(key, sig, timestamp, window, "subscribe", None)
        except ApiError as exc:
            raise _WsError(ERR_AUTH, exc.message) from None

    def _send_positions(self, connection: Connection, name: str, subaccount: int | None) -> None:
        assert subaccount is not None
        symbol = name.split(".", 2)[2] if name.count(".") == 2 else None
        now_us = self.sandbox.clock_us()
        for position in self.sandbox.engine.positions(subaccount, symbol):
            data = position_frame(position, now_us)
            connection.send(json.dumps({"stream": name, "data": data}, separators=(",", ":")))


class _WsError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def position_frame(position: dict[str, Any], now_us: int) -> dict[str, Any]:
    """A REST ``FuturePositionWithMargin`` as the position stream's snapshot (no ``e``)."""
    return {
        "E": now_us,
        "s": position["symbol"],
        "b": position.get("breakEvenPrice"),
        "B": position.get("entryPrice"),
        "f": position.get("imf"),
        "M": position.get("markPrice"),
        "m": position.get("mmf"),
        "q": position.get("netQuantity"),
        "Q": position.get("netExposureQuantity"),
        "n": position.get("netExposureNotional"),
        "i": position.get("positionId"),
        "p": position.get("pnlRealized"),
        "P": position.get("pnlUnrealized"),
        "T": now_us,
    }


async def websocket_endpoint(websocket: WebSocket) -> None:
    """The WebSocket API: one reader (this coroutine) and one writer task per client."""
    hub: StreamHub = websocket.app.state.hub
    await websocket.accept()
    connection = Connection(websocket)
    hub.connections.add(connection)
    writer = asyncio.create_task(_write(connection))
    try:
        while not connection.closed:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
            text = message.get("text")
            if text is None:
                raw = message.get("bytes") or b""
                text = raw.decode("utf-8", "replace")
            hub.handle_frame(connection, text)
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        hub.forget(connection)
        connection.close()
        with contextlib.suppress(Exception):
            await writer


async def _write(connection: Connection) -> None:
    websocket = connection.websocket
    try:
        while True:
            text = await connection.queue.get()
            if text is None:
                break
            await websocket.send_text(text)
    except Exception:  # the peer went away: nothing left to write to
        connection.closed = True
        return
    with contextlib.suppress(Exception):
        await websocket.close(code=1001)
