"""The engine's one exception type, mapped 1:1 to Backpack's ``ApiErrorResponse``.

Tree::

    EngineError(http_status, code, message)  # -> HTTP status, {"code": ..., "message": ...}

``code`` is one of the spec's ``ApiErrorCode`` values.  The messages are the ones a
Backpack user knows ("Quantity decimal too long", ...); they are collected here as
constants so tests and the server can refer to them by name.
"""

from __future__ import annotations

from typing import Any

QUANTITY_DECIMAL_TOO_LONG = "Quantity decimal too long"
PRICE_DECIMAL_TOO_LONG = "Price decimal too long"
QUANTITY_BELOW_MINIMUM = "Quantity is below the minimum allowed value"
QUANTITY_ABOVE_MAXIMUM = "Quantity is above the maximum allowed value"
PRICE_BELOW_MINIMUM = "Price is below the minimum allowed value"
PRICE_ABOVE_MAXIMUM = "Price is above the maximum allowed value"
PRICE_OUT_OF_BAND = "Price is outside the allowed price band"
POST_ONLY_WOULD_TAKE = "Order would immediately match and take"
REDUCE_ONLY_SPOT = "Reduce only orders are only supported on perpetual markets"
REDUCE_ONLY_NOT_REDUCED = "Reduce only order not reduced"
TRIGGER_SPOT = "Trigger orders are only supported on perpetual markets"
STOP_WITHOUT_POSITION = "No position left for the trigger's percent of it"
INSUFFICIENT_FUNDS = "Insufficient funds"
INSUFFICIENT_MARGIN = "Insufficient margin"
INSUFFICIENT_LIQUIDITY = "Insufficient liquidity"
MARKET_NOT_FOUND = "Market not found"
ORDER_NOT_FOUND = "Order not found"
ASSET_NOT_FOUND = "Asset not found"
SUBACCOUNT_NOT_FOUND = "Subaccount not found"
WITHDRAWAL_NOT_FOUND = "Withdrawal not found"
OPEN_INTEREST_LIMIT = "Open interest limit reached"


class EngineError(Exception):
    """A command the exchange refuses: ``http_status``, ``code`` (ApiErrorCode), ``message``.

    The engine guarantees that a command which raises left every balance, order and
    position exactly as it was.
    """

    __slots__ = ("http_status", "code", "message")

    def __init__(self, http_status: int, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.http_status = http_status
        self.code = code
        self.message = message

    def to_wire(self) -> dict[str, Any]:
        """The spec's ``ApiErrorResponse`` body: ``{"code": ..., "message": ...}``."""
        return {"code": self.code, "message": self.message}

    def __repr__(self) -> str:
        return f"EngineError({self.http_status}, {self.code!r}, {self.message!r})"


def bad_request(message: str) -> EngineError:
    """400 INVALID_CLIENT_REQUEST: malformed or off-grid input."""
    return EngineError(400, "INVALID_CLIENT_REQUEST", message)


def invalid_order(message: str) -> EngineError:
    """400 INVALID_ORDER: a well-formed order the book refuses (postOnly, reduceOnly)."""
    return EngineError(400, "INVALID_ORDER", message)


def invalid_price(message: str) -> EngineError:
    """400 INVALID_PRICE: a price outside the market's price band."""
    return EngineError(400, "INVALID_PRICE", message)


def invalid_market(symbol: object) -> EngineError:
    """400 INVALID_MARKET: no market with that symbol."""
    return EngineError(400, "INVALID_MARKET", MARKET_NOT_FOUND)


def not_found(message: str = ORDER_NOT_FOUND) -> EngineError:
    """404 RESOURCE_NOT_FOUND."""
    return EngineError(404, "RESOURCE_NOT_FOUND", message)


def insufficient_funds() -> EngineError:
    """400 INSUFFICIENT_FUNDS."""
    return EngineError(400, "INSUFFICIENT_FUNDS", INSUFFICIENT_FUNDS)


def insufficient_margin() -> EngineError:
    """400 INSUFFICIENT_MARGIN."""
    return EngineError(400, "INSUFFICIENT_MARGIN", INSUFFICIENT_MARGIN)
