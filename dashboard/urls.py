"""Root URLs."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from dashboard import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/", include("accounts.urls")),
    path("trading/", include("trading.urls")),
    path("admin/", admin.site.urls),
]
