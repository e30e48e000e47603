"""The one base of every service error: a request that breaks a rule, with the message a
person reads and the form field it belongs to. The apps' own errors (``TradingError``,
``WithdrawalError``, ``KeyCheckError``) are its subclasses, so a view shows any of them the
same way: the message beside ``field``, or at the top of the form."""

from __future__ import annotations


class ServiceError(Exception):
    """A request that breaks a rule; `field` names the form field it belongs to."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
