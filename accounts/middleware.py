"""Session guard: a session ends when its user's two-factor devices change elsewhere."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse

from accounts import twofactor

SIGNED_OUT = "You were signed out because your two-factor settings changed. Sign in again."


class DeviceChangeSignOut:
    """After AuthenticationMiddleware and MessageMiddleware. Django ends a user's other
    sessions when the password changes; this does the same when the devices change."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated and not twofactor.session_device_stamp_current(request):
            logout(request)
            messages.info(request, SIGNED_OUT)
        response = self.get_response(request)
        if (
            request.user.is_authenticated
            and twofactor.DEVICE_STAMP_SESSION_KEY not in request.session
        ):  # signed in by this request: note the devices it signed in with
            twofactor.session_device_stamp_keep(request)
        return response
