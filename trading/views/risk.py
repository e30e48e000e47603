"""The risk page of a subaccount (admins, two-factor session): every limit with its usage as
a bar, who is reduce-only and why, the breaches, and the form that sets limits with a code."""

from __future__ import annotations

import uuid
from typing import Any

from asgiref.sync import sync_to_async
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from accounts.decorators import client_ip, signed_in, subaccount_role, two_factor_redirect
from accounts.errors import Refusal, RoleRefusal, ServiceError
from accounts.models import Role, Subaccount
from accounts.permissions import subaccounts_visible_to
from trading.failures import EXCHANGE_ERRORS, failure_text
from trading.risk.exposure import risk_exposure_read
from trading.risk.forms import RiskLimitsForm, limits_initial
from trading.risk.kill import (
    kill_progress_for,
    kill_switch_engage,
    kill_switch_engage_all,
    kill_switch_release,
)
from trading.risk.limits import risk_limits_set
from trading.risk.loss import risk_loss_release
from trading.risk.selectors import (
    risk_limits_in_force,
    risk_market_names,
    risk_members_of,
    risk_page_context,
)

WHAT = "The risk page"
KILL_FORM_KEPT = "risk_kill_form"  # the session key of a refused kill switch form


async def _render(
    request: HttpRequest,
    subaccount: Subaccount,
    *,
    form: RiskLimitsForm | None = None,
    member: int | None = None,
    error: str = "",
    status: int = 200,
    template: str = "trading/risk.html",
) -> HttpResponse:
    read, problem = None, ""
    try:
        read = await risk_exposure_read(subaccount=subaccount)
    except EXCHANGE_ERRORS as failure:
        problem = f"Usage unknown: {failure_text(failure)}"
    context: dict[str, Any] = await sync_to_async(risk_page_context)(
        subaccount=subaccount, exposure=read.exposure if read else None, read=read
    )
    in_force_unknown = False
    if form is None:
        if member not in {user_id for user_id, _name in context["members"]}:
            member = None
        in_force = await sync_to_async(risk_limits_in_force)(
            subaccount=subaccount,
            member=await sync_to_async(_member)(subaccount, member) if member else None,
            equity=read.exposure.net_equity if read else None,
        )
        in_force_unknown = in_force is None
        form = RiskLimitsForm(members=context["members"], initial=limits_initial(in_force, member))
    context.update(
        subaccount=subaccount,
        form=form,
        error=error,
        in_force_unknown=in_force_unknown,
        exchange_problem=problem,
        kill_run=uuid.uuid4().hex,
        **await sync_to_async(_kill_form_kept)(request),
    )
    return await sync_to_async(render)(request, template, context, status=status)


def _kill_form_kept(request: HttpRequest) -> dict[str, Any]:
    """The kill switch form as the admin left it when it was refused (`_kill_form_keep`), once;
    otherwise the default choice and no reason."""
    kept = request.session.pop(KILL_FORM_KEPT, None) or {}
    return {"kill_what": kept.get("what", "close"), "kill_reason": kept.get("reason", "")}


@require_GET
@subaccount_role(Role.ADMIN, what=WHAT)
async def risk_page(request: HttpRequest, subaccount: Subaccount, role: Role) -> HttpResponse:
    """Limits and usage per subaccount and member, reduce-only members, breaches; the limits
    form holds the limits in force of the subaccount or of the member ``?member=<user id>``
    (for htmx, only the form: the member choice reloads it)."""
    member = request.GET.get("member", "")
    if request.htmx and "member" in request.GET:
        template = "trading/risk.html#limits-form"
    else:
        template = "trading/risk.html"
    return await _render(
        request, subaccount, member=int(member) if member.isdigit() else None, template=template
    )


@require_POST
@subaccount_role(Role.ADMIN, what=WHAT)
async def risk_limits_view(
    request: HttpRequest, subaccount: Subaccount, role: Role
) -> HttpResponse:
    """Set the limits of the subaccount or of one member (fresh two-factor code)."""
    members = await sync_to_async(risk_members_of)(subaccount=subaccount)
    known, unchecked = await risk_market_names()
    form = RiskLimitsForm(request.POST, members=members, known_markets=known)
    if not form.is_valid():
        return await _render(request, subaccount, form=form)
    member_id = form.cleaned_data.get("member")
    member = await sync_to_async(_member)(subaccount, member_id) if member_id else None
    try:
        await sync_to_async(risk_limits_set)(
            actor=request.user,
            subaccount=subaccount,
            member=member,
            values=form.values(),
            otp_code=form.cleaned_data["otp_code"],
            ip=client_ip(request),
        )
    except ServiceError as refused:
        if refused.field in form.fields:  # beside the field it is about
            form.add_error(refused.field, refused.message)
            return await _render(request, subaccount, form=form)
        return await _render(request, subaccount, form=form, error=refused.message)
    who = member.get_username() if member else "the whole subaccount"
    await sync_to_async(messages.success)(request, f"Limits of {who} saved.")
    if form.cleaned_data.get("allowed_markets") and unchecked:
        await sync_to_async(messages.warning)(
            request, f"The market names were not checked against the exchange: {unchecked}"
        )
    return HttpResponseRedirect(reverse("trading:risk", args=[subaccount.pk]))


def _member(subaccount: Subaccount, user_id: int) -> Any:
    membership = subaccount.memberships.select_related("user").filter(user_id=user_id).first()
    return membership.user if membership else None


