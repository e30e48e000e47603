"""The overview page's live connection: proves the WebSocket path end to end."""

from __future__ import annotations

from channels.generic.websocket import AsyncWebsocketConsumer
from django.template.loader import render_to_string

from trading.monitoring.live_sockets import ClosesWhenBrokenMixin


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
