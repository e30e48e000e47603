"""Exceptions raised by the Backpack client, mapped once at the edge.

Every failure a caller can see is one of these; each carries a trader-readable
``message`` and ``action`` (what to do about it), the exchange's ``code`` and its own
words (``exchange_message``) when it sent them, the HTTP ``status`` and the ``route`` that
failed::

    BackpackError
    ├── AuthenticationError        key rejected, bad signature, request expired
    ├── RateLimitedError           429 / TOO_MANY_REQUESTS, or the local budget ran out
    ├── InvalidOrderError          the order breaks a market rule (names the field)
    │   ├── OrderNotFoundError     no order with that id / clientId
    │   └── InvalidNumberError     a number given to the client is not a plain decimal
    ├── InsufficientFundsError     not enough balance or margin
    ├── MaintenanceError           exchange or market paused / in maintenance
    ├── ServerError                5xx, or SERVER_ERROR / TIMEOUT from the exchange
    ├── ExchangeUnavailableError   cannot reach the exchange (connect, timeout, closed)
    ├── MalformedResponseError     the exchange answered something we cannot parse
    └── RequestRejectedError       any other 4xx the exchange refused (bad parameter, ...)
        └── PermissionDeniedError  FORBIDDEN: not allowed (key permissions, address book)

Classification uses the response's ``code`` field and the HTTP status only, never the
message text (``error_from_response``).
"""

from __future__ import annotations

from typing import Any


