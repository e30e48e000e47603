"""The withdrawals' refusal: a ``ServiceError`` whose ``field`` names the form field."""

from __future__ import annotations

from accounts.errors import ServiceError


class WithdrawalError(ServiceError):
    """A refused withdrawal action; `field` names the form field the message belongs to."""
