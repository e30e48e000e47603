"""Sign-in with a second step for users with two-factor, TOTP enrolment, backup codes."""

from __future__ import annotations

import time
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import BACKEND_SESSION_KEY, get_user_model
from django.contrib.auth import login as auth_login
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login

from accounts import throttling, twofactor
from accounts.audit import audit_record
from accounts.decorators import client_ip, signed_in
from accounts.forms import TokenForm

PENDING_USER = "accounts_pending_user"
PENDING_BACKEND = "accounts_pending_backend"
PENDING_SINCE = "accounts_pending_since"
PENDING_SECONDS = 300  # the password step is good for five minutes


def _next_url(request: HttpRequest, fallback: str = "home") -> str:
    url = request.POST.get("next") or request.GET.get("next") or ""
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return reverse(fallback)


class PasswordThenCodeLoginView(LoginView):
    """Step one: the password. Users with a two-factor device go on to the code step
    without being signed in yet."""

    template_name = "registration/login.html"

    def form_valid(self, form) -> HttpResponse:
        user = form.get_user()
        throttling.sign_in_failures_forget(
            request=self.request, username=form.cleaned_data.get("username", "")
        )
        if not twofactor.has_any_device(user):
            return super().form_valid(form)
        self.request.session[PENDING_USER] = user.pk
        self.request.session[PENDING_BACKEND] = user.backend
        self.request.session[PENDING_SINCE] = time.time()
        next_url = self.request.POST.get("next")
        query = f"?{urlencode({'next': next_url})}" if next_url else ""
        return HttpResponseRedirect(reverse("accounts:login_verify") + query)


@require_http_methods(["GET", "POST"])
def login_verify(request: HttpRequest) -> HttpResponse:
    """Step two: a TOTP or backup code, for a pending sign-in or a signed-in session that
    has not passed two-factor yet."""
    user = None
    pending_id = request.session.get(PENDING_USER)
    if pending_id is not None and time.time() - request.session.get(PENDING_SINCE, 0) > (
        PENDING_SECONDS
    ):
        for key in (PENDING_USER, PENDING_BACKEND, PENDING_SINCE):
            request.session.pop(key, None)
        messages.error(request, "The sign-in took too long. Enter your password again.")
        return redirect("accounts:login")
    if pending_id is not None:
        user = get_user_model().objects.filter(pk=pending_id, is_active=True).first()
    elif request.user.is_authenticated:
        user = request.user
    if user is None:
        return redirect("accounts:login")
    if not twofactor.has_any_device(user):
        return redirect("accounts:totp_enrol")
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = twofactor.code_check(user, form.cleaned_data["code"])
            refused = "That code is not right (or was used already). Try again."
        except twofactor.CodeThrottled as throttled:
            device, refused = None, throttled.message
        if device is None:
            audit_record(actor=user, action="sign_in_code", result="failed", ip=client_ip(request))
            form.add_error("code", refused)
        else:
            if pending_id is not None:
                backend = request.session.pop(PENDING_BACKEND, None) or request.session.get(
                    BACKEND_SESSION_KEY
                )
                request.session.pop(PENDING_USER, None)
                request.session.pop(PENDING_SINCE, None)
                auth_login(request, user, backend=backend)
            otp_login(request, device)
            return HttpResponseRedirect(_next_url(request))
    return render(
        request, "registration/login_verify.html", {"form": form, "next": _next_url(request)}
    )


@signed_in
@require_http_methods(["GET", "POST"])
def totp_enrol(request: HttpRequest) -> HttpResponse:
    """Show a QR code for a new TOTP device; confirm it with a first code."""
    user = request.user
    if twofactor.has_confirmed_totp(user) and not twofactor.session_is_verified(request):
        return redirect(f"{reverse('accounts:login_verify')}?next={reverse('accounts:security')}")
    device = twofactor.totp_device_pending(user)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device, codes = twofactor.totp_enrol_confirm(
                actor=user, code=form.cleaned_data["code"], ip=client_ip(request)
            )
        except ValueError as exc:
            form.add_error("code", str(exc))
        else:
            twofactor.session_device_stamp_keep(request)
            otp_login(request, device)
            return render(
                request,
                "accounts/backup_codes.html",
                {"codes": codes, "next": _next_url(request, "accounts:security")},
            )
    context = {
        "form": form,
        "qr_svg": twofactor.qr_svg(device.config_url),
        "secret_base32": twofactor.totp_base32(device),
        "next": _next_url(request, "accounts:security"),
        "replacing": twofactor.has_confirmed_totp(user),
    }
    return render(request, "accounts/totp_enrol.html", context)


@signed_in
def security(request: HttpRequest) -> HttpResponse:
    """Two-factor status of the signed-in user."""
    context = {
        "has_totp": twofactor.has_confirmed_totp(request.user),
        "verified": twofactor.session_is_verified(request),
    }
    return render(request, "accounts/security.html", context)


@signed_in
@require_POST
def backup_codes_renew(request: HttpRequest) -> HttpResponse:
    """New backup codes, for a session that passed two-factor."""
    if not twofactor.session_is_verified(request):
        return redirect(f"{reverse('accounts:login_verify')}?next={reverse('accounts:security')}")
    codes = twofactor.backup_codes_renew(request.user)
    twofactor.session_device_stamp_keep(request)
    audit_record(actor=request.user, action="backup_codes_renew", ip=client_ip(request))
    return render(
        request,
        "accounts/backup_codes.html",
        {"codes": codes, "next": reverse("accounts:security")},
    )
