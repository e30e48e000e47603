"""The withdrawals page of a subaccount: request, approve, reject, send again, history.

Admins only, in a session verified with two-factor. Every action posts a form, calls one
service, and redirects back to the page with a message (or re-renders the form with the error
beside the field it belongs to).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from asgiref.sync import sync_to_async
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from accounts.decorators import client_ip, signed_in, subaccount_role
from accounts.models import Role, Subaccount
from accounts.team import team_time_zone
from trading.backpack.errors import BackpackError
from trading.exchange import client_for
from trading.failures import failure_text
from trading.formatting import fixed, full
from trading.withdrawals import selectors
from trading.withdrawals.forms import WithdrawalRequestForm
from trading.withdrawals.services import (
    WithdrawalError,
    withdrawal_approve,
    withdrawal_reject,
    withdrawal_request,
    withdrawal_send,
)


def _page_url(subaccount: Subaccount) -> str:
    return reverse("trading:withdrawals", args=[subaccount.pk])


async def _exchange_figures(subaccount: Subaccount, assets: list[str]) -> dict[str, Any]:
    """Max withdrawable per asset and the exchange's history; errors in words, never raised."""
    client = client_for(subaccount)
    available: dict[str, Decimal] = {}
    problems: list[str] = []
    for asset in assets:
        try:
            available[asset] = (await client.max_withdrawal_quantity(asset)).max_quantity
        except BackpackError as error:
            problems.append(f"Max withdrawable {asset}: {failure_text(error, sentences=True)}")
    try:
        history = await selectors.withdrawal_history(client=client)
    except BackpackError as error:
        history = []
        problems.append(f"Withdrawal history: {failure_text(error, sentences=True)}")
    return {"available": available, "history": history, "exchange_problems": problems}


def _context(request: HttpRequest, subaccount: Subaccount) -> dict[str, Any]:
    limits = selectors.limits_today(subaccount=subaccount)
    policy = selectors.withdrawal_policy_of(subaccount=subaccount)
    return {
        "second_admin_required": policy.second_admin_required,
        "subaccount": subaccount,
        "addresses": selectors.usable_addresses(subaccount=subaccount),
        "limits": limits,
        "requests": list(selectors.withdrawal_requests(subaccount=subaccount)),
        "user_id": request.user.pk,
        "day_zone": team_time_zone(),
    }


