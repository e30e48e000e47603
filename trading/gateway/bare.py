"""``/bpx/`` HTTP without the browsers' middleware.

Scripts carry no session, no CSRF token and no login: every request is authenticated by its
signature in the view. The browsers' middleware stack (sessions, authentication, OTP,
messages, axes, htmx, CSRF, clickjacking) does nothing for them and cost as much CPU as the
whole proxying (bench_gateway's floor), so ``/bpx/`` requests go to a Django handler with no
middleware: the same URLs, views, signals and error handling, nothing else.
"""

from __future__ import annotations

from typing import Any

from django.core.handlers.asgi import ASGIHandler
from django.core.handlers.exception import convert_exception_to_response

PREFIX = "/bpx/"


class BareHandler(ASGIHandler):
    """Django's ASGI handler with an empty middleware stack."""

    def load_middleware(self, is_async: bool = False) -> None:
        self._view_middleware = []
        self._template_response_middleware = []
        self._exception_middleware = []
        get_response = self._get_response_async if is_async else self._get_response
        self._middleware_chain = convert_exception_to_response(get_response)


class ScriptHttpRouter:
    """Send ``/bpx/...`` HTTP to the bare handler, everything else to `browsers`."""

    def __init__(self, browsers: Any) -> None:
        self.browsers = browsers
        self.scripts = BareHandler()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        if scope["type"] == "http" and scope.get("path", "").startswith(PREFIX):
            return await self.scripts(scope, receive, send)
        return await self.browsers(scope, receive, send)
