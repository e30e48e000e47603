"""Who may see and trade which subaccount (database reads, wrapped for async callers), and
the per-subaccount block the team pages fill with rows or the reason they are missing."""

from __future__ import annotations

from collections.abc import Awaitable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

from asgiref.sync import sync_to_async

from accounts.models import Role, Subaccount
from accounts.permissions import role_allows
from accounts.selectors import subaccount_list
from trading.backpack import Market, Order, Position
from trading.failures import EXCHANGE_ERRORS, failure_text

T = TypeVar("T")


@dataclass(frozen=True)
class SubaccountAccess:
    """A subaccount the user may see, with the user's role on it."""

    subaccount: Subaccount
    role: Role

    @property
    def can_trade(self) -> bool:
        return role_allows(self.role, Role.TRADER)


def subaccount_access(*, user: Any) -> list[SubaccountAccess]:
    """Every active subaccount the user may see, with their role (membership-filtered)."""
    return [
        SubaccountAccess(row.subaccount, row.role)
        for row in subaccount_list(user=user)
        if row.subaccount.is_active
    ]


subaccount_access_async = sync_to_async(subaccount_access)


@dataclass(frozen=True)
class AccessChange:
    """What a membership change changed for one user, from their roles before and after
    (`accounts.permissions.roles_of`): the subaccounts lost, gained, and kept with another
    role, and those whose trading (trader role or more) was taken or given."""

    lost: frozenset[int]
    gained: frozenset[int]
    role_changed: frozenset[int]
    trading_changed: frozenset[int]


def access_change(*, before: dict[int, Role], after: dict[int, Role]) -> AccessChange:
    """Compare the user's roles before and after a membership change (no database)."""

    def trades(roles: dict[int, Role]) -> set[int]:
        return {pk for pk, role in roles.items() if role_allows(role, Role.TRADER)}

    kept = set(before) & set(after)
    return AccessChange(
        lost=frozenset(set(before) - set(after)),
        gained=frozenset(set(after) - set(before)),
        role_changed=frozenset(pk for pk in kept if before[pk] != after[pk]),
        trading_changed=frozenset(trades(before) ^ trades(after)),
    )


def subaccount_names(*, ids: Iterable[int]) -> dict[int, str]:
    """The names of the given subaccounts by id (a deleted one is left out)."""
    return dict(Subaccount.objects.filter(pk__in=list(ids)).values_list("pk", "name"))


@dataclass
class AccountBlock:
    """One subaccount's rows on a team page, or the reason they could not be read."""

    access: SubaccountAccess
    orders: list[Order] | None = None
    positions: list[Position] | None = None
    liquidations: dict[str, Decimal | None] | None = None
    error: str = ""
    markets: dict[str, Market] = field(default_factory=dict)  # by symbol, for the decimals
    senders: dict[str, str] = field(default_factory=dict)  # order id -> who sent it


async def guarded(block: AccountBlock, read: Awaitable[T]) -> T | None:
    """`read`'s result, or None with the failure's words in `block.error`."""
    try:
        return await read
    except EXCHANGE_ERRORS as error:
        block.error = failure_text(error)
        return None
