"""The overview page and the load balancer's health check."""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views import defaults
from django.views.decorators.http import require_GET

from accounts.decorators import signed_in
from dashboard.limits import body_too_large, refusal_page
from dashboard.overview import overview_for


@signed_in
async def home(request: HttpRequest) -> HttpResponse:
    """The overview: team figures, the user's subaccounts and their pages; for htmx's poll of
    `#overview-team`, only that region."""
    overview = await overview_for(user=request.user)
    template = "home.html"
    if getattr(request, "htmx", False) and request.htmx.target == "overview-team":
        template = "home.html#team"
    return await sync_to_async(render)(request, template, {"overview": overview})


@require_GET
async def healthz(request: HttpRequest) -> JsonResponse:
    """For load balancers: 503 when the database or the channel layer fails; the exchange's
    reachability (and clock offset) is reported but never takes this process out, since
    every process shares the same exchange."""
    from trading.monitoring.healthz import channel_layer_check, database_check, exchange_check

    database = await sync_to_async(database_check)()
    channel_layer = await channel_layer_check()
    exchange = await exchange_check()
    status = 200 if database == "ok" and channel_layer == "ok" else 503
    return JsonResponse(
        {"database": database, "channel_layer": channel_layer, "exchange": exchange},
        status=status,
    )


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Django's 403 page with the refusal's own remedy: a `Refusal` names its `hint` (a role on
    the subaccount, staff status, the right to add subaccounts); any other refusal names none."""
    context = {"exception": str(exception), "hint": getattr(exception, "hint", "")}
    return render(request, "403.html", context, status=403)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Django's 400 page, except for a body over DATA_UPLOAD_MAX_MEMORY_SIZE: that is 413."""
    if isinstance(exception, RequestDataTooBig):
        status, title, words = body_too_large()
        return HttpResponse(refusal_page(title, words), status=status)
    return defaults.bad_request(request, exception)
