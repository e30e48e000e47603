"""The audit log: filters, paging and a CSV export of the same (membership-filtered) rows."""

from __future__ import annotations

import csv
import json

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render

from accounts import selectors
from accounts.decorators import signed_in
from accounts.forms import AuditFilterForm
from accounts.models import AuditEvent
from accounts.permissions import Role, subaccounts_visible_to

CSV_COLUMNS = ["time", "actor", "action", "subaccount", "result", "parameters", "detail", "ip"]


def _filtered(request: HttpRequest) -> tuple[AuditFilterForm, object]:
    form = AuditFilterForm(
        request.GET or None,
        subaccounts=subaccounts_visible_to(request.user, min_role=Role.ADMIN),
        actions=selectors.audit_actions(),
    )
    filters = selectors.AuditFilter()
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        filters = selectors.AuditFilter(
            subaccount_id=data["subaccount"],
            actor=data["actor"],
            action=data["action"],
            date_from=data["date_from"],
            date_to=data["date_to"],
        )
    elif form.is_bound:
        return form, AuditEvent.objects.none()
    return form, selectors.audit_events(user=request.user, filters=filters)


@signed_in
def audit_log(request: HttpRequest) -> HttpResponse:
    form, events = _filtered(request)
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    rows = [{"event": e, "fields": selectors.audit_fields(e.parameters)} for e in page]
    context = {"form": form, "page": page, "rows": rows, "query": query.urlencode()}
    template = "accounts/audit_log.html#events" if request.htmx else "accounts/audit_log.html"
    return render(request, template, context)


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: str) -> str:
    """A cell a spreadsheet will not run as a formula (typed labels end up in the export)."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


class _Echo:
    def write(self, value: str) -> str:
        return value


@signed_in
def audit_export(request: HttpRequest) -> HttpResponse:
    """The filtered audit rows as CSV (only what the reader may see)."""
    form, events = _filtered(request)
    if form.is_bound and not form.is_valid():  # refused as the page refuses it, not empty
        return HttpResponse(
            " ".join(form.problems()), status=400, content_type="text/plain; charset=utf-8"
        )
    writer = csv.writer(_Echo())

    def rows():
        yield writer.writerow(CSV_COLUMNS)
        for event in events.iterator():
            cells = [
                event.created_at.isoformat(),
                event.actor_name,
                event.action,
                event.subaccount_name,
                event.result,
                json.dumps(event.parameters, sort_keys=True),
                event.detail,
                event.ip_address or "",
            ]
            yield writer.writerow([csv_safe(cell) for cell in cells])

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="audit.csv"'
    return response
