from __future__ import annotations

import base64
import io
import secrets

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts import crypto
from accounts.management.commands.rotate_keys import reseal_one
from accounts.models import AuditEvent, Subaccount
from dashboard.config import get_config
from tests.factories import SubaccountFactory, keypair_for

OLD_KEY = b"o" * 32
NEW_KEY = b"n" * 32


@pytest.fixture
def use_keys(monkeypatch):
    """Point the configured key-encryption keys at the given list for this test."""

    def use(*keys: bytes) -> None:
        config = get_config()
        monkeypatch.setattr(
            "accounts.crypto.configured_keys",
            lambda: tuple(keys) if keys else config.encryption_keys,
        )

    return use


def test_a_sealed_secret_opens_to_the_same_text_and_names_its_key():
    sealed = crypto.seal("c2VjcmV0", [NEW_KEY, OLD_KEY])

    assert sealed.startswith(f"v1:{crypto.key_id(NEW_KEY)}:")
    assert "c2VjcmV0" not in sealed
    assert crypto.open_sealed(sealed, owner="Desk A", keys=[OLD_KEY, NEW_KEY]) == "c2VjcmV0"


def test_sealing_twice_gives_different_ciphertexts():
    assert crypto.seal("same", [NEW_KEY]) != crypto.seal("same", [NEW_KEY])


def test_a_secret_whose_key_was_removed_reports_key_missing():
    sealed = crypto.seal("secret", [OLD_KEY])

    with pytest.raises(crypto.KeyMissingError) as caught:
        crypto.open_sealed(sealed, owner="Desk A", keys=[NEW_KEY])

    assert str(caught.value) == "cannot decrypt the API secret of subaccount Desk A: key missing"


def test_a_damaged_sealed_value_is_reported_not_crashed():
    sealed = crypto.seal("secret", [NEW_KEY])
    damaged = sealed[:-6] + ("AAAAAA" if not sealed.endswith("AAAAAA") else "BBBBBB")

    with pytest.raises(crypto.SecretUnavailableError) as caught:
        crypto.open_sealed(damaged, owner="Desk A", keys=[NEW_KEY])

    assert "stored value is damaged" in str(caught.value)


def test_credentials_decrypt_only_when_the_signer_asks(db, use_keys):
    use_keys(NEW_KEY)
    public, secret = keypair_for()
    subaccount = SubaccountFactory(keypair=(public, secret))

    credentials = crypto.subaccount_credentials(subaccount)

    assert credentials.api_key == public
    assert callable(credentials.api_secret)
    assert credentials.api_secret() == secret
    assert secret not in repr(credentials)


def test_credentials_of_a_subaccount_whose_key_is_gone_raise_key_missing(db, use_keys):
    use_keys(OLD_KEY)
    subaccount = SubaccountFactory(name="Desk Z")
    use_keys(NEW_KEY)

    with pytest.raises(crypto.KeyMissingError, match="subaccount Desk Z: key missing"):
        crypto.subaccount_credentials(subaccount)


def _secrets_by_name() -> dict[str, str]:
    return {
        s.name: crypto.open_sealed(s.api_secret_sealed, owner=s.name)
        for s in Subaccount.objects.all()
    }


def test_rotate_keys_reseals_every_secret_under_the_first_key(db, use_keys):
    use_keys(OLD_KEY)
    for _ in range(4):
        SubaccountFactory()
    plain = _secrets_by_name()
    use_keys(NEW_KEY, OLD_KEY)

    call_command("rotate_keys", stdout=io.StringIO())

    assert {
        crypto.sealed_key_id(s)
        for s in Subaccount.objects.values_list("api_secret_sealed", flat=True)
    } == {crypto.key_id(NEW_KEY)}
    use_keys(NEW_KEY)  # the old key can now be retired
    assert _secrets_by_name() == plain
    assert AuditEvent.objects.filter(action="secret_reseal").count() == 4


def test_an_interrupted_rotation_leaves_every_secret_readable_and_a_rerun_finishes(db, use_keys):
    use_keys(OLD_KEY)
    for _ in range(6):
        SubaccountFactory()
    plain = _secrets_by_name()
    use_keys(NEW_KEY, OLD_KEY)
    ids = list(Subaccount.objects.order_by("pk").values_list("pk", flat=True))

    for subaccount_id in ids[:3]:  # the run stops half way
        assert reseal_one(subaccount_id) == "resealed"

    assert _secrets_by_name() == plain
    call_command("rotate_keys", stdout=io.StringIO())
    assert [reseal_one(i) for i in ids] == ["current"] * 6
    use_keys(NEW_KEY)
    assert _secrets_by_name() == plain


def test_rotate_keys_names_the_subaccount_it_cannot_open(db, use_keys):
    use_keys(OLD_KEY)
    SubaccountFactory(name="Orphan")
    use_keys(NEW_KEY)

    with pytest.raises(CommandError, match="subaccount Orphan: key missing"):
        call_command("rotate_keys", stdout=io.StringIO())


def test_fingerprint_is_short_and_stable():
    public = base64.b64encode(secrets.token_bytes(32)).decode()

    fingerprint = crypto.public_key_fingerprint(public)

    assert fingerprint == crypto.public_key_fingerprint(public)
    assert len(fingerprint) == 14 and fingerprint.count(":") == 2
