"""Request signing for the Backpack API (ED25519 over a canonical string).

The rule (spec ``info.description``): the request's body or query parameters, sorted by
key and written ``key=value`` joined by ``&``, prefixed by ``instruction=<name>`` and
followed by ``&timestamp=<ms>&window=<ms>``. A batch signs one
``instruction=...&<sorted params>`` block per order, joined by ``&``. Values are encoded
one by one (``True`` -> ``true``, ``Decimal`` -> plain ``format(d, "f")``) and signed raw,
without percent-encoding.
"""

from __future__ import annotations

import base64
import binascii
import functools
import time
from base64 import b64encode
from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum
from typing import Any

import httpx
from nacl.bindings import crypto_sign
from nacl.signing import SigningKey

from .errors import AuthenticationError

DEFAULT_WINDOW_MS = 5000
MAX_WINDOW_MS = 60000

Params = Mapping[str, Any]


def encode_value(value: Any) -> str:
    """Encode one parameter value the way the exchange signs it."""
    kind = type(value)
    if kind is str:
        return value
    if kind is int:
        return str(value)
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return value
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"cannot send the non-finite number {value}")
        return format(value, "f")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        raise TypeError("money must be Decimal, not float; got a float parameter")
    raise TypeError(f"cannot encode a parameter of type {type(value).__name__}")


def wire_value(value: Any) -> Any:
    """The JSON value sent in a body: booleans and integers stay typed, the rest is text."""
    kind = type(value)
    if kind is str or kind is bool or kind is int:
        return value
    if kind is Decimal:
        if not value.is_finite():
            raise ValueError(f"cannot send the non-finite number {value}")
        return format(value, "f")
    if isinstance(value, int) and not isinstance(value, Enum):
        return value
    return encode_value(value)


def clean_params(params: Params | None) -> dict[str, Any]:
    """Drop ``None`` values and turn the rest into wire values (one place, used for both
    the signature and what is sent, so the two can never differ)."""
    if not params:
        return {}
    return {k: wire_value(v) for k, v in params.items() if v is not None}


def _block(params: Params) -> str:
    return "&".join(f"{k}={encode_value(params[k])}" for k in sorted(params))


def signing_string(
    instruction: str,
    params: Params | Sequence[Params] | None,
    timestamp_ms: int,
    window_ms: int = DEFAULT_WINDOW_MS,
) -> str:
    """Build the exact string to sign for ``instruction`` (a list of params is a batch)."""
    if not instruction:
        raise ValueError("a signed request needs an instruction")
    tail = f"timestamp={timestamp_ms}&window={window_ms}"
    if isinstance(params, Sequence) and not isinstance(params, str | bytes):
        blocks = []
        for item in params:
            body = _block(item)
            blocks.append(
                f"instruction={instruction}&{body}" if body else f"instruction={instruction}"
            )
        return "&".join([*blocks, tail])
    body = _block(params) if params else ""
    if body:
        return f"instruction={instruction}&{body}&{tail}"
    return f"instruction={instruction}&{tail}"


def signing_key_from_seed(seed_b64: str) -> SigningKey:
    """Decode a base64 ED25519 seed, raising ``AuthenticationError`` with a clear message."""
    return SigningKey(_seed(seed_b64))


def _seed(seed_b64: str) -> bytes:
    try:
        seed = base64.b64decode(seed_b64.strip(), validate=True)
    except (binascii.Error, ValueError, AttributeError) as exc:
        raise AuthenticationError(
            "The API secret is not valid base64.",
            action="Paste the secret (seed) exactly as the exchange showed it.",
        ) from exc
    if len(seed) != 32:
        raise AuthenticationError(
            f"The API secret decodes to {len(seed)} bytes; an ED25519 seed has 32.",
            action="Paste the secret (seed) exactly as the exchange showed it.",
        )
    return seed


@functools.lru_cache(maxsize=256)
def _cached_key(seed_b64: str) -> SigningKey:
    return signing_key_from_seed(seed_b64)


