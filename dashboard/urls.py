"""Root URLs."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from dashboard import views
from trading.views.monitoring import prometheus_metrics

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("metrics", prometheus_metrics, name="metrics"),
    path("accounts/", include("accounts.urls")),
    path("trading/", include("trading.urls")),
    path("admin/", admin.site.urls),
]

handler400 = "dashboard.views.bad_request"