@require_POST
@subaccount_role(Role.ADMIN, what=WHAT)
async def kill_switch_view(
    request: HttpRequest, subaccount: Subaccount, role: Role
) -> HttpResponse:
    """Pull the kill switch (reason and a fresh code), or lift it (`release` in the form)."""
    code = request.POST.get("otp_code", "")
    try:
        if request.POST.get("release"):
            await kill_switch_release(
                actor=request.user, subaccount=subaccount, otp_code=code, ip=client_ip(request)
            )
            text, level = "Kill switch lifted: the subaccount may trade again.", messages.SUCCESS
        else:
            report = await kill_switch_engage(
                actor=request.user,
                subaccount=subaccount,
                reason=request.POST.get("reason", ""),
                otp_code=code,
                ip=client_ip(request),
                run=_run(request),
                close_positions=_close_positions(request),
            )
            text = report.summary()
            level = messages.SUCCESS if report.clean else messages.ERROR
    except ServiceError as refused:
        text, level = refused.message, messages.ERROR
        await sync_to_async(_kill_form_keep)(request)
    await sync_to_async(messages.add_message)(request, level, text)
    return _back(request, reverse("trading:risk", args=[subaccount.pk]))


def _kill_form_keep(request: HttpRequest) -> None:
    """A refused pull goes back to the page with the admin's choice and reason as they were
    (never the code, used once): resubmitting after fixing one thing must not do another."""
    what = request.POST.get("what", "close")
    request.session[KILL_FORM_KEPT] = {
        "what": what if what in KILL_CHOICES else "",
        "reason": request.POST.get("reason", "")[:150],
    }


def _back(request: HttpRequest, url: str) -> HttpResponse:
    """To the page again: a redirect, or for htmx (the kill switch's buttons post with htmx so
    the page stays and shows the progress meanwhile) a client-side one."""
    if request.htmx:
        return HttpResponseClientRedirect(url)
    return HttpResponseRedirect(url)


@require_POST
@subaccount_role(Role.ADMIN, what=WHAT)
async def loss_release_view(
    request: HttpRequest, subaccount: Subaccount, role: Role
) -> HttpResponse:
    """Release today's daily loss stop of the subaccount or of one member (`member`, a user
    id; fresh two-factor code)."""
    member_id = request.POST.get("member", "")
    member = None
    if member_id:
        member = (
            await sync_to_async(_member)(subaccount, int(member_id))
            if member_id.isdigit()
            else None
        )
        if member is None:
            raise Refusal(
                "That user is not a member of this subaccount.",
                hint="Choose one of the members listed on the risk page.",
            )
    try:
        await risk_loss_release(
            actor=request.user,
            subaccount=subaccount,
            member=member,
            otp_code=request.POST.get("otp_code", ""),
            ip=client_ip(request),
        )
    except ServiceError as refused:
        text, level = refused.message, messages.ERROR
    else:
        who = member.get_username() if member else "The whole subaccount"
        text, level = (
            f"{who} may trade again: daily loss stop released for today.",
            messages.SUCCESS,
        )
    await sync_to_async(messages.add_message)(request, level, text)
    return HttpResponseRedirect(reverse("trading:risk", args=[subaccount.pk]))


@require_POST
@signed_in
async def kill_all_view(request: HttpRequest) -> HttpResponse:
    """One action stops everything: the kill switch on every subaccount the user admins."""
    admins_any = await sync_to_async(
        lambda: subaccounts_visible_to(request.user, min_role=Role.ADMIN).exists()
    )()
    if not admins_any:
        raise RoleRefusal("The kill switch needs the admin role on a subaccount.")
    redirect = await sync_to_async(two_factor_redirect)(request)
    if redirect is not None:
        return redirect
    try:
        results = await kill_switch_engage_all(
            actor=request.user,
            reason=request.POST.get("reason", ""),
            otp_code=request.POST.get("otp_code", ""),
            ip=client_ip(request),
            run=_run(request),
            close_positions=_close_positions(request),
        )
    except ServiceError as refused:
        await sync_to_async(_kill_form_keep)(request)
        await sync_to_async(messages.error)(request, refused.message)
    else:
        for subaccount, report in results:
            level = messages.SUCCESS if report.clean else messages.ERROR
            text = f"{subaccount.name}: {report.summary()}"
            await sync_to_async(messages.add_message)(request, level, text)
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = "/"
    return _back(request, back)


KILL_CHOICES = {"close": True, "cancel": False}


def _close_positions(request: HttpRequest) -> bool:
    """The kill form's choice: cancel and close positions (the default) or cancel only."""
    what = request.POST.get("what", "close")
    if what not in KILL_CHOICES:
        raise ServiceError("Choose what the kill switch does: cancel only, or cancel and close.")
    return KILL_CHOICES[what]


def _run(request: HttpRequest) -> str:
    run = request.POST.get("run", "")
    return run if len(run) == 32 and run.isalnum() else ""


@require_GET
@signed_in
async def kill_progress_view(request: HttpRequest, run: str) -> HttpResponse:
    """The progress partial of the user's own pull `run`: one line per subaccount; it asks
    for itself again until every subaccount is done (htmx polling)."""
    rows = await sync_to_async(kill_progress_for)(actor=request.user, run=run)
    done = bool(rows) and all(row.done for row in rows)
    context = {"kill_run": run, "progress": rows, "polling": not done}
    return await sync_to_async(render)(request, "trading/risk.html#kill-progress", context)
