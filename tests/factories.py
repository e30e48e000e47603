"""factory_boy factories for users and the accounts models, for every app's tests.

user = UserFactory()                              # password: DEFAULT_PASSWORD
sub = SubaccountFactory()                         # a fresh ED25519 keypair, secret sealed
sub = SubaccountFactory(keypair=keypair_for(seed))  # a known pair (e.g. a sandbox key)
MembershipFactory(user=user, subaccount=sub, role=Role.TRADER)
TOTPDeviceFactory(user=user)                      # confirmed authenticator
"""

from __future__ import annotations

import base64
import secrets
from decimal import Decimal
from functools import lru_cache

import factory
import nacl.signing
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import crypto
from accounts.models import (
    LowBalanceThreshold,
    Membership,
    Role,
    Subaccount,
)
from trading.withdrawals.models import WithdrawalAddress, WithdrawalLimit, WithdrawalPolicy

DEFAULT_PASSWORD = "a long test password 1"


def keypair_for(seed: bytes | None = None) -> tuple[str, str]:
    """(public key, secret) in base64 for `seed` (a random 32-byte seed by default)."""
    seed = seed if seed is not None else secrets.token_bytes(32)
    public = bytes(nacl.signing.SigningKey(seed).verify_key)
    return base64.b64encode(public).decode(), base64.b64encode(seed).decode()


@lru_cache(maxsize=32)
def _hashed(password: str, hasher: str) -> str:
    return make_password(password)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.test")
    is_staff = False
    is_superuser = False

    @factory.post_generation
    def password(self, create: bool, extracted: str | None, **kwargs: object) -> None:
        # Hashing is slow on purpose; one hash per (password, hasher) serves every test user.
        self.password = _hashed(extracted or DEFAULT_PASSWORD, settings.PASSWORD_HASHERS[0])
        if create:
            self.save(update_fields=["password"])


class SuperuserFactory(UserFactory):
    username = factory.Sequence(lambda n: f"root{n}")
    is_staff = True
    is_superuser = True


class SubaccountFactory(factory.django.DjangoModelFactory):
    """A subaccount with a sealed secret; pass `keypair=(public, secret)` to choose it."""

    class Meta:
        model = Subaccount
        exclude = ("keypair",)

    keypair = factory.LazyFunction(keypair_for)
    name = factory.Sequence(lambda n: f"Desk {n}")
    exchange_label = factory.LazyAttribute(lambda s: s.name)
    api_public_key = factory.LazyAttribute(lambda s: s.keypair[0])
    api_secret_sealed = factory.LazyAttribute(lambda s: crypto.seal(s.keypair[1]))
    is_active = True


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    subaccount = factory.SubFactory(SubaccountFactory)
    role = Role.VIEWER


class WithdrawalPolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WithdrawalPolicy
        django_get_or_create = ("subaccount",)

    subaccount = factory.SubFactory(SubaccountFactory)
    second_admin_required = True


class WithdrawalLimitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WithdrawalLimit

    subaccount = factory.SubFactory(SubaccountFactory)
    asset = "USDC"
    daily_limit = Decimal("1000")


class WithdrawalAddressFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WithdrawalAddress

    subaccount = factory.SubFactory(SubaccountFactory)
    blockchain = "Solana"
    address = factory.Sequence(lambda n: f"So1anaAddre55{n:030d}")
    label = factory.Sequence(lambda n: f"cold wallet {n}")
    confirmed_2fa_exempt = True
    added_by = factory.SubFactory(UserFactory)
    approved_by = None


class LowBalanceThresholdFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LowBalanceThreshold

    subaccount = factory.SubFactory(SubaccountFactory)
    asset = "USDC"
    minimum = Decimal("100")


class TOTPDeviceFactory(factory.django.DjangoModelFactory):
    """A confirmed authenticator; `totp_now(device)` in the accounts tests gives its code."""

    class Meta:
        model = TOTPDevice

    user = factory.SubFactory(UserFactory)
    name = "authenticator"
    confirmed = True
