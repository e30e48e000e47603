"""Errors the accounts services raise for requests that break a rule."""

from __future__ import annotations


class ServiceError(Exception):
    """A request that breaks a rule; `field` names the form field it belongs to."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
