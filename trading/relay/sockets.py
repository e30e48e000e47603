"""Writing fragments to one browser socket: framed once per process, latest state only when the
socket backs up.

Under daphne a consumer's ASGI ``send`` is ``functools.partial(server.handle_reply, protocol)``
(behind Channels' session wrapper), where ``protocol`` is the socket's autobahn protocol. The
writer uses two of autobahn's and Twisted's public interfaces on it:

- ``factory.prepareMessage`` frames a fragment once; ``sendPreparedMessage`` writes those bytes
  to each socket (autobahn's own broadcast path), instead of one framing per browser;
- ``registerProducer`` (Twisted's push-producer interface): Twisted pauses the writer when the
  socket's write buffer passes its high-water mark (the browser stopped reading) and resumes it
  once drained. While paused the writer keeps only the newest fragment per region (and the
  newest `EVENTS_KEPT` feed rows), so a browser that stops reading costs a bounded amount of
  memory; daphne's ping timeout closes it if it never reads again.

The socket's kernel send buffer is capped at `SEND_BUFFER` bytes: left to the kernel's
autotuning it grows to megabytes for a browser that stops reading (4 MiB on a default Linux),
all of it stale fragments that browser would have to read through before the current state.

Under another ASGI server (no such protocol) the writer falls back to the ASGI ``send``, one
task per write, without backpressure, and says so in the log once;
tests/trading/relay/test_socket_writer.py pins the shape it relies on under daphne.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import logging
import socket
from typing import Any

log = logging.getLogger(__name__)

SEND_BUFFER = 128 * 1024
"""Bytes the kernel may hold for one browser socket (Linux doubles it for its bookkeeping):
at ten fragments a second per region, more than a second's worth for a browser that reads."""

EVENTS_KEPT = 50
"""Feed rows kept for a paused socket (the page shows the newest 50; static/js/market.js)."""

_event_numbers = itertools.count()
_TWISTED_BUFFER = ("connected", "_writeDisconnected", "_tempDataLen", "offset", "dataBuffer")
"""Twisted's `FileDescriptor` write buffer (twisted/internet/abstract.py), read to know that
nothing waits ahead of a direct send; a transport without them is written through Twisted."""
_told: set[bool] = set()  # which way of writing this process has logged (once each)


def _tell_how(direct: bool) -> None:
    if direct in _told:
        return
    _told.add(direct)
    if direct:
        log.info("socket writes: direct to daphne's protocol, framed once per process")
    else:
        log.info(
            "socket writes: through the ASGI send, one task per write and no backpressure "
            "(the server is not daphne, or daphne's protocol changed shape)"
        )


def autobahn_protocol(send: Any) -> Any | None:
    """The socket's autobahn protocol behind daphne's ASGI send, or None.

    Channels' session middleware hands consumers its own ``send`` (to save the session on HTTP
    answers), which calls daphne's as ``real_send``: looked through, as far as it goes."""
    for _ in range(5):
        wrapper = getattr(send, "__self__", None)
        if wrapper is None or not hasattr(wrapper, "real_send"):
            break
        send = wrapper.real_send
    if not isinstance(send, functools.partial) or not send.args:
        return None
    protocol = send.args[0]
    needed = (
        "sendPreparedMessage",
        "registerProducer",
        "factory",
        "state",
        "STATE_OPEN",
        "websocket_extensions_in_use",
        "send_queue",
        "transport",
    )
    if all(hasattr(protocol, name) for name in needed) and hasattr(
        protocol.factory, "prepareMessage"
    ):
        return protocol
    return None


class Frames:
    """One delivery's frames, prepared once for all the sockets of a process."""

    __slots__ = ("_prepared",)

    def __init__(self) -> None:
        self._prepared: dict[tuple[int, str], Any] = {}

    def prepared(self, factory: Any, key: str, text: str) -> Any:
        slot = (id(factory), key)
        frame = self._prepared.get(slot)
        if frame is None:
            frame = self._prepared[slot] = factory.prepareMessage(text.encode("utf-8"))
        return frame


