"""Checks on an API keypair before it is stored: format, pair, then the exchange itself.

Each failure has its own message, shown beside the field the person typed into:

- bad base64, wrong length (the secret is a 32-byte ED25519 seed, the key a 32-byte public
  key; a 64-byte secret, the seed with its public key appended as libsodium keeps it, is
  taken as its seed when the appended half is the API key), a public key that does not
  belong to the secret (derived with PyNaCl);
- a key registered already for another subaccount (`MSG_KEY_REGISTERED`, checked by the
  services, which know the subaccounts);
- the exchange rejecting the key, or the exchange being unreachable (a signed balance query
  through `trading.backpack.verify_credentials`).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

import nacl.signing
from asgiref.sync import async_to_sync
from django.conf import settings

from accounts.errors import ServiceError

SEED_BYTES = 32

MSG_BAD_BASE64 = "The {what} is not valid base64."
MSG_WRONG_LENGTH = "The {what} must be {expected} bytes once decoded; this one is {actual} bytes."
MSG_LONG_SECRET = (
    "The API secret must be 32 bytes once decoded; this one is 64 bytes, but its second half "
    "is not this API key, so it is not the key's secret with its public key appended. Paste "
    "the secret (seed) exactly as the exchange showed it."
)
MSG_PAIR_MISMATCH = (
    "The API key does not belong to this secret: the public key derived from the secret "
    "is different. Copy both from the same key on the exchange."
)
MSG_REJECTED = "The exchange rejected this key: {reason} Nothing was saved."
MSG_UNREACHABLE = (
    "The exchange could not be reached, so the key could not be checked and nothing was "
    "saved. Try again in a moment."
)
MSG_EXCHANGE_ERROR = "The exchange could not check this key: {reason} Nothing was saved."
MSG_KEY_REGISTERED = (
    "This API key is registered already for the subaccount {name}: a subaccount needs the key "
    "of its own exchange account, or the desk would count that account twice. Nothing was saved."
)


class KeyCheckError(ServiceError):
    """A keypair failed a check; `field` is the form field to show the message on."""


@dataclass(frozen=True)
class KeyPair:
    """A checked keypair in canonical base64. `repr` never shows the secret."""

    api_public_key: str
    api_secret: str

    def __repr__(self) -> str:
        return f"KeyPair(api_public_key={self.api_public_key!r}, api_secret=<hidden>)"


def _decode(value: str, *, what: str, field: str, appended: bytes | None = None) -> bytes:
    """`value`'s 32 bytes; `appended`: the public key a 64-byte secret may end with."""
    text = "".join(value.split())
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise KeyCheckError(MSG_BAD_BASE64.format(what=what), field=field) from exc
    if appended is not None and len(raw) == 2 * SEED_BYTES:
        if raw[SEED_BYTES:] == appended:
            return raw[:SEED_BYTES]
        raise KeyCheckError(MSG_LONG_SECRET, field=field)
    if not text or len(raw) != SEED_BYTES:
        message = MSG_WRONG_LENGTH.format(what=what, expected=SEED_BYTES, actual=len(raw))
        raise KeyCheckError(message, field=field)
    return raw


def key_pair_parse(*, api_public_key: str, api_secret: str) -> KeyPair:
    """Check base64, lengths and that the public key is derived from the seed."""
    public = _decode(api_public_key, what="API key", field="api_public_key")
    secret = _decode(api_secret, what="API secret", field="api_secret", appended=public)
    derived = bytes(nacl.signing.SigningKey(secret).verify_key)
    if derived != public:
        raise KeyCheckError(MSG_PAIR_MISMATCH, field="api_public_key")
    return KeyPair(
        api_public_key=base64.b64encode(public).decode(),
        api_secret=base64.b64encode(secret).decode(),
    )


async def key_pair_verify_async(pair: KeyPair) -> None:
    """Ask the exchange to accept the key (a signed balance query); raise KeyCheckError."""
    from trading.backpack import Credentials, ExchangeSession, verify_credentials
    from trading.backpack.errors import (
        AuthenticationError,
        BackpackError,
        ExchangeUnavailableError,
    )

    session = ExchangeSession(api_url=settings.BACKPACK_API_URL, ws_url=settings.BACKPACK_WS_URL)
    secret = pair.api_secret
    try:
        await verify_credentials(
            session, Credentials(api_key=pair.api_public_key, api_secret=lambda: secret)
        )
    except AuthenticationError as exc:
        raise KeyCheckError(MSG_REJECTED.format(reason=_sentence(exc.message))) from exc
    except ExchangeUnavailableError as exc:
        raise KeyCheckError(MSG_UNREACHABLE) from exc
    except BackpackError as exc:
        raise KeyCheckError(MSG_EXCHANGE_ERROR.format(reason=_sentence(exc.message))) from exc
    finally:
        await session.aclose()


def key_pair_verify(pair: KeyPair) -> None:
    """Synchronous `key_pair_verify_async` for views and services."""
    async_to_sync(key_pair_verify_async)(pair)


def _sentence(text: str) -> str:
    text = (text or "no reason given").strip()
    return text if text.endswith((".", "!", "?")) else text + "."
