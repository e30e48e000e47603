"""The script keys page (mounted at /trading/keys/) and the exchange's protocol for scripts
(mounted at /bpx/)."""

from __future__ import annotations

from django.urls import path

from trading.gateway import endpoint, pages

app_name = "gateway"

urlpatterns = [
    path("trading/keys/", pages.script_keys_page, name="script_keys"),
    path(
        "trading/keys/<int:key_id>/revoke/",
        pages.script_key_revoke_view,
        name="script_key_revoke",
    ),
    path("bpx/<path:route>", endpoint.bpx_endpoint, name="bpx"),
]