def sign_message(key: SigningKey, message: str) -> str:
    """Sign ``message`` and return the base64 signature."""
    # The libsodium binding directly: same signature as ``key.sign``, without building a
    # SignedMessage object on the hot path.
    return _signature(key._signing_key, message)


def _signature(secret_key: bytes, message: str) -> str:
    signed = crypto_sign(message.encode(), secret_key)
    return b64encode(signed[:64]).decode()


def _public_key(api_key: str) -> bytes | None:
    """The 32 bytes of an ED25519 public key written in base64 (the exchange's API key)."""
    try:
        raw = base64.b64decode(api_key, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if len(raw) == 32 else None


SecretSource = str | Callable[[], str]


@dataclass(frozen=True, slots=True)
class Credentials:
    """An API key and its secret (base64 seed, or a callable returning it at signing time).

    A callable is called for every signature and its result is not kept, so the plaintext
    lives only for the moment of signing.
    """

    api_key: str
    api_secret: SecretSource = field(repr=False)

    def signing_key(self) -> SigningKey:
        """The ED25519 key to sign with.

        A callable secret is called now and its key is not kept; a plain string secret is
        already in memory, so its key is derived once and cached.
        """
        if callable(self.api_secret):
            return signing_key_from_seed(self.api_secret())
        return _cached_key(self.api_secret)

    def headers(
        self,
        instruction: str,
        params: Params | Sequence[Params] | None,
        timestamp_ms: int,
        window_ms: int = DEFAULT_WINDOW_MS,
    ) -> dict[str, str]:
        """The four ``X-`` headers that authenticate one request."""
        message = signing_string(instruction, params, timestamp_ms, window_ms)
        public = _public_key(self.api_key) if callable(self.api_secret) else None
        if public is not None:
            # libsodium signs with the 64-byte secret key "seed + public key": given the API
            # key (the public key), the seed opened now is used as it is, without deriving
            # its public key again (a scalar multiplication as costly as the signature
            # itself, per order). A secret that is not the API key's own still signs for
            # another key, refused by the exchange as before (`verify_credentials` refuses
            # such a pair when it is saved).
            signature = _signature(_seed(self.api_secret()) + public, message)
        else:
            signature = sign_message(self.signing_key(), message)
        return {
            "X-API-Key": self.api_key,
            "X-Signature": signature,
            "X-Timestamp": str(timestamp_ms),
            "X-Window": str(window_ms),
        }


def system_clock_ms() -> int:
    """Local wall-clock time in milliseconds."""
    return time.time_ns() // 1_000_000


class BackpackAuth(httpx.Auth):
    """httpx auth that signs one request with ``instruction`` over ``params``.

    ``clock`` returns the exchange's time in ms (local time plus the measured offset); it is
    read when the request is actually sent, after any rate-limit wait.
    """

    requires_request_body = False

    def __init__(
        self,
        credentials: Credentials,
        instruction: str | None,
        params: Params | Sequence[Params] | None,
        *,
        clock: Callable[[], int] = system_clock_ms,
        window_ms: int = DEFAULT_WINDOW_MS,
    ) -> None:
        if not instruction:
            # Fail closed: a private endpoint without an instruction never goes out unsigned.
            raise ValueError("private endpoint has no signing instruction")
        self.credentials = credentials
        self.instruction = instruction
        self.params = params
        self.clock = clock
        self.window_ms = window_ms

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Add the signature headers to ``request``."""
        request.headers.update(
            self.credentials.headers(self.instruction, self.params, self.clock(), self.window_ms)
        )
        yield request


def ws_signature(
    credentials: Credentials, timestamp_ms: int, window_ms: int = DEFAULT_WINDOW_MS
) -> list[str]:
    """The ``signature`` array of a private WebSocket subscribe:
    ``[verifying key, signature, timestamp, window]`` (all strings)."""
    headers = credentials.headers("subscribe", None, timestamp_ms, window_ms)
    return [headers["X-API-Key"], headers["X-Signature"], str(timestamp_ms), str(window_ms)]
