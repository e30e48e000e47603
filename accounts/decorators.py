"""View guards: sign-in, the role on the subaccount in the URL, and two-factor for admins."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django_htmx.http import HttpResponseClientRedirect

from accounts.models import ROLE_RANK, Role
from accounts.permissions import role_of, subaccounts_visible_to
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


def signed_in(view: View) -> View:
    """Like login_required, but answers an htmx request with a client-side redirect."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            if getattr(request, "htmx", False):
                return HttpResponseClientRedirect(reverse("accounts:login"))
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    return wrapper


def two_factor_required(view: View) -> View:
    """Signed in and verified with a second factor (for admin-only pages)."""

    @signed_in
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return two_factor_redirect(request) or view(request, *args, **kwargs)

    return wrapper


def subaccount_role(min_role: Role) -> Callable[[View], View]:
    """Guard a view taking `subaccount_id`: 404 to non-members, 403 below `min_role`.

    The view is called as `view(request, subaccount, role, **other_kwargs)`. Admin pages
    also need two-factor (see `two_factor_redirect`).
    """

    def decorate(view: View) -> View:
        @signed_in
        @wraps(view)
        def wrapper(request: HttpRequest, subaccount_id: int, **kwargs: Any) -> HttpResponse:
            subaccount = subaccounts_visible_to(request.user).filter(pk=subaccount_id).first()
            if subaccount is None:
                raise Http404("No such subaccount.")
            role = role_of(request.user, subaccount)
            if role is None or ROLE_RANK[role] < ROLE_RANK[min_role]:
                raise PermissionDenied(f"This page needs the {min_role.label.lower()} role.")
            if min_role == Role.ADMIN:
                redirect = two_factor_redirect(request)
                if redirect is not None:
                    return redirect
            return view(request, subaccount, role, **kwargs)

        return wrapper

    return decorate


def client_ip(request: HttpRequest) -> str | None:
    """The address recorded in the audit trail."""
    return request.META.get("REMOTE_ADDR") or None
