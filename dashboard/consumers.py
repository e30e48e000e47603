"""The overview page's live connections: presence (proves the WebSocket path end to end)
and the team region pushed when the relay says a subaccount's figures changed."""

from __future__ import annotations

import asyncio
import contextlib

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.template.loader import render_to_string

from accounts.live import user_group
from accounts.permissions import roles_of
from dashboard.overview import overview_for
from trading.monitoring.live_sockets import ClosesWhenBrokenMixin
from trading.relay import runtime
from trading.relay.groups import overview_group
from trading.relay.members import FanoutMemberMixin


class PresenceConsumer(ClosesWhenBrokenMixin, AsyncWebsocketConsumer):
    """Accepts only signed-in users and tells the page it is live."""

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        await self.accept()
        html = render_to_string("partials/live_status.html", {"live": True})
        await self.send(text_data=html)


class OverviewConsumer(ClosesWhenBrokenMixin, FanoutMemberMixin, AsyncWebsocketConsumer):
    """The overview's team region, pushed: joins the overview group of every subaccount the
    user may see; when the relay says one changed (a fill, a position, balances, its ledger),
    renders the region again for this user and sends it (an out-of-band swap by id), at most
    once per ``PUSH_EVERY_S`` with the latest figures. The relay's word comes through the
    process's fan-out hub (`trading.relay.fanout`), as the market and account fragments do.
    When the user joins or leaves a subaccount (``membership.changed`` through the channel
    layer, `accounts.live`), the socket follows the new set of groups and pushes the region
    at once. The page's poll is only a fall-back while this socket is down
    (static/js/overview.js)."""

    PUSH_EVERY_S = 0.5

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_active:
            await self.close(code=4401)
            return
        await self.accept()
        self.groups_joined: list[str] = []
        self._dirty = False
        self._task: asyncio.Task[None] | None = None
        await self.channel_layer.group_add(user_group(user.pk), self.channel_name)
        await self.join_fanout()
        await self._follow_memberships()
        await runtime.ensure_embedded_relay()

    async def _follow_memberships(self) -> None:
        """Be in the overview groups of exactly the subaccounts the user may see now."""
        assert self.hub is not None
        groups = [
            overview_group(pk) for pk in await database_sync_to_async(roles_of)(self.scope["user"])
        ]
        for group in set(self.groups_joined) - set(groups):
            self.hub.leave(group, self)
        for group in set(groups) - set(self.groups_joined):
            self.hub.join(group, self)
        self.groups_joined = groups

    async def membership_changed(self, event: dict) -> None:
        """The user joined or left a subaccount (accounts.live): the region shows it at once."""
        await self._follow_memberships()
        self.deliver("", event)

    async def push(self, event: dict) -> None:
        """A fragment addressed to the user's sockets (`push`): the page's account socket
        shows it; this one, in the user's group only to follow memberships, lets it pass
        (without a handler, the message closed the overview's socket)."""

    async def disconnect(self, code: int) -> None:
        task = getattr(self, "_task", None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.leave_fanout(*getattr(self, "groups_joined", []))
        user = self.scope.get("user")
        if user is not None and user.is_authenticated:
            await self.channel_layer.group_discard(user_group(user.pk), self.channel_name)

    def deliver(self, group: str, message: dict, frames: object = None) -> None:
        """The relay says a subaccount's figures changed: render and push (soon, coalesced)."""
        self._dirty = True
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._push_while_dirty())

    async def _push_while_dirty(self) -> None:
        while self._dirty:
            self._dirty = False
            overview = await overview_for(user=self.scope["user"])
            context = {"overview": overview, "user": self.scope["user"]}
            await self.send(text_data=render_to_string("home.html#team", context))
            await asyncio.sleep(self.PUSH_EVERY_S)
