"""View guards: sign-in, the role on the subaccount in the URL, and two-factor for admins.

Each guard serves sync and async views alike (an async view is guarded without blocking the
event loop: the user is read with ``request.auser()``, the role check runs in a thread).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from asgiref.sync import sync_to_async
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django_htmx.http import HttpResponseClientRedirect

from accounts.errors import RoleRefusal
from accounts.models import Role
from accounts.permissions import role_allows, role_of, subaccounts_visible_to
from accounts.twofactor import has_confirmed_totp, session_is_verified

View = Callable[..., HttpResponse]


def _redirect(request: HttpRequest, url: str) -> HttpResponse:
    if getattr(request, "htmx", False):
        return HttpResponseClientRedirect(url)
    return HttpResponseRedirect(url)


def two_factor_redirect(request: HttpRequest) -> HttpResponse | None:
    """Where an admin page sends a user whose session lacks two-factor, else None.

    No confirmed TOTP device: to enrolment. A device but an unverified session: to the
    code step. Either way the user comes back to the page afterwards.
    """
    if session_is_verified(request):
        return None
    query = urlencode({"next": request.get_full_path()})
    if not has_confirmed_totp(request.user):
        return _redirect(request, f"{reverse('accounts:totp_enrol')}?{query}")
    return _redirect(request, f"{reverse('accounts:login_verify')}?{query}")


def _to_sign_in(request: HttpRequest) -> HttpResponse:
    if getattr(request, "htmx", False):
        return HttpResponseClientRedirect(reverse("accounts:login"))
    return redirect_to_login(request.get_full_path())


def signed_in(view: View) -> View:
    """Like login_required, but answers an htmx request with a client-side redirect; for sync
    and async views."""
    if inspect.iscoroutinefunction(view):

        @wraps(view)
        async def async_wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            # resolved once here, so templates never read the database lazily from the loop
            request.user = await request.auser()
            if not (request.user.is_authenticated and request.user.is_active):
                return _to_sign_in(request)
            return await view(request, *args, **kwargs)

        return async_wrapper

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not (request.user.is_authenticated and request.user.is_active):
            return _to_sign_in(request)
        return view(request, *args, **kwargs)

    return wrapper


def two_factor_required(view: View) -> View:
    """Signed in and verified with a second factor (for admin-only pages)."""

    @signed_in
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return two_factor_redirect(request) or view(request, *args, **kwargs)

    return wrapper


def subaccount_role(min_role: Role, *, what: str = "This page") -> Callable[[View], View]:
    """Guard a view taking `subaccount_id`: 404 to non-members, 403 below `min_role`
    ("<what> needs the <role> role."), and two-factor for admin pages; sync or async.

    The view is called as `view(request, subaccount, role, **other_kwargs)`.
    """

    def check(request: HttpRequest, subaccount_id: int) -> tuple[Any, Role] | HttpResponse:
        subaccount = subaccounts_visible_to(request.user).filter(pk=subaccount_id).first()
        if subaccount is None:
            raise Http404("No such subaccount.")
        role = role_of(request.user, subaccount)
        if not role_allows(role, min_role):
            raise RoleRefusal(f"{what} needs the {min_role.label.lower()} role.")
        if min_role == Role.ADMIN:
            redirect = two_factor_redirect(request)
            if redirect is not None:
                return redirect
        return subaccount, role  # type: ignore[return-value]

    def decorate(view: View) -> View:
        if inspect.iscoroutinefunction(view):

            @signed_in
            @wraps(view)
            async def async_wrapper(
                request: HttpRequest, subaccount_id: int, **kwargs: Any
            ) -> HttpResponse:
                allowed = await sync_to_async(check)(request, subaccount_id)
                if isinstance(allowed, HttpResponse):
                    return allowed
                return await view(request, *allowed, **kwargs)

            return async_wrapper

        @signed_in
        @wraps(view)
        def wrapper(request: HttpRequest, subaccount_id: int, **kwargs: Any) -> HttpResponse:
            allowed = check(request, subaccount_id)
            if isinstance(allowed, HttpResponse):
                return allowed
            return view(request, *allowed, **kwargs)

        return wrapper

    return decorate


def client_ip(request: HttpRequest) -> str | None:
    """The address recorded in the audit trail."""
    return request.META.get("REMOTE_ADDR") or None
