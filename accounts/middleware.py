"""Session guard: a session ends when its user's two-factor devices change elsewhere (pages),
and its WebSockets connect as nobody (live updates)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from channels.db import database_sync_to_async
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse

from accounts import twofactor

SIGNED_OUT = "You were signed out because your two-factor settings changed. Sign in again."


class DeviceChangeSignOut:
    """After AuthenticationMiddleware, OTPMiddleware and MessageMiddleware. Django ends a
    user's other sessions when the password changes; this does the same when the devices
    change.

    Sync only, on purpose: the middleware above it then runs in one worker thread per request
    (in Django's async mode each one's request and response steps go to the thread apart)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated and not twofactor.session_device_stamp_current(request):
            logout(request)
            messages.info(request, SIGNED_OUT)

        # The user is resolved now (here, in the middleware's thread): an async view's
        # `request.auser()` answers it instead of reading it from the database again.
        async def auser() -> Any:
            return request.user

        request.auser = auser  # type: ignore[attr-defined]
        response = self.get_response(request)
        if (
            request.user.is_authenticated
            and twofactor.DEVICE_STAMP_SESSION_KEY not in request.session
        ):  # signed in by this request: note the devices it signed in with
            twofactor.session_device_stamp_keep(request)
        return response


class DeviceChangeSignOutWebSocket:
    """Inside Channels' AuthMiddlewareStack: a WebSocket from a session whose user's devices
    changed since it signed in connects as an anonymous visitor, which consumers refuse."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, scope: Any, receive: Any, send: Any) -> Any:
        if not await database_sync_to_async(_scope_session_current)(scope):
            scope = {**scope, "user": AnonymousUser()}
        return await self.inner(scope, receive, send)


def _scope_session_current(scope: Any) -> bool:
    user, session = scope.get("user"), scope.get("session")
    if user is None or session is None or not user.is_authenticated:
        return True
    return twofactor.session_devices_unchanged(session=session, user=user)
