"""Forwarding one request to the exchange with the subaccount's real key, within the
subaccount's rate budget (shared with browser users through the session's limiter), and the
exchange's answer returned as it came (status and body)."""

from __future__ import annotations

from typing import Any

from accounts.crypto import SecretUnavailableError, subaccount_credentials
from accounts.models import Subaccount
from trading.backpack import ExchangeUnavailableError
from trading.backpack.errors import BackpackError, RateLimitedError
from trading.backpack.routes import Route
from trading.exchange import exchange_session
from trading.gateway.errors import JSON_TYPE, Refusal


async def exchange_forward(
    route: Route, params: Any, *, subaccount: Subaccount | None
) -> tuple[int, str, bytes]:
    """Send once; (status, content type, body) of the exchange's answer."""
    session = exchange_session()
    try:
        credentials = subaccount_credentials(subaccount) if subaccount is not None else None
        label = str(subaccount.pk) if subaccount is not None else "public"
        status, headers, content = await session.forward(
            route, params or None, credentials=credentials, label=label
        )
    except SecretUnavailableError as problem:
        raise Refusal(
            503, "MAINTENANCE", f"The desk cannot sign for this subaccount: {problem}."
        ) from None
    except RateLimitedError as limited:
        raise Refusal(
            429, "TOO_MANY_REQUESTS", limited.message, retry_after=limited.retry_after
        ) from None
    except ExchangeUnavailableError as down:
        raise Refusal(
            502, "SERVER_ERROR", f"The desk could not reach the exchange: {down.message}"
        ) from None
    except BackpackError as error:
        raise Refusal(400, "INVALID_CLIENT_REQUEST", error.message) from None
    return status, headers.get("content-type") or JSON_TYPE, content