async def _render_page(
    request: HttpRequest,
    subaccount: Subaccount,
    *,
    form: dict | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    context = await sync_to_async(_context)(request, subaccount)
    figures = await _exchange_figures(subaccount, [row.asset for row in context["limits"]])
    places = await selectors.display_places(
        assets={row.asset for row in context["limits"]}
        | {item.asset for item in context["requests"]}
        | {item.symbol for item in figures["history"]}
    )
    context["exchange_problems"] = figures["exchange_problems"]
    context["limit_rows"] = [
        _limit_row(row, figures["available"], places[row.asset]) for row in context["limits"]
    ]
    context["request_rows"] = [
        {"item": item, "quantity": full(item.quantity, places[item.asset])}
        for item in context["requests"]
    ]
    context["history_rows"] = [
        {
            "item": item,
            "quantity": full(item.quantity, places[item.symbol]),
            "fee": fixed(item.fee, places[item.symbol], grouped=True),
        }
        for item in figures["history"]
    ]
    context["form"] = form or {}
    context["errors"] = errors or {}
    return await sync_to_async(render)(
        request, "trading/withdrawals/withdrawals.html", context, status=status
    )


def _limit_row(
    row: selectors.LimitRow, exchange_max: dict[str, Decimal], places: int
) -> dict[str, Any]:
    """One asset's limit and maximums at the asset's display places; a maximum (the limit,
    what it leaves, what can be withdrawn) rounded down, so it is never more than there is."""
    most = selectors.max_withdrawable(row=row, exchange_max=exchange_max.get(row.asset))

    def at_most(value: Decimal | None) -> str:
        return fixed(value, places, grouped=True, down=True, empty="unknown")

    return {
        "asset": row.asset,
        "limit": at_most(row.daily_limit),
        "used": fixed(row.used, places, grouped=True),
        "left": at_most(row.left),
        "available": at_most(most.now),
        "exchange_max": at_most(most.exchange_max),
        "bound_by": most.bound_by,
    }


@require_GET
@signed_in
def withdrawals_index(request: HttpRequest) -> HttpResponse:
    """Where the navigation's "Withdrawals" leads: the subaccounts the user administers, each
    with its withdrawals page and withdrawal settings."""
    subaccounts = selectors.subaccounts_for_withdrawals(user=request.user)
    return render(request, "trading/withdrawals/index.html", {"subaccounts": subaccounts})


@require_GET
@subaccount_role(Role.ADMIN, what="The withdrawals page")
async def withdrawals_page(
    request: HttpRequest, subaccount: Subaccount, role: Role
) -> HttpResponse:
    """The page: request form with the max withdrawable, limits, requests, history."""
    return await _render_page(request, subaccount)


@require_POST
@subaccount_role(Role.ADMIN, what="The withdrawals page")
async def withdrawal_request_view(
    request: HttpRequest, subaccount: Subaccount, role: Role
) -> HttpResponse:
    """Submit a request confirmed with a two-factor code."""
    form = {key: request.POST.get(key, "") for key in ("asset", "quantity", "address_id")}
    parsed = WithdrawalRequestForm(request.POST)
    if not parsed.is_valid():
        return await _render_page(request, subaccount, form=form, errors=parsed.problems())
    try:
        record = await withdrawal_request(
            actor=request.user,
            subaccount=subaccount,
            asset=parsed.cleaned_data["asset"],
            quantity=parsed.cleaned_data["quantity"],
            address_id=parsed.cleaned_data["address_id"],
            otp_code=parsed.cleaned_data["otp_code"],
            ip=client_ip(request),
        )
    except WithdrawalError as error:
        errors = {error.field or "form": error.message}
        return await _render_page(request, subaccount, form=form, errors=errors)
    await _say(request, record)
    return HttpResponseRedirect(_page_url(subaccount))


async def _say(request: HttpRequest, record: Any) -> None:
    places = await selectors.display_places(assets=[record.asset])
    await sync_to_async(_say_sync)(request, record, places[record.asset])


def _say_sync(request: HttpRequest, record: Any, places: int) -> None:
    amount = f"{full(record.quantity, places)} {record.asset} to "
    amount += record.address_label or record.address
    status = record.Status
    if record.status == status.PENDING:
        messages.info(request, f"Requested {amount}; it waits for a second admin's approval.")
    elif record.status == status.SENT:
        messages.success(request, f"Sent {amount}; the exchange's id is {record.exchange_id}.")
    elif record.status == status.REJECTED:
        messages.info(request, f"Rejected the withdrawal of {amount}.")
    elif record.status == status.CANCELLED:
        why = f": {record.reject_reason}" if record.reject_reason else "."
        messages.info(request, f"Cancelled the withdrawal of {amount}{why}")
    else:
        messages.error(request, f"{amount}: {record.error}")


@require_POST
@subaccount_role(Role.ADMIN, what="The withdrawals page")
async def withdrawal_decide(
    request: HttpRequest, subaccount: Subaccount, role: Role, withdrawal_id: int, decision: str
) -> HttpResponse:
    """Approve (with a code), reject, or send again one request."""
    common = {
        "actor": request.user,
        "subaccount": subaccount,
        "withdrawal_id": withdrawal_id,
        "ip": client_ip(request),
    }
    try:
        if decision == "approve":
            record = await withdrawal_approve(**common, otp_code=request.POST.get("otp_code", ""))
        elif decision == "reject":
            record = await sync_to_async(withdrawal_reject)(
                **common, reason=request.POST.get("reason", "")
            )
        elif decision == "send":
            record = await withdrawal_send(**common)
        else:
            raise Http404("No such action.")
    except WithdrawalError as error:
        await sync_to_async(messages.error)(request, failure_text(error))
    else:
        await _say(request, record)
    return HttpResponseRedirect(_page_url(subaccount))
