"""Team balances page: the frame at once, then one async request per subaccount block and one
for the team totals (they share each exchange read through the selectors' 2 s cache)."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseRedirect,
)
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from accounts.decorators import client_ip, signed_in, subaccount_role
from accounts.exchange_assets import exchange_asset_names
from accounts.models import LowBalanceThreshold, Role, Subaccount
from accounts.permissions import subaccounts_visible_to
from accounts.selectors import subaccount_list
from accounts.services import ServiceError, low_balance_thresholds_set
from trading.balances.forms import ThresholdsForm
from trading.balances.selectors import balances_for_team, balances_view_for
from trading.live_regions import balances_html


@dataclass(frozen=True)
class SlotRow:
    """One subaccount slot of the page frame."""

    subaccount: Subaccount
    is_admin: bool


@require_GET
@signed_in
def balances_page(request: HttpRequest) -> HttpResponse:
    """The frame: a loading block per visible active subaccount and one for the totals; the
    inactive ones are named, so nobody wonders where their money went from the totals."""
    visible = subaccount_list(user=request.user)
    rows = [SlotRow(r.subaccount, r.role == Role.ADMIN) for r in visible if r.subaccount.is_active]
    rows.sort(key=lambda r: r.subaccount.name)
    inactive = sorted(
        (r.subaccount for r in visible if not r.subaccount.is_active), key=lambda s: s.name
    )
    return render(request, "trading/balances.html", {"rows": rows, "inactive": inactive})


@require_GET
@signed_in
async def balances_subaccount(request: HttpRequest, subaccount_id: int) -> HttpResponseBase:
    """One subaccount's balances block (404 for subaccounts the user may not see)."""
    query = subaccounts_visible_to(request.user).filter(pk=subaccount_id, is_active=True)
    subaccount = await query.afirst()
    if subaccount is None:
        raise Http404("No such subaccount.")
    view = await balances_view_for(subaccount)
    return HttpResponse(balances_html(subaccount, view, oob=False))


@require_GET
@signed_in
async def balances_totals(request: HttpRequest) -> HttpResponseBase:
    """The team totals block over every subaccount the user may see."""
    team = await balances_for_team(user=request.user, sparklines=False)
    # A fragment: no context processors (they may query the database, which an async view
    # must not do synchronously, and the block needs nothing from them).
    html = render_to_string("trading/partials/balances_totals.html", {"team": team})
    return HttpResponse(html)


@require_http_methods(["GET", "POST"])
@subaccount_role(Role.ADMIN)
def balances_thresholds(request: HttpRequest, subaccount: Subaccount, role: Role) -> HttpResponse:
    """Admins edit a subaccount's low-balance minimums (saved and audited by accounts)."""
    current = {
        t.asset: t.minimum for t in LowBalanceThreshold.objects.filter(subaccount=subaccount)
    }
    known, unchecked = (None, "") if request.method != "POST" else exchange_asset_names()
    form = ThresholdsForm(request.POST or None, current=current, known_assets=known)
    if request.method == "POST" and form.is_valid():
        try:
            low_balance_thresholds_set(
                actor=request.user,
                subaccount=subaccount,
                minimums=form.cleaned_minimums(),
                ip=client_ip(request),
            )
        except ServiceError as exc:
            form.add_error(None, exc.message)
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Low-balance thresholds of {subaccount.name} saved.")
            if unchecked:
                messages.warning(
                    request,
                    f"The asset names were not checked against the exchange: {unchecked}",
                )
            return HttpResponseRedirect(reverse("trading:balances"))
    return render(
        request, "trading/balances_thresholds.html", {"form": form, "subaccount": subaccount}
    )
