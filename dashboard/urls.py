"""Root URLs."""

from __future__ import annotations

from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from accounts import urls as accounts_urls
from dashboard import views
from trading.views.monitoring import prometheus_metrics
from trading.views.team import team_settings
from trading.withdrawals import urls as withdrawal_urls

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    # Browsers ask for /favicon.ico whatever the page's <link rel="icon"> says.
    path(
        "favicon.ico",
        RedirectView.as_view(url=static("favicon.svg"), permanent=True),
        name="favicon",
    ),
    path("metrics", prometheus_metrics, name="metrics"),
    # The withdrawal settings pages (address book, policy) live with the withdrawals, and the
    # team settings page with the ledger whose checkpoints a new zone needs, but they keep the
    # paths and names they were published with: /accounts/..., `accounts:withdrawals`.
    path(
        "accounts/",
        include(
            (
                [
                    *accounts_urls.urlpatterns,
                    *withdrawal_urls.settings_urlpatterns,
                    path("team/", team_settings, name="team_settings"),
                ],
                "accounts",
            )
        ),
    ),
    path("trading/", include("trading.urls")),
    path("", include("trading.gateway.urls")),
    path("admin/", admin.site.urls),
]

handler400 = "dashboard.views.bad_request"
handler403 = "dashboard.views.permission_denied"
