"""Helpers for the accounts tests: cheap password hashing, TOTP codes, verified sessions."""

from __future__ import annotations

import pytest
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import TOTPDeviceFactory


@pytest.fixture(autouse=True)
def _fast_passwords(settings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def totp_now(device: TOTPDevice) -> str:
    """The code the user's authenticator app shows right now."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def fresh_totp(device: TOTPDevice) -> str:
    """A code the device will accept even if this time step was used already (tests only)."""
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1, throttling_failure_count=0)
    device.refresh_from_db()
    return totp_now(device)


def fresh_code_for(user) -> str:
    """A fresh code of the user's authenticator, which is created if they have none yet."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return fresh_totp(device or TOTPDeviceFactory(user=user))


def verified_client(user, client: Client | None = None) -> Client:
    """A client signed in as `user` whose session passed two-factor (creates a device)."""
    client = client or Client()
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or TOTPDeviceFactory(
        user=user
    )
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def signed_in_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client
