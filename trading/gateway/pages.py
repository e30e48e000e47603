"""The script keys page: issue a key (its secret shown once), list and revoke keys."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from accounts.decorators import client_ip, signed_in
from accounts.permissions import subaccounts_visible_to
from trading.gateway.forms import ScriptKeyForm
from trading.gateway.keys import (
    ScriptKeyError,
    script_key_create,
    script_key_revoke,
    script_keys_visible_to,
)


def _render(request: HttpRequest, form: ScriptKeyForm, **extra: object) -> HttpResponse:
    keys = script_keys_visible_to(request.user)
    endpoint = request.build_absolute_uri("/bpx")
    context = {"form": form, "keys": keys, "endpoint": endpoint, **extra}
    return render(request, "trading/script_keys.html", context)


@never_cache  # a secret is shown once: no browser cache or Back button may show it again
@require_http_methods(["GET", "POST"])
@signed_in
def script_keys_page(request: HttpRequest) -> HttpResponse:
    """List the keys the user may see; on POST, issue a new one. No answer is stored by the
    browser: the one that shows a secret must not come back, and the others list keys whose
    state (revoked, last used) a stored copy would show stale."""
    visible = subaccounts_visible_to(request.user)
    if request.method == "GET":
        return _render(request, ScriptKeyForm(subaccounts=visible))
    form = ScriptKeyForm(request.POST, subaccounts=visible)
    if not form.is_valid():
        return _render(request, form)
    data = form.cleaned_data
    try:
        issued = script_key_create(
            actor=request.user,
            name=data["name"],
            subaccounts=data["subaccounts"],
            can_trade=data["permissions"] == "trade",
            days=data["days"],
            ip_allowlist=data["ip_allowlist"],
            public_key=data["public_key"],
            form_token=data["token"],
            ip=client_ip(request),
        )
    except ScriptKeyError as refused:
        form.add_error(refused.field if refused.field in form.fields else None, refused.message)
        return _render(request, form)
    if issued.repeated:  # the form was sent again (a reload, Back and resend): nothing issued
        return _render(request, ScriptKeyForm(subaccounts=visible), repeated=issued.key)
    # The secret is rendered into this one answer and nowhere else (not stored, not redirected).
    return _render(
        request, ScriptKeyForm(subaccounts=visible), issued=issued.key, secret=issued.secret
    )


@require_POST
@signed_in
def script_key_revoke_view(request: HttpRequest, key_id: int) -> HttpResponse:
    """Revoke one key (its owner, or an admin of one of its subaccounts). The button posts with
    htmx to ask first (hx-confirm); its answer is a client-side redirect back to the page."""
    try:
        key = script_key_revoke(actor=request.user, key_id=key_id, ip=client_ip(request))
    except ScriptKeyError as refused:
        raise Http404(refused.message) from None
    messages.success(request, f"Key {key.name} ({key.fingerprint}) revoked.")
    if request.htmx:
        return HttpResponseClientRedirect(reverse("gateway:script_keys"))
    return HttpResponseRedirect(reverse("gateway:script_keys"))