class BackpackError(Exception):
    """Base of every error the client raises."""

    default_action = "Try again; if it keeps failing, contact the desk's administrator."

    def __init__(
        self,
        message: str,
        *,
        action: str | None = None,
        code: str | None = None,
        status: int | None = None,
        route: str | None = None,
        field: str | None = None,
        exchange_message: str = "",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.action = action or self.default_action
        self.code = code
        self.status = status
        self.route = route
        self.field = field
        # The exchange's own message, without the route and lead `message` adds ("" if none).
        self.exchange_message = exchange_message

    def __str__(self) -> str:
        return self.message


class AuthenticationError(BackpackError):
    """The exchange rejected the API key, the signature, or the request's timestamp."""

    default_action = (
        "Check that the API key and secret belong together and are still active "
        "on the exchange, and that this machine's clock is right."
    )


class RateLimitedError(BackpackError):
    """Too many requests for this API key; wait ``retry_after`` seconds."""

    default_action = "Wait a moment and try again; the desk is sending too many requests."

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class InvalidOrderError(BackpackError):
    """The order (or request parameters) break a market rule; ``field`` names the culprit."""

    default_action = "Correct the order and send it again."


class OrderNotFoundError(InvalidOrderError):
    """No order with that id or clientId exists on the exchange."""

    default_action = "Refresh the order list; the order may already be gone."


class InvalidNumberError(InvalidOrderError):
    """A number given to the client (typed by a person or passed by a caller) is refused
    before anything is sent: ``reason`` says why without the field's name (for a form that
    shows its label), ``text`` is what was given, ``kind`` one of ``required``, ``type``,
    ``not_a_number``, ``digits``, ``exponent``, ``separator``, ``sign``, ``points``,
    ``negative``, ``too_large``, ``too_precise``, ``too_long``."""

    default_action = "Type the number with plain digits 0-9 and at most one decimal point."

    def __init__(
        self, message: str, *, reason: str = "", text: str = "", kind: str = "", **kw: Any
    ) -> None:
        super().__init__(message, **kw)
        self.reason = reason or message
        self.text = text
        self.kind = kind


class InsufficientFundsError(BackpackError):
    """Not enough available balance or margin for the request."""

    default_action = "Reduce the quantity, free locked funds, or deposit more."


class MaintenanceError(BackpackError):
    """The exchange or this market is in maintenance or trading is paused."""

    default_action = "Wait until the exchange reopens the market, then try again."


class ServerError(BackpackError):
    """The exchange failed internally (5xx)."""

    default_action = "Try again in a few seconds."


class ExchangeUnavailableError(BackpackError):
    """The exchange could not be reached (connection refused, timeout, connection lost).

    ``maybe_sent`` is False when the request certainly never left (no connection could be
    made); a placed order then needs no reconciliation before it is sent again.
    """

    default_action = "Check the network connection and the exchange's status page."

    def __init__(self, message: str, *, maybe_sent: bool = True, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.maybe_sent = maybe_sent


class MalformedResponseError(BackpackError):
    """The exchange answered with something that does not match its published API."""

    default_action = "Report this to the desk's developers; the exchange changed its API."


class RequestRejectedError(BackpackError):
    """Any other request the exchange refused (4xx)."""

    default_action = "Check the request's parameters."


class PermissionDeniedError(RequestRejectedError):
    """The exchange does not allow this request for this account or key."""

    default_action = (
        "Check the key's permissions on the exchange; for withdrawals, add the address to "
        "the address book without two-factor authentication."
    )


_AUTH = {"UNAUTHORIZED", "INVALID_SIGNATURE", "ACCOUNT_DEACTIVATED"}
_FUNDS = {
    "INSUFFICIENT_FUNDS",
    "INSUFFICIENT_MARGIN",
    "INSUFFICIENT_SUPPLY",
    "BORROW_LIMIT",
    "LEND_LIMIT",
    "BORROW_REQUIRES_LEND_REDEEM",
    "LEND_REQUIRES_BORROW_REPAY",
    "MAX_LEVERAGE_REACHED",
    "POSITION_LIMIT",
    "ACCOUNT_LIQUIDATING",
}
_ORDER = {
    "INVALID_ORDER",
    "INVALID_PRICE",
    "INVALID_QUANTITY",
    "INVALID_MARKET",
    "INVALID_SYMBOL",
    "ORDER_LIMIT",
    "INVALID_POSITION_ID",
}
_ORDER_FIELD = {
    "INVALID_PRICE": "price",
    "INVALID_QUANTITY": "quantity",
    "INVALID_MARKET": "symbol",
    "INVALID_SYMBOL": "symbol",
}
_MAINTENANCE = {"MAINTENANCE", "TRADING_PAUSED"}
_SERVER = {"SERVER_ERROR", "TIMEOUT", "NOT_IMPLEMENTED"}


def error_from_response(
    status: int,
    payload: Any,
    *,
    route: str,
    retry_after: float | None = None,
) -> BackpackError:
    """Map an error response (status + decoded ``{"code","message"}`` body) to one exception."""
    code: str | None = None
    text = ""
    if isinstance(payload, dict):
        raw_code = payload.get("code")
        code = raw_code if isinstance(raw_code, str) else None
        raw_msg = payload.get("message")
        text = raw_msg if isinstance(raw_msg, str) else ""
    elif isinstance(payload, str):
        text = payload[:200]
    said = f": {text}" if text else ""
    kw: dict[str, Any] = {
        "code": code,
        "status": status,
        "route": route,
        "exchange_message": text.strip(),
    }
    if status == 429 or code == "TOO_MANY_REQUESTS":
        return RateLimitedError(
            f"Rate limited by the exchange on {route}{said}", retry_after=retry_after, **kw
        )
    if code == "FORBIDDEN":
        return PermissionDeniedError(f"The exchange does not allow {route}{said}", **kw)
    if code in _AUTH or (code is None and status in (401, 403)):
        return AuthenticationError(f"The exchange rejected the credentials on {route}{said}", **kw)
    if code in _FUNDS:
        return InsufficientFundsError(f"Insufficient funds or margin{said}", **kw)
    if code == "RESOURCE_NOT_FOUND" or status == 404:
        if "/order" in route:
            return OrderNotFoundError(f"No such order on {route}{said}", **kw)
        return RequestRejectedError(f"Not found on {route}{said}", **kw)
    if code in _ORDER:
        what = "the order" if "/order" in route else route
        return InvalidOrderError(
            f"The exchange rejected {what}{said}", field=_ORDER_FIELD.get(code), **kw
        )
    if code in _MAINTENANCE or (code is None and status == 503):
        return MaintenanceError(f"The exchange is in maintenance{said}", **kw)
    if code in _SERVER or status >= 500:
        return ServerError(f"The exchange failed on {route} (HTTP {status}){said}", **kw)
    return RequestRejectedError(f"The exchange refused {route} (HTTP {status}){said}", **kw)
