"""The one base of every service error: a request that breaks a rule, with the message a
person reads and the form field it belongs to. The apps' own errors (``TradingError``,
``WithdrawalError``, ``KeyCheckError``) are its subclasses, so a view shows any of them the
same way: the message beside ``field``, or at the top of the form."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied


class ServiceError(Exception):
    """A request that breaks a rule; `field` names the form field it belongs to."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class Refusal(PermissionDenied):
    """A refused permission with what the person can do about it: `hint`, shown under the
    message on the 403 page (one refusal's remedy is a role on the subaccount, another's a
    right only a superuser gives, so each refusal says its own)."""

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


ROLE_HINT = "An admin of the subaccount can change your role."
SUBACCOUNT_ADD_HINT = (
    "Adding subaccounts is a right a superuser gives (the permission “Can add subaccount” "
    "on your user in /admin/); an admin of a subaccount can add you to it instead."
)
STAFF_HINT = "A superuser can give you staff status on your user in /admin/."
TEAM_SETTINGS_HINT = "Ask an admin of any subaccount to change the team's settings."


class RoleRefusal(Refusal):
    """Refused for the person's role on a subaccount: an admin of it can change the role."""

    def __init__(self, message: str) -> None:
        super().__init__(message, hint=ROLE_HINT)
