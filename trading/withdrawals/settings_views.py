"""Withdrawal settings pages: the address book and the policy (admins; every change asks for
a fresh code). Their URLs keep the names and paths they had under /accounts/ (see `urls`)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from accounts.decorators import client_ip, subaccount_role
from accounts.errors import ServiceError
from accounts.fields import format_asset_amounts
from accounts.forms import OtpCodeForm
from accounts.models import Role, Subaccount
from trading.withdrawals import settings_services as services
from trading.withdrawals.forms import AddressForm, PolicyForm
from trading.withdrawals.selectors import withdrawal_policy_of


def _removed(cancelled: list) -> str:
    if not cancelled:
        return "Address removed from the book."
    count = len(cancelled)
    return (
        f"Address removed from the book; {count} withdrawal{pluralize(count)} waiting for it "
        f"{'was' if count == 1 else 'were'} cancelled."
    )


# What each action on an address calls, and what it says once done (given what it returned).
ADDRESS_ACTIONS = {
    "confirm": (
        services.withdrawal_address_confirm,
        lambda _: "Address marked as 2FA-exempt on the exchange.",
    ),
    "approve": (services.withdrawal_address_approve, lambda _: "Address approved."),
    "remove": (services.withdrawal_address_remove, _removed),
}


def _page(request, subaccount, *, address_form=None, policy_form=None, action_form=None):
    policy = withdrawal_policy_of(subaccount=subaccount)
    limits = {limit.asset: limit.daily_limit for limit in subaccount.withdrawal_limits.all()}
    context = {
        "subaccount": subaccount,
        "policy": policy,
        "limits": limits,
        "addresses": subaccount.withdrawal_addresses.select_related("added_by", "approved_by"),
        "address_form": address_form or AddressForm(),
        "policy_form": policy_form
        or PolicyForm(
            initial={
                "second_admin_required": policy.second_admin_required,
                "daily_limits": format_asset_amounts(limits),
            }
        ),
        "action_form": action_form or OtpCodeForm(),
    }
    return render(request, "trading/withdrawals/settings.html", context)


@subaccount_role(Role.ADMIN)
@require_http_methods(["GET", "POST"])
def withdrawals(request: HttpRequest, subaccount: Subaccount, role: Role) -> HttpResponse:
    """The address book and policy; POST adds an address."""
    if request.method != "POST":
        return _page(request, subaccount)
    form = AddressForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.withdrawal_address_add(
                actor=request.user,
                subaccount=subaccount,
                blockchain=data["blockchain"],
                address=data["address"],
                label=data["label"],
                otp_code=data["otp_code"],
                ip=client_ip(request),
            )
        except ServiceError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(
                request, "Address added. Confirm it once it is 2FA-exempt on the exchange."
            )
            return redirect("accounts:withdrawals", subaccount_id=subaccount.pk)
    return _page(request, subaccount, address_form=form)


@subaccount_role(Role.ADMIN)
@require_POST
def withdrawal_policy(request: HttpRequest, subaccount: Subaccount, role: Role) -> HttpResponse:
    form = PolicyForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.withdrawal_policy_set(
                actor=request.user,
                subaccount=subaccount,
                second_admin_required=data["second_admin_required"],
                daily_limits=data["daily_limits"],
                otp_code=data["otp_code"],
                ip=client_ip(request),
            )
        except ServiceError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, "Withdrawal policy saved.")
            return redirect("accounts:withdrawals", subaccount_id=subaccount.pk)
    return _page(request, subaccount, policy_form=form)


@subaccount_role(Role.ADMIN)
@require_POST
def withdrawal_address_action(
    request: HttpRequest, subaccount: Subaccount, role: Role, address_id: int, action: str
) -> HttpResponse:
    """Confirm, approve or remove one address of the book."""
    if action not in ADDRESS_ACTIONS:
        raise Http404("Unknown action.")
    service, done = ADDRESS_ACTIONS[action]
    form = OtpCodeForm(request.POST)
    if form.is_valid():
        try:
            result = service(
                actor=request.user,
                subaccount=subaccount,
                address_id=address_id,
                otp_code=form.cleaned_data["otp_code"],
                ip=client_ip(request),
            )
        except ServiceError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, done(result))
    else:
        messages.error(request, "Type your two-factor code to change the address book.")
    url = reverse("accounts:withdrawals", args=[subaccount.pk])
    # Remove posts with htmx, which asks for confirmation first: the page is loaded again.
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
