"""``/bpx/ws``: the exchange's WebSocket protocol for scripts.

Frames in (as on the exchange)::

    {"method": "SUBSCRIBE", "params": ["account.orderUpdate.SOL_USDC"], "id": 1,
     "signature": ["<desk key>", "<signature>", "<timestamp>", "<window>"]}
    {"method": "UNSUBSCRIBE", "params": ["account.orderUpdate.SOL_USDC"]}

Frames out: ``{"stream": "<name>", "data": {...}}``, the event exactly as the exchange sent
it; ``{"id": 1, "result": null}`` once a request with an id is done; a refusal
``{"id": <id or null>, "error": {"code": 4xxx, "message": "..."}}``, the connection staying
open. The signature is checked as for REST (window, replay, the desk key's state, its scope
and the member's role, `X-Subaccount` from the handshake for a key with several
subaccounts). Private events come from the relay's one upstream subscription per subaccount
(`AccountFeed`), through the process's fan-out hub (`trading.relay.fanout`): no upstream
connection per script. While
subscribed, the key is admitted again as a new request would be, every `RECHECK_S` and at once
when the member's roles change or the key is revoked (`accounts.live`): revoked or expired
(4401), or its member no longer has the role on the subaccount (4403), the socket gets a
refusal frame saying why and closes with that code.
`account.rfqUpdate` is taken but silent: the desk makes no RFQs.
Public streams (depth, trades, ticker...) need no signature; a socket that asks for some gets
its own upstream connection for them (the session's `StreamClient`, which reconnects and
resubscribes), frames relayed as they come.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import re
from typing import Any

from asgiref.sync import sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from accounts.live import user_group
from trading.exchange import exchange_session
from trading.gateway.admit import Caller, script_key_admit
from trading.gateway.authenticate import script_request_admit
from trading.gateway.errors import Refusal
from trading.gateway.routes import SUBSCRIBE
from trading.relay import runtime
from trading.relay.groups import script_stream_group
from trading.relay.members import FanoutMemberMixin

# The desk makes no RFQs: `account.rfqUpdate` is taken and stays silent (ccxt.pro's
# `watch_orders()` subscribes to it beside the order updates, in one request).
KINDS = ("account.orderUpdate", "account.positionUpdate", "account.rfqUpdate")
ERR_BAD_REQUEST = 4000
ERR_AUTH = 4001
ERR_STREAM = 4006
CLOSE_REVOKED = 4401  # the key was revoked or expired
CLOSE_FORBIDDEN = 4403  # the member lost the role (or the key its scope) on the subaccount
MAX_FRAME = 64 * 1024
RECHECK_S = 5.0
PUBLIC = re.compile(
    r"^(bookTicker|depth|trade|ticker|markPrice|openInterest|depth\.(200|600|1000)ms"
    r"|kline\.[0-9a-z]{2,6})\.[A-Z0-9]{1,20}(_[A-Z0-9]{1,20}){1,2}$"
)


class _Refused(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _private(name: Any) -> bool:
    """True for a private stream name, False for a public one; `_Refused` for anything else."""
    if not isinstance(name, str) or not name:
        raise _Refused(ERR_STREAM, "Invalid stream")
    for kind in KINDS:
        if name == kind or (name.startswith(kind + ".") and name.count(".") == 2):
            return True
    if PUBLIC.match(name):
        return False
    raise _Refused(ERR_STREAM, f"Invalid stream: {name}")


def _event_kind(data: dict[str, Any]) -> str:
    return "account.positionUpdate" if str(data.get("e", "")).startswith("position") else KINDS[0]


@sync_to_async
def _still_admitted(caller: Caller, ip: str | None) -> Refusal | None:
    """None while the socket's key would still be admitted to subscribe to its subaccount
    (`admit.script_key_admit`: revoked, expired, the member's role there); else why not."""
    try:
        script_key_admit(
            api_key=caller.key.public_key,
            served=SUBSCRIBE,
            subaccount=str(caller.subaccount.pk),
            ip=ip,
        )
    except Refusal as refusal:
        return refusal
    return None


class ScriptStreamConsumer(FanoutMemberMixin, AsyncWebsocketConsumer):
    """One script's socket: its subscriptions and the subaccount it signed for."""

    async def connect(self) -> None:
        self.streams: set[str] = set()
        self.caller: Caller | None = None
        self.ip: str | None = None
        self.closing = False
        self._watch: asyncio.Task[None] | None = None
        self.upstream: Any = None  # public streams, opened on first use
        await self.accept()
        await runtime.ensure_embedded_relay()

    async def disconnect(self, code: int) -> None:
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
        if self.caller is not None:
            self.leave_fanout(script_stream_group(self.caller.subaccount.pk))
            if self.channel_layer is not None:
                group = user_group(self.caller.member.pk)
                await self.channel_layer.group_discard(group, self.channel_name)
        if self.upstream is not None:
            await self.upstream.aclose()

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        request_id: Any = None
        try:
            message = self._parse(text_data if text_data is not None else bytes_data or b"")
            request_id = message.get("id")
            if not isinstance(request_id, int | str) or isinstance(request_id, bool):
                request_id = None
            names = message["params"]
            private = [name for name in names if _private(name)]
            public = [name for name in names if name not in private]
            if message["method"] == "UNSUBSCRIBE":
                self.streams.difference_update(private)
                if public and self.upstream is not None:
                    await self.upstream.unsubscribe(public)  # its own client: every handler
            else:
                if private:
                    await self._sign_in(message.get("signature"))
                    self.streams.update(private)
                if public:
                    await self._subscribe_public(public)
            if "id" in message:
                await self.send(text_data=json.dumps({"id": request_id, "result": None}))
        except _Refused as refused:
            error = {"code": refused.code, "message": refused.message}
            await self.send(text_data=json.dumps({"id": request_id, "error": error}))

    @staticmethod
    def _parse(raw: str | bytes) -> dict[str, Any]:
        if len(raw) > MAX_FRAME:
            raise _Refused(ERR_BAD_REQUEST, "Frame too large")
        try:
            message = json.loads(raw)
        except ValueError:
            raise _Refused(ERR_BAD_REQUEST, "Invalid JSON") from None
        if not isinstance(message, dict):
            raise _Refused(ERR_BAD_REQUEST, "Expected a JSON object")
        if message.get("method") not in ("SUBSCRIBE", "UNSUBSCRIBE"):
            raise _Refused(ERR_BAD_REQUEST, "Invalid method: expected SUBSCRIBE or UNSUBSCRIBE")
        if not isinstance(message.get("params"), list) or not message["params"]:
            raise _Refused(ERR_BAD_REQUEST, "Invalid params: expected a list of streams")
        return message

    async def _sign_in(self, signature: Any) -> None:
        if (
            not isinstance(signature, list)
            or len(signature) != 4
            or not all(isinstance(part, str | int) for part in signature)
        ):
            raise _Refused(
                ERR_AUTH, "Private streams need a signature: [key, signature, timestamp, window]"
            )
        key, sig, timestamp, window = (str(part) for part in signature)
        headers = {"X-API-Key": key, "X-Signature": sig, "X-Timestamp": timestamp}
        headers["X-Window"] = window
        handshake = dict(self.scope.get("headers") or [])
        wanted = handshake.get(b"x-subaccount")
        client = self.scope.get("client") or [None]
        try:
            caller = await script_request_admit(
                headers=headers,
                instruction=SUBSCRIBE.route.instruction or "subscribe",
                params=None,
                served=SUBSCRIBE,
                subaccount=wanted.decode("latin-1") if wanted else None,
                ip=client[0],
            )
        except Refusal as refusal:
            raise _Refused(ERR_AUTH, refusal.message) from None
        if self.caller is not None and self.caller.subaccount.pk != caller.subaccount.pk:
            raise _Refused(ERR_AUTH, "One socket follows one subaccount: open another socket.")
        if self.caller is None:
            self.caller = caller
            self.ip = client[0]
            hub = await self.join_fanout()
            hub.join(script_stream_group(caller.subaccount.pk), self)
            if self.channel_layer is not None:  # the member's access changed: check at once
                await self.channel_layer.group_add(user_group(caller.member.pk), self.channel_name)
            self._watch = asyncio.create_task(self._keep_checking())

    async def _subscribe_public(self, names: list[str]) -> None:
        if self.upstream is None:
            self.upstream = exchange_session().streams(None)
        for name in names:
            await self.upstream.subscribe(name, functools.partial(self._relay_public, name))

    async def _relay_public(self, name: str, data: Any) -> None:
        text = json.dumps({"stream": name, "data": data}, separators=(",", ":"))
        await self.send(text_data=text)

    async def _keep_checking(self) -> None:
        while True:
            await asyncio.sleep(RECHECK_S)
            if not await self._still_open():
                return

    async def membership_changed(self, event: dict[str, Any]) -> None:
        """The member's roles changed, or their key was revoked (`accounts.live`)."""
        await self._still_open()

    async def _still_open(self) -> bool:
        """True while the socket's key would still be admitted; else the socket is told why
        in a refusal frame (daphne sends no close reason) and closed."""
        if self.closing:
            return False
        if self.caller is None:
            return True
        refused = await _still_admitted(self.caller, self.ip)
        if self.closing:  # closed by a check that ran meanwhile
            return False
        if refused is None:
            return True
        self.closing = True
        code = CLOSE_REVOKED if refused.status == 401 else CLOSE_FORBIDDEN
        error = {"code": code, "message": refused.message}
        await self.send(text_data=json.dumps({"id": None, "error": error}))
        await self.close(code=code)
        return False

    def deliver(self, group: str, message: dict[str, Any], frames: Any = None) -> None:
        """An upstream event of the subaccount (from the hub): sent under each subscribed name
        it matches; a script that stops reading keeps the newest events only."""
        data = message.get("data")
        if not isinstance(data, dict) or self.writer is None:
            return
        kind = _event_kind(data)
        for name in (kind, f"{kind}.{data.get('s', '')}"):
            if name in self.streams:
                text = json.dumps({"stream": name, "data": data}, separators=(",", ":"))
                self.writer.write(text, kind=None, key=name, frames=None)
