"""API health page, the alerts bell, alert webhooks, and the Prometheus endpoint."""

from __future__ import annotations

import hmac
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from accounts.audit import audit_record
from accounts.decorators import client_ip
from accounts.errors import STAFF_HINT, Refusal
from accounts.models import Role
from accounts.permissions import role_of, subaccounts_visible_to
from trading.monitoring.bell import alerts_bell_html, alerts_visible_to, bell_for, bell_mark_seen
from trading.monitoring.health import call_health, clock_offset_ms, stream_rows, stream_title
from trading.monitoring.live_sockets import live_socket_failures
from trading.monitoring.prometheus import CONTENT_TYPE, metrics_text


def _health_context(user: Any) -> dict[str, Any]:
    now = timezone.now()
    subaccounts = list(subaccounts_visible_to(user, min_role=Role.VIEWER).order_by("name"))
    health = call_health(labels=[str(s.pk) for s in subaccounts], now=now)
    visible_streams = {f"subaccount.{s.pk}" for s in subaccounts}
    names = {s.pk: s.name for s in subaccounts}
    streams = sorted(
        (
            {"row": row, "title": stream_title(row.name, names)}
            for row in stream_rows(now=now)
            if row.name.startswith("market.") or row.name in visible_streams
        ),
        key=lambda s: (not s["row"].name.startswith("subaccount."), s["title"].lower()),
    )
    rows = []
    for subaccount in subaccounts:
        figures = health[str(subaccount.pk)]
        rows.append(
            {
                "subaccount": subaccount,
                "is_admin": role_of(user, subaccount) == Role.ADMIN,
                "health": figures,
                "codes": ", ".join(f"{code} ×{n}" for code, n in figures.error_codes[:4]),
                "stream": next(
                    (s["row"] for s in streams if s["row"].name == f"subaccount.{subaccount.pk}"),
                    None,
                ),
            }
        )
    from trading.models import AlertWebhook

    return {
        "rows": rows,
        "streams": streams,
        "alerts": list(alerts_visible_to(user).select_related("subaccount")[:20]),
        "clock_offset_ms": clock_offset_ms(),
        "live_socket_failures": live_socket_failures(),
        "webhooks": list(AlertWebhook.objects.all()) if user.is_staff else [],
        "env_webhooks": len(getattr(settings, "DASHBOARD_ALERT_WEBHOOKS", ()) or ()),
        "now": now,
    }


@require_GET
@login_required
def health_page(request: HttpRequest) -> HttpResponse:
    """Per subaccount: failures by kind, latency percentiles, rate budget, streams, clock."""
    return render(request, "trading/health.html", _health_context(request.user))


@require_GET
@login_required
def alerts_bell(request: HttpRequest) -> HttpResponse:
    """The bell fragment (base.html loads it, the relay pushes it)."""
    return HttpResponse(alerts_bell_html(bell=bell_for(request.user)))


@require_POST
@login_required
def alerts_seen(request: HttpRequest) -> HttpResponse:
    """Mark every alert read; answers the refreshed bell."""
    bell_mark_seen(request.user)
    return HttpResponse(alerts_bell_html(bell=bell_for(request.user)))


def _staff(request: HttpRequest) -> None:
    if not request.user.is_staff:
        raise Refusal("Alert webhooks are managed by staff.", hint=STAFF_HINT)


@require_POST
@login_required
def webhook_add(request: HttpRequest) -> HttpResponse:
    """Staff add a Slack-compatible webhook URL."""
    from trading.models import AlertWebhook

    _staff(request)
    name = request.POST.get("name", "").strip()[:80] or "webhook"
    url = request.POST.get("url", "").strip()
    try:
        URLValidator(schemes=["http", "https"])(url)
        webhook = AlertWebhook.objects.create(name=name, url=url, created_by=request.user)
    except ValidationError:
        return _webhook_refused(request, "The webhook URL must start with https:// (or http://).")
    except IntegrityError:
        return _webhook_refused(request, "That webhook URL is configured already.")
    else:
        audit_record(
            actor=request.user,
            action="alert_webhook_add",
            ip=client_ip(request),
            parameters={"name": webhook.name, "url_host": _host(url)},
        )
        messages.success(request, f"Alerts now go to {webhook.name} too.")
    return HttpResponseRedirect(reverse("trading:health"))


def _webhook_refused(request: HttpRequest, why: str) -> HttpResponse:
    """The page again with `why` and what was typed, to correct rather than type again."""
    messages.error(request, why)
    typed = {"name": request.POST.get("name", ""), "url": request.POST.get("url", "")}
    context = {**_health_context(request.user), "webhook_typed": typed}
    return render(request, "trading/health.html", context, status=400)


@require_POST
@login_required
def webhook_remove(request: HttpRequest, webhook_id: int) -> HttpResponse:
    """Staff remove a webhook."""
    from trading.models import AlertWebhook

    _staff(request)
    webhook = AlertWebhook.objects.filter(pk=webhook_id).first()
    if webhook is None:
        messages.error(request, "That webhook was removed already.")
    else:
        webhook.delete()
        audit_record(
            actor=request.user,
            action="alert_webhook_remove",
            ip=client_ip(request),
            parameters={"name": webhook.name, "url_host": _host(webhook.url)},
        )
        messages.success(request, f"Alerts no longer go to {webhook.name}.")
    if request.htmx:  # asked to confirm first (hx-confirm): the page is loaded again
        return HttpResponseClientRedirect(reverse("trading:health"))
    return HttpResponseRedirect(reverse("trading:health"))


def _host(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).hostname or ""


@require_GET
def prometheus_metrics(request: HttpRequest) -> HttpResponse:
    """`/metrics`: for a staff session, or `Authorization: Bearer <DASHBOARD_METRICS_TOKEN>`."""
    token = getattr(settings, "DASHBOARD_METRICS_TOKEN", "") or ""
    header = request.headers.get("Authorization", "")
    by_token = (
        bool(token)
        and header.startswith("Bearer ")
        and hmac.compare_digest(header.removeprefix("Bearer ").strip().encode(), token.encode())
    )
    user = request.user
    if not by_token and not (user.is_authenticated and user.is_active and user.is_staff):
        response = HttpResponse(
            "Metrics need a staff session or the bearer token (DASHBOARD_METRICS_TOKEN).\n",
            status=401,
            content_type="text/plain; charset=utf-8",
        )
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(metrics_text(), content_type=CONTENT_TYPE)
