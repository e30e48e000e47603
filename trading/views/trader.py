"""The shape the trader-only pages of one subaccount and market share (ladder, TWAP): the
trader check before the view runs, and a service's outcome as the message the page shows.

    @trader_view("Ladders need the trader role on {name}.")
    async def ladder_send(request, access, symbol): ...

A refusal (the role, here or in the service) is answered by `refused`; a service call becomes
an `Outcome` through `outcome_of`: the risk gate's refusal and exchange failures in a
trader's words, never an exception.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import wraps
from typing import Generic, TypeVar

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from trading.risk.services import RiskRefused
from trading.selectors import EXCHANGE_ERRORS, SubaccountAccess, exchange_error_text
from trading.views.common import access_for, message_html, refused
from trading.views.market import _symbol

T = TypeVar("T")
TraderView = Callable[[HttpRequest, SubaccountAccess, str], Awaitable[HttpResponse]]


def trader_view(
    refusal: str,
) -> Callable[[TraderView], Callable[..., Awaitable[HttpResponse]]]:
    """Run the view with the user's access to the subaccount (trader role, else `refusal`
    with the subaccount's ``{name}``) and the market's symbol; a `PermissionDenied` raised
    on the way, by the view or by its service, is answered as a refusal."""

    def decorate(view: TraderView) -> Callable[..., Awaitable[HttpResponse]]:
        @wraps(view)
        async def wrapper(request: HttpRequest, subaccount_id: int, symbol: str) -> HttpResponse:
            symbol = _symbol(symbol)
            try:
                access = await access_for(request, subaccount_id)
                if not access.can_trade:
                    raise PermissionDenied(refusal.format(name=access.subaccount.name))
                return await view(request, access, symbol)
            except PermissionDenied as denied:
                return refused(request, str(denied))

        return wrapper

    return decorate


TraderPage = Callable[[HttpRequest, SubaccountAccess, str, str | None], Awaitable[HttpResponse]]


def trader_page(
    refusal: str,
) -> Callable[[TraderPage], Callable[..., Awaitable[HttpResponse]]]:
    """A trader-only page, shown to every member of the subaccount: the view gets `refusal`
    (with the subaccount's ``{name}``) to show in place of its trading controls when the user
    may not trade, None when they may. Those controls carry ``data-trading-controls`` in both
    cases, so a live role change (trading.live_regions) finds them and swaps in what the
    page's own URL answers for the role now. A member who may not trade gets the page with
    403, unless htmx asks (that refresh: htmx does not swap a 4xx)."""

    def decorate(view: TraderPage) -> Callable[..., Awaitable[HttpResponse]]:
        @wraps(view)
        async def wrapper(request: HttpRequest, subaccount_id: int, symbol: str) -> HttpResponse:
            symbol = _symbol(symbol)
            access = await access_for(request, subaccount_id)
            if access.can_trade:
                return await view(request, access, symbol, None)
            text = refusal.format(name=access.subaccount.name)
            response = await view(request, access, symbol, text)
            if not getattr(request, "htmx", False):
                response.status_code = 403
            return response

        return wrapper

    return decorate


@dataclass(frozen=True)
class Outcome(Generic[T]):
    """What a service call did, as the page's message: its text, its level, its result."""

    text: str
    level: str
    result: T | None = None

    @property
    def ok(self) -> bool:
        return self.level == "ok"

    def html(self) -> str:
        return message_html(self.text, level=self.level)


async def outcome_of(
    call: Awaitable[T], *, failed: str, said: Callable[[T], tuple[str, str]]
) -> Outcome[T]:
    """Await the service `call`: `said(result)` gives the text and level when it returned;
    a risk refusal is its message, an exchange failure "`failed`: what went wrong".
    `PermissionDenied` goes on to `trader_view`."""
    try:
        result = await call
    except RiskRefused as refusal:
        return Outcome(refusal.message, "error")
    except EXCHANGE_ERRORS as error:
        return Outcome(f"{failed}: {exchange_error_text(error)}", "error")
    text, level = said(result)
    return Outcome(text, level, result)
