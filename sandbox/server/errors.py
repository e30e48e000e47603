"""Errors in the exchange's ApiErrorResponse shape: {"code": "...", "message": "..."}.

Every refusal the sandbox gives leaves through :class:`ApiError`; the app maps it to a
JSON response once, at the edge.
"""

from __future__ import annotations

import json

from starlette.responses import Response

JSON_MEDIA_TYPE = "application/json; charset=utf-8"


class ApiError(Exception):
    """A refusal with an HTTP status, an ApiErrorCode and a message users know."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def response(self) -> Response:
        """Render as the spec's ApiErrorResponse."""
        return error_response(self.status, self.code, self.message)


def error_response(status: int, code: str, message: str) -> Response:
    """An ApiErrorResponse body with the given status."""
    body = json.dumps({"code": code, "message": message}).encode()
    return Response(body, status_code=status, media_type=JSON_MEDIA_TYPE)


def bad_request(message: str, code: str = "INVALID_CLIENT_REQUEST") -> ApiError:
    """A 400 with the given code (INVALID_CLIENT_REQUEST unless said otherwise)."""
    return ApiError(400, code, message)


def not_found(message: str = "Not found") -> ApiError:
    """A 404 RESOURCE_NOT_FOUND."""
    return ApiError(404, "RESOURCE_NOT_FOUND", message)
