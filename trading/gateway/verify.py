"""Reading a script's request as the exchange reads it: parameters, the four ``X-`` headers,
the window, and the ED25519 signature over the same signing string the client signs
(`trading.backpack.signing.signing_string`).

The refusals match the exchange's (see `errors.py`): a missing or malformed header, an
expired or future timestamp are 401 ``UNAUTHORIZED``; a signature that does not verify is
401 ``INVALID_SIGNATURE``.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

from trading.backpack.signing import DEFAULT_WINDOW_MS, MAX_WINDOW_MS, signing_string
from trading.gateway.errors import Refusal, bad_request, unauthorized

MAX_BODY_BYTES = 256 * 1024
_DECODE = json.JSONDecoder(parse_float=Decimal).decode
_SCALARS = (str, int, bool, Decimal)

Params = dict[str, Any] | list[dict[str, Any]]


@dataclass(frozen=True)
class Signed:
    """The signature headers of one request, checked for form and window."""

    api_key: str
    signature: bytes
    timestamp_ms: int
    window_ms: int


def _flat(item: Any) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise bad_request("Expected a JSON object body")
    for key, value in item.items():
        if value is not None and not isinstance(value, _SCALARS):
            raise bad_request(f"Invalid parameter `{key}`: expected a number, text or boolean")
    # A null is not sent nor signed (the exchange drops it too).
    return {key: value for key, value in item.items() if value is not None}


def request_params(
    method: str, query: list[tuple[str, str]], body: bytes, *, batch: bool = False
) -> Params:
    """The parameters a request signs: its JSON body (numbers kept exactly as `Decimal`),
    or its query when there is no body. A repeated query key is refused."""
    if len(body) > MAX_BODY_BYTES:
        raise bad_request("Request body too large")
    if method != "GET" and body.strip():
        try:
            data = _DECODE(body.decode("utf-8"))
        except (ValueError, RecursionError):
            raise bad_request("Invalid JSON body") from None
        if batch:
            if not isinstance(data, list) or not data:
                raise bad_request("Expected a JSON array of orders")
            return [_flat(item) for item in data]
        return _flat(data)
    params: dict[str, Any] = {}
    for key, value in query:
        if key in params:
            raise bad_request(f"Parameter `{key}` given twice")
        params[key] = value
    return params


def _digits(text: str, header: str) -> int:
    if not (text.isascii() and text.isdigit()) or len(text) > 16:
        raise unauthorized(f"Invalid {header} Header")
    return int(text)


def signature_headers(headers: Mapping[str, str], now_ms: int) -> Signed:
    """The four headers, in the exchange's order of checks, the window against `now_ms`."""
    api_key = headers.get("X-API-Key")
    signature = headers.get("X-Signature")
    timestamp = headers.get("X-Timestamp")
    window = headers.get("X-Window")
    if not api_key:
        raise unauthorized("Missing X-API-Key Header")
    if not signature:
        raise unauthorized("Missing X-Signature Header")
    if not timestamp:
        raise unauthorized("Missing X-Timestamp Header")
    try:
        raw_signature = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        raw_signature = b""
    if len(raw_signature) != 64:
        raise unauthorized("Invalid X-Signature Header")
    timestamp_ms = _digits(timestamp, "X-Timestamp")
    window_ms = _digits(str(DEFAULT_WINDOW_MS) if window is None else window, "X-Window")
    if not 0 < window_ms <= MAX_WINDOW_MS:
        raise unauthorized("Invalid X-Window Header")
    if timestamp_ms + window_ms < now_ms:
        raise unauthorized("Request has expired")
    if timestamp_ms - window_ms > now_ms:
        raise unauthorized("Request timestamp is in the future")
    return Signed(api_key, raw_signature, timestamp_ms, window_ms)


def signature_verify(
    public_key: str, signed: Signed, instruction: str, params: Params | None
) -> None:
    """Raise 401 ``INVALID_SIGNATURE`` unless `signed` covers this request with this key."""
    try:
        message = signing_string(instruction, params, signed.timestamp_ms, signed.window_ms)
    except (TypeError, ValueError) as exc:
        raise bad_request(f"Invalid parameter: {exc}") from None
    try:
        VerifyKey(base64.b64decode(public_key)).verify(message.encode(), signed.signature)
    except BadSignatureError:
        raise Refusal(401, "INVALID_SIGNATURE", "Invalid signature") from None
