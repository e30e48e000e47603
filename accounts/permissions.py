"""Who may do what with which subaccount. Every app checks roles through these functions.

A viewer sees balances, orders and positions; a trader also places and cancels orders; an
admin also manages keys, members and withdrawal settings, and withdraws. Superusers have every
role on every subaccount. Anonymous and inactive users have none.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from accounts.errors import RoleRefusal
from accounts.models import ROLE_RANK, Membership, Role, Subaccount

__all__ = [
    "Role",
    "can_create_subaccounts",
    "has_role",
    "require_role",
    "role_allows",
    "role_of",
    "roles_at_least",
    "roles_of",
    "subaccounts_visible_to",
]


def roles_at_least(min_role: Role | str) -> list[str]:
    """The role values that include `min_role` (admin includes trader includes viewer)."""
    floor = ROLE_RANK[Role(min_role)]
    return [role.value for role, rank in ROLE_RANK.items() if rank >= floor]


def _signed_in(user: Any) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def subaccounts_visible_to(
    user: Any, *, min_role: Role | str = Role.VIEWER
) -> QuerySet[Subaccount]:
    """The subaccounts on which `user` has at least `min_role` (all of them for superusers)."""
    if not _signed_in(user):
        return Subaccount.objects.none()
    if user.is_superuser:
        return Subaccount.objects.all()
    return Subaccount.objects.filter(
        memberships__user=user, memberships__role__in=roles_at_least(min_role)
    ).distinct()


def role_of(user: Any, subaccount: Subaccount | int) -> Role | None:
    """The user's role on the subaccount, `Role.ADMIN` for superusers, None for non-members."""
    if not _signed_in(user) or user.is_superuser:
        return role_given(user, None)
    subaccount_id = subaccount if isinstance(subaccount, int) else subaccount.pk
    role = (
        Membership.objects.filter(user=user, subaccount_id=subaccount_id)
        .values_list("role", flat=True)
        .first()
    )
    return role_given(user, role)


def role_given(user: Any, membership_role: str | None) -> Role | None:
    """`role_of` for a caller that read the user's membership role itself (None: no
    membership): `Role.ADMIN` for superusers, None for a user not signed in or inactive."""
    if not _signed_in(user):
        return None
    if user.is_superuser:
        return Role.ADMIN
    return Role(membership_role) if membership_role else None


def roles_of(user: Any) -> dict[int, Role]:
    """Every subaccount the user may see (by id) with the user's role on it."""
    if not _signed_in(user):
        return {}
    if user.is_superuser:
        return {pk: Role.ADMIN for pk in Subaccount.objects.values_list("pk", flat=True)}
    rows = Membership.objects.filter(user=user).values_list("subaccount_id", "role")
    return {pk: Role(role) for pk, role in rows}


def role_allows(role: Role | None, min_role: Role | str) -> bool:
    """True when ``role`` includes ``min_role`` (admin includes trader includes viewer)."""
    return role is not None and ROLE_RANK[Role(role)] >= ROLE_RANK[Role(min_role)]


def has_role(user: Any, subaccount: Subaccount | int, min_role: Role | str) -> bool:
    """True when `user` holds at least `min_role` on the subaccount."""
    return role_allows(role_of(user, subaccount), min_role)


def require_role(user: Any, subaccount: Subaccount | int, min_role: Role | str) -> Role:
    """Return the user's role, or raise PermissionDenied when it is below `min_role`."""
    role = role_of(user, subaccount)
    if role is None or not role_allows(role, min_role):
        raise RoleRefusal(f"This needs the {Role(min_role).label.lower()} role.")
    return role


def can_create_subaccounts(user: Any) -> bool:
    """Superusers and users granted `accounts.add_subaccount` may add subaccounts."""
    return _signed_in(user) and user.has_perm("accounts.add_subaccount")
