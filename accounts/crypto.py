"""API secrets sealed at rest with NaCl SecretBox under the configured key-encryption keys.

A sealed value reads ``v1:<key id>:<base64 of nonce+ciphertext>``. The key id is the first
8 hex digits of SHA-256 of the key-encryption key, so opening goes straight to the right key;
`DASHBOARD_ENCRYPTION_KEYS` lists the keys, new secrets are sealed under the first one and
`manage.py rotate_keys` re-seals old ones. Plaintext exists only in memory, at signing time.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import nacl.exceptions
import nacl.secret
import nacl.utils

if TYPE_CHECKING:
    from accounts.models import Subaccount
    from trading.backpack import Credentials

PREFIX = "v1"


class SecretUnavailableError(Exception):
    """A sealed API secret cannot be opened; the message says which subaccount and why."""


class KeyMissingError(SecretUnavailableError):
    """The key-encryption key that sealed a secret is not configured any more."""


def key_id(key: bytes) -> str:
    """Short public identifier of a key-encryption key (never the key itself)."""
    return hashlib.sha256(key).hexdigest()[:8]


def configured_keys() -> tuple[bytes, ...]:
    """The key-encryption keys from `DASHBOARD_ENCRYPTION_KEYS`, first one current."""
    from dashboard.config import get_config

    return get_config().encryption_keys


def seal(plaintext: str, keys: Sequence[bytes] | None = None) -> str:
    """Seal `plaintext` under the first configured key."""
    keys = configured_keys() if keys is None else keys
    current = keys[0]
    box = nacl.secret.SecretBox(current)
    token = box.encrypt(plaintext.encode(), nacl.utils.random(nacl.secret.SecretBox.NONCE_SIZE))
    return f"{PREFIX}:{key_id(current)}:{base64.b64encode(bytes(token)).decode()}"


def sealed_key_id(sealed: str) -> str:
    """The id of the key a sealed value was made with ('' when the value is malformed)."""
    parts = sealed.split(":")
    return parts[1] if len(parts) == 3 and parts[0] == PREFIX else ""


def open_sealed(sealed: str, *, owner: str, keys: Sequence[bytes] | None = None) -> str:
    """Open a sealed value; `owner` names the subaccount in error messages."""
    keys = configured_keys() if keys is None else keys
    wanted = sealed_key_id(sealed)
    if not wanted:
        raise SecretUnavailableError(
            f"cannot decrypt the API secret of subaccount {owner}: the stored value is damaged"
        )
    key = next((k for k in keys if key_id(k) == wanted), None)
    if key is None:
        raise KeyMissingError(f"cannot decrypt the API secret of subaccount {owner}: key missing")
    try:
        token = base64.b64decode(sealed.split(":")[2], validate=True)
        return nacl.secret.SecretBox(key).decrypt(token).decode()
    except (ValueError, nacl.exceptions.CryptoError) as exc:
        raise SecretUnavailableError(
            f"cannot decrypt the API secret of subaccount {owner}: the stored value is damaged"
        ) from exc


def is_current(sealed: str, keys: Sequence[bytes] | None = None) -> bool:
    """True when the value is sealed under the current (first) key."""
    keys = configured_keys() if keys is None else keys
    return sealed_key_id(sealed) == key_id(keys[0])


def reseal(sealed: str, *, owner: str, keys: Sequence[bytes] | None = None) -> str:
    """The same secret sealed under the current key (unchanged when it already is)."""
    keys = configured_keys() if keys is None else keys
    if is_current(sealed, keys):
        return sealed
    return seal(open_sealed(sealed, owner=owner, keys=keys), keys)


def public_key_fingerprint(public_key_b64: str) -> str:
    """A short fingerprint of an API public key for people to compare: 'ab12:cd34:ef56'."""
    digest = hashlib.sha256(public_key_b64.encode()).hexdigest()
    return ":".join(digest[i : i + 4] for i in range(0, 12, 4))


def secret_opener(subaccount: Subaccount) -> Callable[[], str]:
    """A callable that opens the subaccount's secret when called (at signing time)."""
    sealed = subaccount.api_secret_sealed
    owner = subaccount.name

    def open_now() -> str:
        return open_sealed(sealed, owner=owner)

    return open_now


def key_problem(subaccount: Subaccount) -> str:
    """Why the subaccount's secret cannot be opened ('' when its sealing key is configured).

    Checks the key id only; nothing is decrypted.
    """
    wanted = sealed_key_id(subaccount.api_secret_sealed)
    if not wanted:
        return (
            f"cannot decrypt the API secret of subaccount {subaccount.name}: "
            "the stored value is damaged"
        )
    if wanted not in {key_id(k) for k in configured_keys()}:
        return f"cannot decrypt the API secret of subaccount {subaccount.name}: key missing"
    return ""


def subaccount_credentials(subaccount: Subaccount) -> Credentials:
    """Exchange credentials of `subaccount`; the secret is decrypted only when signing.

    Raises `KeyMissingError` at once when the sealing key is not configured (or
    `SecretUnavailableError` when the stored value is damaged), so a page can say so before
    anything is sent.
    """
    from trading.backpack import Credentials

    problem = key_problem(subaccount)
    if problem.endswith("key missing"):
        raise KeyMissingError(problem)
    if problem:
        raise SecretUnavailableError(problem)
    return Credentials(api_key=subaccount.api_public_key, api_secret=secret_opener(subaccount))
