"""Sign-in throttling, on django-axes: five failures for one user name from one address, or
twenty from one address across any user names, pause sign-in from there for fifteen minutes.

axes locks when the largest failure count among `AXES_LOCKOUT_PARAMETERS` reaches
`AXES_FAILURE_LIMIT`. With the parameters (user name and address) and (address), the largest is
always the address's count, so `failure_limit` answers the user-name limit once this name has
used it up from this address, and the address limit otherwise.

A correct password forgets that name's failures from that address only (`AXES_RESET_ON_SUCCESS`
would forget the whole address's, letting anyone with one account reset the address limit).
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from axes.attempts import get_cool_off_threshold
from axes.helpers import get_client_username, get_cool_off
from axes.models import AccessAttempt
from axes.utils import reset as axes_reset
from django.db.models import Max, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

USER_NAME_FAILURE_LIMIT = 5
ADDRESS_FAILURE_LIMIT = 20
COOL_OFF = timedelta(minutes=15)


def _recent_attempts(request: HttpRequest, credentials: dict | None, *, by_name: bool) -> Any:
    attempts = AccessAttempt.objects.filter(
        ip_address=getattr(request, "axes_ip_address", None),
        attempt_time__gte=get_cool_off_threshold(request),
    )
    if by_name:
        attempts = attempts.filter(username=get_client_username(request, credentials))
    return attempts


def _locked_by_name(request: HttpRequest, credentials: dict | None) -> bool:
    failures = _recent_attempts(request, credentials, by_name=True).aggregate(
        total=Sum("failures_since_start")
    )["total"]
    return (failures or 0) >= USER_NAME_FAILURE_LIMIT


def failure_limit(request: HttpRequest, credentials: dict | None) -> int:
    """AXES_FAILURE_LIMIT: see the module docstring."""
    if _locked_by_name(request, credentials):
        return USER_NAME_FAILURE_LIMIT
    return ADDRESS_FAILURE_LIMIT


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict | None
) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: a 429 page that says when sign-in opens again (and Retry-After)."""
    by_name = _locked_by_name(request, credentials)
    last = _recent_attempts(request, credentials, by_name=by_name).aggregate(
        last=Max("attempt_time")
    )["last"]
    now = timezone.now()
    retry_at: datetime = (last or now) + (get_cool_off(request) or COOL_OFF)
    seconds = max(0, math.ceil((retry_at - now).total_seconds()))
    context = {
        "username": get_client_username(request, credentials) if by_name else "",
        "retry_at": retry_at,
        "minutes": max(1, math.ceil(seconds / 60)),
    }
    response = render(request, "registration/locked.html", context, status=429)
    response["Retry-After"] = str(seconds)
    return response


def sign_in_failures_forget(*, request: HttpRequest, username: str) -> None:
    """After a correct password: forget this name's failures from this address."""
    address = getattr(request, "axes_ip_address", None)
    if address and username:
        axes_reset(ip=address, username=username)
