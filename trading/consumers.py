"""Browser connections for live updates. Thin: authenticate, check membership, join validated
groups, forward the relay's fragments.

A socket whose set-up or channel-layer receive fails is closed with 4013 ("try again later"),
logged as one line and counted (`trading.monitoring.live_sockets`); the page shows that live
updates stopped and reconnects. Sockets are accepted before they join their groups, so a
failure to join reaches the browser as that close code rather than a refused handshake.

Messages from the relay are ``{"type": "push", "html": str}``; account messages also carry
``"subaccount": id`` and, where traders see more (cancel and close buttons), ``"trader_html"``.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from accounts.live import user_group
from accounts.models import ROLE_RANK, Membership, Role
from accounts.permissions import subaccounts_visible_to
from trading.monitoring.live_sockets import ClosesWhenBrokenMixin
from trading.relay import runtime
from trading.relay.groups import BadGroupName, alerts_group, market_group, subaccount_group

WATCH_EVERY_S = 10.0
CLOSE_UNAUTHENTICATED = 4401
CLOSE_UNKNOWN = 4404


def _roles_of(user: Any) -> dict[int, Role]:
    """Every subaccount the user may see, with the user's role on it."""
    if user.is_superuser:
        return {pk: Role.ADMIN for pk in subaccounts_visible_to(user).values_list("pk", flat=True)}
    rows = Membership.objects.filter(user=user).values_list("subaccount_id", "role")
    return {pk: Role(role) for pk, role in rows}


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


class MarketConsumer(ClosesWhenBrokenMixin, FastPushMixin, AsyncWebsocketConsumer):
    """Public market data for one symbol: book, trades, stats, candles."""

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
        await self.channel_layer.group_add(self.group, self.channel_name)
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
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def push(self, event: dict[str, Any]) -> None:
        await self.send(text_data=event["html"])


class AccountConsumer(ClosesWhenBrokenMixin, FastPushMixin, AsyncWebsocketConsumer):
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
        await self._refresh_memberships()
        await runtime.ensure_embedded_relay()

    async def _refresh_memberships(self) -> None:
        """Join the groups of subaccounts the user may see now; leave the others at once."""
        roles = await database_sync_to_async(_roles_of)(self.scope["user"])
        for pk in set(self.roles) - set(roles):
            await self.channel_layer.group_discard(subaccount_group(pk), self.channel_name)
        for pk in set(roles) - set(self.roles):
            await self.channel_layer.group_add(subaccount_group(pk), self.channel_name)
        self.roles = roles

    async def disconnect(self, code: int) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            return
        for pk in getattr(self, "roles", {}):
            await self.channel_layer.group_discard(subaccount_group(pk), self.channel_name)
        await self.channel_layer.group_discard(user_group(user.pk), self.channel_name)
        await self.channel_layer.group_discard(alerts_group(user.pk), self.channel_name)

    async def membership_changed(self, event: dict[str, Any]) -> None:
        await self._refresh_memberships()

    async def push(self, event: dict[str, Any]) -> None:
        subaccount = event.get("subaccount")
        if subaccount is None:  # addressed to this user (alerts)
            await self.send(text_data=event["html"])
            return
        role = self.roles.get(int(subaccount))
        if role is None:  # a stale group membership never leaks another subaccount's data
            return
        trader = ROLE_RANK[role] >= ROLE_RANK[Role.TRADER]
        html = event.get("trader_html") if trader and event.get("trader_html") else event["html"]
        await self.send(text_data=html)
