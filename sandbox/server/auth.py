"""Request signing check, written from the spec's ``info.description`` alone.

The signed string is ``instruction=<name>`` followed by the request's parameters (body keys,
or query parameters when there is no body) sorted by key as ``&key=value``, then
``&timestamp=<X-Timestamp>&window=<X-Window>``. Values are signed raw: booleans as
``true``/``false``, numbers as their JSON text, strings as sent. A batch body (a JSON list)
signs one ``instruction=...&k=v...`` block per item, the blocks joined by ``&``, with the
timestamp and window once at the end. ``X-Window`` defaults to 5000 when absent (an empty
one is refused) and may not exceed 60000; both headers are ASCII digits only.

This module is a second, independent implementation of the rule: it shares no code with the
project's client, so a signing bug cannot hide behind the same code on both sides.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any

from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

from sandbox.numbers import NumberError, parse_int
from sandbox.server.errors import ApiError

DEFAULT_WINDOW_MS = 5000
MAX_WINDOW_MS = 60000

Params = Mapping[str, Any] | Iterable[tuple[str, Any]]


def encode_value(value: Any) -> str:
    """Encode one parameter value the way it is signed (``True`` -> ``true``, raw otherwise)."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, separators=(",", ":"))


def _pairs(params: Params | None) -> list[tuple[str, Any]]:
    if params is None:
        return []
    items = params.items() if isinstance(params, Mapping) else params
    return sorted(((key, value) for key, value in items if value is not None), key=_key)


def _key(pair: tuple[str, Any]) -> str:
    return pair[0]


def _block(instruction: str, params: Params | None) -> str:
    parts = [f"instruction={instruction}"]
    parts.extend(f"{key}={encode_value(value)}" for key, value in _pairs(params))
    return "&".join(parts)


def signing_string(
    instruction: str,
    params: Params | list[Mapping[str, Any]] | None,
    timestamp: int | str,
    window: int | str,
) -> str:
    """The exact text a request's signature covers (a list of mappings is a batch)."""
    if isinstance(params, list) and all(isinstance(item, Mapping) for item in params) and params:
        head = "&".join(_block(instruction, item) for item in params)
    else:
        head = _block(instruction, params)  # type: ignore[arg-type]
    return f"{head}&timestamp={timestamp}&window={window}"


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        value = headers.get(name.lower())
    return value


class Authenticator:
    """Checks signed requests against a registry of public keys -> subaccount ids.

    ``clock_ms`` returns the server's time in milliseconds; inject a fixed clock to check
    recorded vectors. Refusals are HTTP 401 (as the exchange answers them): code
    ``INVALID_SIGNATURE`` when the signature does not verify, ``UNAUTHORIZED`` for missing
    or malformed headers, an unknown key or an expired request.
    """

    def __init__(self, keys: Mapping[str, int], clock_ms: Callable[[], int]) -> None:
        self.clock_ms = clock_ms
        self._subaccounts: dict[str, int] = {}
        self._verify_keys: dict[str, VerifyKey] = {}
        self.replace_keys(keys)

    def replace_keys(self, keys: Mapping[str, int]) -> None:
        """Install a new key registry (base64 public key -> subaccount id)."""
        verify_keys: dict[str, VerifyKey] = {}
        for api_key in keys:
            verify_keys[api_key] = VerifyKey(base64.b64decode(api_key, validate=True))
        self._subaccounts = dict(keys)
        self._verify_keys = verify_keys

    def authenticate(
        self,
        headers: Mapping[str, str],
        instruction: str,
        params: Params | list[Mapping[str, Any]] | None,
        *,
        status: int = 401,
    ) -> int:
        """Return the subaccount id of a correctly signed request, or raise :class:`ApiError`."""
        api_key = _header(headers, "X-API-Key")
        signature = _header(headers, "X-Signature")
        timestamp = _header(headers, "X-Timestamp")
        window = _header(headers, "X-Window")
        return self.check(api_key, signature, timestamp, window, instruction, params, status)

    def check(
        self,
        api_key: str | None,
        signature: str | None,
        timestamp: str | None,
        window: str | None,
        instruction: str,
        params: Params | list[Mapping[str, Any]] | None,
        status: int = 401,
    ) -> int:
        """Check the four signature values (headers, or a WS ``signature`` array)."""
        if not api_key:
            raise ApiError(status, "UNAUTHORIZED", "Missing X-API-Key Header")
        if not signature:
            raise ApiError(status, "UNAUTHORIZED", "Missing X-Signature Header")
        if not timestamp:
            raise ApiError(status, "UNAUTHORIZED", "Missing X-Timestamp Header")
        verify_key = self._verify_keys.get(api_key)
        if verify_key is None:
            if not _is_b64_of_length(api_key, 32):
                raise ApiError(status, "UNAUTHORIZED", "Invalid X-API-Key Header")
            raise ApiError(status, "UNAUTHORIZED", "Invalid X-API-Key Header: unknown API key")
        try:
            signature_bytes = base64.b64decode(signature, validate=True)
        except (binascii.Error, ValueError):
            signature_bytes = b""
        if len(signature_bytes) != 64:
            raise ApiError(status, "UNAUTHORIZED", "Invalid X-Signature Header")
        timestamp_ms = _parse_ms(timestamp, "X-Timestamp", status)
        if window is None:  # absent: the default; present but empty: refused below
            window = str(DEFAULT_WINDOW_MS)
        window_ms = _parse_ms(window, "X-Window", status)
        if window_ms <= 0 or window_ms > MAX_WINDOW_MS:
            raise ApiError(status, "UNAUTHORIZED", "Invalid X-Window Header")
        now = self.clock_ms()
        if timestamp_ms + window_ms < now:
            raise ApiError(status, "UNAUTHORIZED", "Request has expired")
        if timestamp_ms - window_ms > now:
            raise ApiError(status, "UNAUTHORIZED", "Request timestamp is in the future")
        message = signing_string(instruction, params, timestamp, window).encode()
        try:
            verify_key.verify(message, signature_bytes)
        except BadSignatureError:
            raise ApiError(status, "INVALID_SIGNATURE", "Invalid signature") from None
        return self._subaccounts[api_key]


def _parse_ms(text: str, header: str, status: int) -> int:
    # ASCII digits only (the sandbox's one integer rule): str.isdigit() alone lets "²" and
    # "١٢" through, which int() refuses or reads as another number than the text signed
    try:
        if len(text) > 16:
            raise NumberError("too long")
        return parse_int(text)
    except NumberError:
        raise ApiError(status, "UNAUTHORIZED", f"Invalid {header} Header") from None


def _is_b64_of_length(text: str, length: int) -> bool:
    try:
        return len(base64.b64decode(text, validate=True)) == length
    except (binascii.Error, ValueError):
        return False
