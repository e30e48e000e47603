"""WebSocket routes of every app, gathered in one list for the ASGI router."""

from __future__ import annotations

from django.urls import path

from dashboard.consumers import PresenceConsumer

websocket_urlpatterns = [
    path("ws/presence/", PresenceConsumer.as_asgi()),
]
