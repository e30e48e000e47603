"""Subaccount pages: list, detail, add, key rotation, settings, members.

Views parse input, call `accounts.services` / `accounts.selectors` and render; the guards in
`accounts.decorators` enforce sign-in, the role and two-factor for admin pages.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from accounts import crypto, selectors, services
from accounts.decorators import client_ip, signed_in, subaccount_role, two_factor_redirect
from accounts.errors import SUBACCOUNT_ADD_HINT, Refusal
from accounts.exchange_assets import exchange_asset_names
from accounts.forms import (
    KeyRotateForm,
    MemberForm,
    SubaccountAddForm,
    SubaccountSettingsForm,
    format_asset_amounts,
)
from accounts.models import Role, Subaccount
from accounts.permissions import can_create_subaccounts


def _key_context(subaccount: Subaccount, *, is_admin: bool = True) -> dict:
    return {
        "fingerprint": crypto.public_key_fingerprint(subaccount.api_public_key),
        "key_problem": crypto.key_problem(subaccount),
        "shared_key": selectors.shared_key_text(subaccount=subaccount) if is_admin else "",
    }


@signed_in
def subaccount_list(request: HttpRequest) -> HttpResponse:
    rows = selectors.subaccount_list(user=request.user)
    context = {"rows": rows, "can_add": can_create_subaccounts(request.user)}
    return render(request, "accounts/subaccount_list.html", context)


@subaccount_role(Role.VIEWER)
def subaccount_detail(request: HttpRequest, subaccount: Subaccount, role: Role) -> HttpResponse:
    context = {
        "subaccount": subaccount,
        "role": role,
        "is_admin": role == Role.ADMIN,
        "members": selectors.subaccount_members(subaccount=subaccount),
        "thresholds": subaccount.low_balance_thresholds.all(),
        "confirm_guard": selectors.confirm_guard_text(subaccount=subaccount),
        **_key_context(subaccount, is_admin=role == Role.ADMIN),
    }
    return render(request, "accounts/subaccount_detail.html", context)


@signed_in
@require_http_methods(["GET", "POST"])
def subaccount_add(request: HttpRequest) -> HttpResponse:
    if not can_create_subaccounts(request.user):
        raise Refusal("You may not add subaccounts.", hint=SUBACCOUNT_ADD_HINT)
    two_factor = two_factor_redirect(request)
    if two_factor is not None:
        return two_factor
    form = SubaccountAddForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            subaccount = services.subaccount_create(
                actor=request.user,
                name=data["name"],
                exchange_label=data["exchange_label"],
                api_public_key=data["api_public_key"],
                api_secret=data["api_secret"],
                otp_code=data["otp_code"],
                notes=data["notes"],
                ip=client_ip(request),
            )
        except services.ServiceError as exc:  # a key check, a name, the two-factor code
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, f"Subaccount {subaccount.name} added; its key works.")
            return redirect("accounts:subaccount_detail", subaccount_id=subaccount.pk)
    return render(request, "accounts/subaccount_add.html", {"form": form})


@subaccount_role(Role.ADMIN)
@require_http_methods(["GET", "POST"])
def subaccount_key(request: HttpRequest, subaccount: Subaccount, role: Role) -> HttpResponse:
    form = KeyRotateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.subaccount_key_rotate(
                actor=request.user,
                subaccount=subaccount,
                api_public_key=form.cleaned_data["api_public_key"],
                api_secret=form.cleaned_data["api_secret"],
                otp_code=form.cleaned_data["otp_code"],
                ip=client_ip(request),
            )
        except services.ServiceError as exc:  # a key check or the two-factor code
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, "The new key works and replaces the old one.")
            return redirect("accounts:subaccount_detail", subaccount_id=subaccount.pk)
    context = {"subaccount": subaccount, "form": form, **_key_context(subaccount)}
    return render(request, "accounts/subaccount_key.html", context)


@subaccount_role(Role.ADMIN)
@require_http_methods(["GET", "POST"])
def subaccount_settings(request: HttpRequest, subaccount: Subaccount, role: Role) -> HttpResponse:
    initial = {
        "exchange_label": subaccount.exchange_label,
        "notes": subaccount.notes,
        "is_active": subaccount.is_active,
        "order_confirm_notional": subaccount.order_confirm_notional,
        "order_confirm_equity_pct": subaccount.order_confirm_equity_pct.normalize(),
        "order_confirm_price_pct": subaccount.order_confirm_price_pct.normalize(),
        "low_balance": format_asset_amounts(
            {t.asset: t.minimum for t in subaccount.low_balance_thresholds.all()}
        ),
    }
    known, unchecked = (None, "") if request.method != "POST" else exchange_asset_names()
    form = SubaccountSettingsForm(request.POST or None, initial=initial, known_assets=known)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.subaccount_settings_set(
                actor=request.user,
                subaccount=subaccount,
                exchange_label=data["exchange_label"],
                notes=data["notes"],
                is_active=data["is_active"],
                order_confirm_notional=data["order_confirm_notional"],
                order_confirm_equity_pct=data["order_confirm_equity_pct"],
                order_confirm_price_pct=data["order_confirm_price_pct"],
                ip=client_ip(request),
            )
            services.low_balance_thresholds_set(
                actor=request.user,
                subaccount=subaccount,
                minimums=data["low_balance"],
                ip=client_ip(request),
            )
        except services.ServiceError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, "Settings saved.")
            if unchecked and data["low_balance"]:
                messages.warning(
                    request,
                    f"The asset names were not checked against the exchange: {unchecked}",
                )
            return redirect("accounts:subaccount_detail", subaccount_id=subaccount.pk)
    return render(
        request, "accounts/subaccount_settings.html", {"subaccount": subaccount, "form": form}
    )


def _members_page(request, subaccount, form, status=200) -> HttpResponse:
    template = "accounts/members.html"
    if request.htmx:
        template += "#members"
    context = {
        "subaccount": subaccount,
        "members": selectors.subaccount_members(subaccount=subaccount),
        "form": form,
        "roles": Role.choices,
    }
    return render(request, template, context, status=status)


@subaccount_role(Role.ADMIN)
@require_http_methods(["GET", "POST"])
def members(request: HttpRequest, subaccount: Subaccount, role: Role) -> HttpResponse:
    """List members; POST adds one or changes a member's role."""
    form = MemberForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            membership = services.membership_set(
                actor=request.user,
                subaccount=subaccount,
                username=form.cleaned_data["username"],
                role=form.cleaned_data["role"],
                otp_code=form.cleaned_data["otp_code"],
                ip=client_ip(request),
            )
        except services.ServiceError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(
                request, f"{membership.user.get_username()} is now {membership.role} here."
            )
            form = MemberForm()
    return _members_page(request, subaccount, form)


@subaccount_role(Role.ADMIN)
@require_POST
def member_remove(
    request: HttpRequest, subaccount: Subaccount, role: Role, membership_id: int
) -> HttpResponse:
    try:
        services.membership_remove(
            actor=request.user,
            subaccount=subaccount,
            membership_id=membership_id,
            ip=client_ip(request),
        )
    except services.ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Member removed.")
    return _members_page(request, subaccount, MemberForm())


@require_POST
def theme_set(request: HttpRequest) -> HttpResponse:
    """Save the theme the user switched to (sent by the Theme button in the top bar)."""
    if not request.user.is_authenticated:
        return HttpResponse(status=401)
    try:
        services.user_theme_set(user=request.user, theme=request.POST.get("theme", ""))
    except services.ServiceError as exc:
        return HttpResponse(exc.message, status=400)
    return HttpResponse(status=204)