class SocketWriter:
    """Writes one browser's fragments; a Twisted push producer for its socket."""

    def __init__(self, send: Any) -> None:
        self._send = send
        self._protocol = autobahn_protocol(send)
        self.paused = False
        self.stopped = False
        self.dropped = 0  # fragments replaced by newer ones while paused
        self._pending: dict[str, tuple[str, str]] = {}  # region kind -> (key, text)
        self._socket: socket.socket | None = None  # set when Twisted's buffer can be seen
        _tell_how(self._protocol is not None)
        if self._protocol is not None:
            try:
                transport = self._protocol.transport
                if getattr(transport, "producer", None) is not None:
                    # Twisted's HTTP channel of the request that was upgraded is still there:
                    # it would stop reading the socket (and its pongs) when writes back up.
                    transport.unregisterProducer()
                self._protocol.registerProducer(self, True)
                handle = transport.getHandle()
                handle.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER)
                if isinstance(handle, socket.socket) and all(
                    hasattr(transport, name) for name in _TWISTED_BUFFER
                ):
                    self._socket = handle
            except Exception as exc:  # noqa: BLE001 - e.g. a producer already registered
                log.debug("no backpressure for this socket: %s", exc)

    @property
    def fast(self) -> bool:
        """Writes go straight to the socket's protocol (daphne)."""
        return self._protocol is not None

    def write(self, text: str, *, kind: str | None, key: str, frames: Frames | None) -> None:
        """Send `text` now, or keep it as the newest of its `kind` while the socket is paused.
        `key` names the variant ("html", "trader_html") for the shared frames."""
        if self.stopped:
            return
        if self.paused:
            self._hold(text, kind, key)
            return
        self._write_now(text, key, frames)

    def _hold(self, text: str, kind: str | None, key: str) -> None:
        if kind is None:  # a feed row: never merged, the newest EVENTS_KEPT kept
            kind = f"event:{next(_event_numbers)}"
            events = [k for k in self._pending if k.startswith("event:")]
            for stale in events[: max(0, len(events) - EVENTS_KEPT + 1)]:
                del self._pending[stale]
                self.dropped += 1
        elif kind in self._pending:
            self.dropped += 1
            del self._pending[kind]  # re-inserted last: flushed in the order of their newest
        self._pending[kind] = (key, text)

    def _write_now(self, text: str, key: str, frames: Frames | None) -> None:
        protocol = self._protocol
        if protocol is None:
            asyncio.ensure_future(self._send({"type": "websocket.send", "text": text}))
            return
        if protocol.state != protocol.STATE_OPEN:
            return
        if frames is None:
            protocol.sendMessage(text.encode("utf-8"), False)
            return
        frame = frames.prepared(protocol.factory, key, text)
        if protocol.websocket_extensions_in_use or protocol.send_queue:
            protocol.sendPreparedMessage(frame)  # compressed, or behind autobahn's own queue
        else:
            # What autobahn's sendData does for a frame already framed, without the debug
            # line it formats on every write whether or not debug logging is on.
            self._send_bytes(protocol.transport, frame.payloadHybi)

    def _send_bytes(self, transport: Any, payload: bytes) -> None:
        """Hand `payload` to the kernel now when nothing of Twisted's waits ahead of it; what
        the kernel does not take goes to Twisted's buffer, as every write did before.

        Twisted's `write` only buffers and asks the reactor to watch the socket; the send
        comes on the loop's next turn, at the price of registering and unregistering the
        socket with epoll and a reactor callback, per socket and fragment. Trying the send
        first (as asyncio's own transports do) skips all three when the socket has room, which
        is nearly always; order is kept because the send is tried only behind an empty
        buffer, and backpressure is unchanged: a socket that backs up fills Twisted's buffer,
        which pauses this writer."""
        sock = self._socket
        if (
            sock is not None
            and transport.connected
            and not transport._writeDisconnected  # noqa: SLF001 - see _TWISTED_BUFFER
            and not transport._tempDataLen  # noqa: SLF001
            and transport.offset == len(transport.dataBuffer)
        ):
            try:
                sent = sock.send(payload)
            except OSError:  # full (EAGAIN) or lost: Twisted's write finds out which
                sent = 0
            if sent == len(payload):
                return
            payload = payload[sent:]
        transport.write(payload)

    # -- Twisted's IPushProducer ------------------------------------------------------------
    def pauseProducing(self) -> None:  # noqa: N802 - Twisted's interface
        self.paused = True

    def resumeProducing(self) -> None:  # noqa: N802
        self.paused = False
        pending = list(self._pending.items())
        self._pending = {}
        for index, (_kind, (key, text)) in enumerate(pending):
            if self.stopped:
                return
            if self.paused:  # a write filled the buffer again: keep the rest for next time
                self._pending.update(pending[index:])
                return
            self._write_now(text, key, None)

    def stopProducing(self) -> None:  # noqa: N802
        self.stopped = True
        self._pending.clear()

    def close(self) -> None:
        """The consumer is going: forget what is held and let go of the socket."""
        self.stopped = True
        self._pending.clear()
        if self._protocol is not None:
            try:
                self._protocol.unregisterProducer()
            except Exception:  # noqa: BLE001, S110 - the transport may be gone already
                pass
