"""Browser connections for live updates. Thin: authenticate, check membership, join validated
groups, forward the relay's fragments.

Market and subaccount fragments reach a socket through this process's fan-out hub
(`trading.relay.fanout`), written by its `SocketWriter` (framed once per process, newest state
only when the browser stops reading). What is addressed to one user (membership changes,
alerts) comes through the channel layer.

A socket whose set-up, channel-layer receive or fan-out subscription fails is closed with 4013
("try again later"), logged as one line and counted (`trading.monitoring.live_sockets`); the
page shows that live updates stopped and reconnects. Sockets are accepted before they join
their groups, so a failure to join reaches the browser as that close code rather than a
refused handshake.

Messages from the relay are ``{"type": "push", "html": str, "kind": str}``; account messages
also carry ``"subaccount": id`` and, where traders see more (cancel and close buttons),
``"trader_html"``.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from accounts.live import user_group
from accounts.models import Role
from accounts.permissions import role_allows, roles_of
from trading.live_regions import access_change_pieces
from trading.monitoring.live_sockets import ClosesWhenBrokenMixin
from trading.relay import runtime
from trading.relay.groups import BadGroupName, alerts_group, market_group, subaccount_group
from trading.relay.members import FanoutMemberMixin
from trading.relay.sockets import Frames
from trading.selectors.access import AccessChange, access_change, subaccount_names

WATCH_EVERY_S = 10.0
CLOSE_UNAUTHENTICATED = 4401
CLOSE_UNKNOWN = 4404


def _signed_in(scope: dict[str, Any]) -> bool:
    user = scope.get("user")
    return bool(user is not None and user.is_authenticated and user.is_active)


class FastPushMixin:
    """Forward relay pushes without Channels' per-message database clean-up.

    Channels' `dispatch` closes stale database connections before every handler, a hop to the
    sync thread each time; with a few hundred browsers that hop, not the CPU, caps throughput at
    about 2,000 messages a second (measured by tests/bench/bench_relay.py). `push` touches no
    database, so it skips the hop; every other message goes the usual way.
    """

    async def dispatch(self, message: dict[str, Any]) -> None:
        if message.get("type") == "push":
            await self.push(message)
            return
        await super().dispatch(message)


class MarketConsumer(ClosesWhenBrokenMixin, FanoutMemberMixin, AsyncWebsocketConsumer):
    """Public market data for one symbol: book, trades, stats, candles. Needs no channel layer:
    everything it sends comes from the fan-out hub."""

    channel_layer_alias = "market sockets use the fan-out hub only"

    async def connect(self) -> None:
        if not _signed_in(self.scope):
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        symbol = self.scope["url_route"]["kwargs"]["symbol"]
        try:
            self.group = market_group(symbol)
        except BadGroupName:
            await self.close(code=CLOSE_UNKNOWN)
            return
        self.symbol = symbol
        await self.accept()
        hub = await self.join_fanout()
        hub.join(self.group, self)
        relay = await runtime.ensure_embedded_relay()
        self._watch = asyncio.create_task(self._keep_watching())
        if relay is not None:
            await relay.market_watched(symbol)

    async def _keep_watching(self) -> None:
        interest = runtime.interest()
        while True:
            await interest.touch(self.symbol)
            await asyncio.sleep(WATCH_EVERY_S)

    async def disconnect(self, code: int) -> None:
        watch = getattr(self, "_watch", None)
        if watch is not None:
            watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watch
        self.leave_fanout(*([self.group] if hasattr(self, "group") else []))

    def deliver(self, group: str, message: dict[str, Any], frames: Frames | None = None) -> None:
        assert self.writer is not None
        self.writer.write(message["html"], kind=message.get("kind"), key="html", frames=frames)


class AccountConsumer(
    ClosesWhenBrokenMixin, FanoutMemberMixin, FastPushMixin, AsyncWebsocketConsumer
):
    """Orders, positions, balances and events of every subaccount the user may see, and alerts."""

    async def connect(self) -> None:
        if not _signed_in(self.scope):
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        user = self.scope["user"]
        self.roles: dict[int, Role] = {}
        await self.accept()
        await self.channel_layer.group_add(user_group(user.pk), self.channel_name)
        await self.channel_layer.group_add(alerts_group(user.pk), self.channel_name)
        await self.join_fanout()
        await self._refresh_memberships(show=False)
        await runtime.ensure_embedded_relay()

    async def _refresh_memberships(self, *, show: bool = True) -> None:
        """Join the groups of subaccounts the user may see now; leave the others at once. With
        `show`, the open page follows: what it shows of a lost subaccount goes (a note says why),
        a subaccount whose role changed comes again with the controls the role has, a gained one
        appears, and the order ticket follows the subaccounts the user may trade."""
        roles = await database_sync_to_async(roles_of)(self.scope["user"])
        assert self.hub is not None
        change = access_change(before=self.roles, after=roles)
        for pk in change.lost:
            self.hub.leave(subaccount_group(pk), self)
        for pk in change.gained:
            self.hub.join(subaccount_group(pk), self)
        self.roles = roles
        if show:
            await self._show(change)

    async def _show(self, change: AccessChange) -> None:
        names: dict[int, str] = {}
        if change.lost:
            names = await database_sync_to_async(subaccount_names)(ids=change.lost)
        assert self.writer is not None
        # Through the writer, behind any fragment of the subaccount it still holds; a piece is
        # the newest of its kind, so a burst of changes leaves the last word on each.
        for kind, html in access_change_pieces(change, names):
            self.writer.write(html, kind=kind, key="html", frames=None)

    async def disconnect(self, code: int) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            return
        self.leave_fanout(*(subaccount_group(pk) for pk in getattr(self, "roles", {})))
        await self.channel_layer.group_discard(user_group(user.pk), self.channel_name)
        await self.channel_layer.group_discard(alerts_group(user.pk), self.channel_name)

    async def membership_changed(self, event: dict[str, Any]) -> None:
        await self._refresh_memberships()

    async def push(self, event: dict[str, Any]) -> None:
        """A message addressed to this user through the channel layer (alerts)."""
        await self.send(text_data=event["html"])

    def deliver(self, group: str, message: dict[str, Any], frames: Frames | None = None) -> None:
        """A subaccount's fragment from the hub, in the variant the user's role sees."""
        subaccount = message.get("subaccount")
        role = self.roles.get(int(subaccount)) if subaccount is not None else None
        if role is None:  # a stale group membership never leaks another subaccount's data
            return
        key = "html"
        if role_allows(role, Role.TRADER) and message.get("trader_html"):
            key = "trader_html"
        assert self.writer is not None
        self.writer.write(message[key], kind=message.get("kind"), key=key, frames=frames)
