"""What every trading view shares: sign-in for async views, rendering, the message region."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import sync_to_async
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string

from accounts.decorators import client_ip
from trading.selectors import SubaccountAccess, subaccount_access_async

AsyncView = Callable[..., Awaitable[HttpResponse]]

__all__ = ["client_ip", "message_html", "refused", "render_async"]


async def render_async(
    request: HttpRequest, template: str, context: dict[str, Any], *, status: int = 200
) -> HttpResponse:
    """`render` in a worker thread (context processors may read the session or messages)."""
    return await sync_to_async(render)(request, template, context, status=status)


def message_html(text: str, *, level: str = "info") -> str:
    """The page's one message region ``trading-message``, swapped out of band."""
    return render_to_string("trading/partials/message.html", {"text": text, "level": level})


def refused(request: HttpRequest, text: str, *, status: int = 403) -> HttpResponse:
    """A refusal: for htmx a swapped message (htmx does not swap a 4xx), else the status."""
    if getattr(request, "htmx", False):
        return HttpResponse(message_html(text, level="error"))
    return HttpResponse(message_html(text, level="error"), status=status)


async def access_for(request: HttpRequest, subaccount_id: int) -> SubaccountAccess:
    """The user's access to the subaccount in the URL; 404 when they may not see it."""
    for access in await subaccount_access_async(user=request.user):
        if access.subaccount.pk == subaccount_id:
            return access
    raise Http404("No such subaccount.")
