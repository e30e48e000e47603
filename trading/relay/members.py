"""What a browser or script socket needs to be fed by its process's fan-out hub: a writer for
its socket, membership of the hub's groups, and closing with 4013 when the hub loses Redis."""

from __future__ import annotations

import asyncio
import contextlib

from trading.monitoring.live_sockets import CLOSE_TRY_AGAIN, live_socket_failed
from trading.relay.connections import hub_ready
from trading.relay.fanout import Hub
from trading.relay.sockets import SocketWriter


class FanoutMemberMixin:
    """A socket fed by the process's fan-out hub."""

    hub: Hub | None = None
    writer: SocketWriter | None = None

    async def join_fanout(self) -> Hub:
        self.writer = SocketWriter(self.base_send)
        self.hub = await hub_ready()
        return self.hub

    def leave_fanout(self, *groups: str) -> None:
        if self.hub is not None:
            for group in groups:
                self.hub.leave(group, self)
        if self.writer is not None:
            self.writer.close()

    def broken(self, exc: BaseException) -> None:
        """The hub lost Redis: this socket gets nothing more; close it as a failed one."""
        asyncio.ensure_future(self._close_broken(exc))

    async def _close_broken(self, exc: BaseException) -> None:
        user = self.scope.get("user")
        who = user.get_username() if user is not None and user.is_authenticated else "-"
        await live_socket_failed(path=self.scope.get("path", ""), user=who, exc=exc)
        with contextlib.suppress(Exception):
            await self.close(code=CLOSE_TRY_AGAIN)
