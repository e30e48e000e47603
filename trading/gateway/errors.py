"""The desk's own refusals to scripts, in the exchange's error shape.

The exchange answers ``{"code": "...", "message": "..."}`` (ApiErrorResponse) with:
401 ``UNAUTHORIZED`` (missing or bad headers, unknown key, expired request, a key that may
not do this), 401 ``INVALID_SIGNATURE``, 403 ``FORBIDDEN``, 400 ``INVALID_CLIENT_REQUEST``,
404 ``RESOURCE_NOT_FOUND``, 429 ``TOO_MANY_REQUESTS``, 503 ``SERVICE_UNAVAILABLE``. Clients
such as ccxt map these codes to their own errors, so the desk uses the same.
"""

from __future__ import annotations

import json

JSON_TYPE = "application/json; charset=utf-8"


class Refusal(Exception):  # noqa: N818 - the exchange's word
    """The desk refuses a script's request; rendered once, at the endpoint's edge.
    `audited`: the refusal is in the audit log already (the risk gate records its own)."""

    def __init__(
        self, status: int, code: str, message: str, *, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.retry_after = retry_after
        self.audited = False

    def parts(self) -> tuple[int, str, bytes, str | None]:
        """(status, content type, body, Retry-After or None) of the refusal."""
        body = json.dumps({"code": self.code, "message": self.message}).encode()
        retry = None if self.retry_after is None else str(max(1, round(self.retry_after)))
        return self.status, JSON_TYPE, body, retry


def unauthorized(message: str) -> Refusal:
    return Refusal(401, "UNAUTHORIZED", message)


def forbidden(message: str) -> Refusal:
    return Refusal(403, "FORBIDDEN", message)


def bad_request(message: str) -> Refusal:
    return Refusal(400, "INVALID_CLIENT_REQUEST", message)
