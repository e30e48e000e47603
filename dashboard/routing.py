"""WebSocket routes of every app, gathered in one list for the ASGI router."""

from __future__ import annotations

from django.urls import path, re_path

from dashboard.consumers import OverviewConsumer, PresenceConsumer
from trading.consumers import AccountConsumer, MarketConsumer

websocket_urlpatterns = [
    path("ws/presence/", PresenceConsumer.as_asgi()),
    path("ws/overview/", OverviewConsumer.as_asgi()),
    re_path(r"^ws/market/(?P<symbol>[A-Za-z0-9_]{1,40})/$", MarketConsumer.as_asgi()),
    path("ws/account/", AccountConsumer.as_asgi()),
]
