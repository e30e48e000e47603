"""One signed request from a script, REST or WebSocket, checked in the exchange's order:
headers and window, the signature (against the key the request names), a replay
(`script_request_verify`), then the desk key itself (`admit.script_key_admit`; an order
checks it in the same step that records its tickets, `orders.orders_place`)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping

from asgiref.sync import sync_to_async

from trading.exchange import exchange_session
from trading.gateway.admit import Caller, script_key_admit
from trading.gateway.errors import unauthorized
from trading.gateway.replay import signature_first_use
from trading.gateway.routes import Served
from trading.gateway.verify import Params, Signed, signature_headers, signature_verify

_admit = sync_to_async(script_key_admit)


def _verify_key(api_key: str) -> str:
    """The claimed key, if it can be an ED25519 public key at all."""
    try:
        if len(base64.b64decode(api_key, validate=True)) == 32:
            return api_key
    except (binascii.Error, ValueError):
        pass
    raise unauthorized("Invalid X-API-Key Header")


async def script_request_verify(
    *, headers: Mapping[str, str], instruction: str, params: Params | None
) -> Signed:
    """The signature headers of a correctly signed, first-seen request (headers, window,
    signature, replay); a `Refusal` otherwise. The key itself is checked next
    (`admit.script_key_admit`)."""
    clock = exchange_session().clock
    signed = signature_headers(headers, clock.now_ms())
    signature_verify(_verify_key(signed.api_key), signed, instruction, params)
    valid_for = signed.timestamp_ms + signed.window_ms - clock.now_ms()
    if not await signature_first_use(signed.signature, valid_for_ms=valid_for):
        raise unauthorized(
            "Request has already been received: a signature is accepted once. The same "
            "request signed in the same millisecond has the same signature: give it a new "
            "X-Timestamp (or an order its own clientId)"
        )
    return signed


async def script_request_admit(
    *,
    headers: Mapping[str, str],
    instruction: str,
    params: Params | None,
    served: Served,
    subaccount: str | None,
    ip: str | None,
) -> Caller:
    """The caller of a correctly signed, first-seen request; a `Refusal` otherwise."""
    signed = await script_request_verify(headers=headers, instruction=instruction, params=params)
    return await _admit(api_key=signed.api_key, served=served, subaccount=subaccount, ip=ip)
