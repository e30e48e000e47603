"""Two-factor authentication: TOTP enrolment with an inline QR code, backup codes, checks.

Built on django-otp: a `TOTPDevice` named "authenticator" (confirmed once the user types a
first code) and a `StaticDevice` named "backup" holding ten one-time backup codes.

A session remembers a stamp of its user's confirmed devices; when they change (an authenticator
enrolled, replaced or removed, from any session or the admin), every other session of that user
ends (`DeviceChangeSignOut`), the way Django ends them when the password changes. The session
that made the change keeps going (`session_device_stamp_keep`, like `update_session_auth_hash`).
"""

from __future__ import annotations

import math
from typing import Any

import segno
from django.db.models import Value
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import ngettext
from django_otp import verify_token
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.audit import audit_record
from accounts.errors import ServiceError

DEVICE_STAMP_SESSION_KEY = "accounts_device_stamp"
TOTP_NAME = "authenticator"
BACKUP_NAME = "backup"
BACKUP_CODE_COUNT = 10


def has_confirmed_totp(user: Any) -> bool:
    """True when the user has finished TOTP enrolment."""
    if user is None or not user.is_authenticated:
        return False
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def has_any_device(user: Any) -> bool:
    """True when sign-in must ask this user for a code."""
    return (
        TOTPDevice.objects.filter(user=user, confirmed=True).exists()
        or StaticDevice.objects.filter(user=user, confirmed=True).exists()
    )


def totp_device_pending(user: Any) -> TOTPDevice:
    """The user's unconfirmed TOTP device, created on first use (one per enrolment)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_NAME, confirmed=False)
    return device


def qr_svg(text: str) -> str:
    """An inline SVG QR code of `text` (rendered locally, nothing leaves the server)."""
    return segno.make(text, error="m").svg_inline(scale=4, dark="#000", light="#fff")


def totp_base32(device: TOTPDevice) -> str:
    """The device's secret as base32, for typing into an app by hand."""
    import base64

    return base64.b32encode(device.bin_key).decode().rstrip("=")


def totp_enrol_confirm(*, actor: Any, code: str, ip: str | None = None) -> tuple[Device, list[str]]:
    """Confirm the pending TOTP device with a first `code`; return it and new backup codes.

    Raises ValueError("That code is not right ...") when the code does not match.
    """
    device = totp_device_pending(actor)
    if not device.verify_token(code.strip().replace(" ", "")):
        audit_record(actor=actor, action="totp_enrol", result="failed", ip=ip)
        raise ValueError(
            "That code is not right. Check the clock of your phone and type the current code."
        )
    TOTPDevice.objects.filter(user=actor, confirmed=True).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    codes = backup_codes_renew(actor)
    audit_record(actor=actor, action="totp_enrol", ip=ip)
    return device, codes


def backup_codes_renew(user: Any) -> list[str]:
    """Replace the user's backup codes with ten new ones and return them (shown once)."""
    device, _ = StaticDevice.objects.get_or_create(
        user=user, name=BACKUP_NAME, defaults={"confirmed": True}
    )
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(BACKUP_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=c) for c in codes)
    return codes


class CodeThrottled(ServiceError):
    """Wrong codes typed before hold the device that would check this one: django-otp's
    throttling refuses every code, right or wrong, for 1, 2, 4 ... seconds after each wrong
    one (times OTP_TOTP_THROTTLE_FACTOR or OTP_STATIC_THROTTLE_FACTOR). `wait_s`: seconds
    until it checks codes again."""

    def __init__(self, wait_s: int, *, field: str | None = None) -> None:
        self.wait_s = wait_s
        wait = ngettext("%(n)d second", "%(n)d seconds", wait_s) % {"n": wait_s}
        super().__init__(
            f"Too many wrong codes: wait {wait}, then type the current code.", field=field
        )


def _wait_s(refusal: dict[str, Any] | None) -> int:
    """Whole seconds (at least 1) until a device django-otp holds checks codes again."""
    locked_until = (refusal or {}).get("locked_until")
    if locked_until is None:
        return 1
    return max(1, math.ceil((locked_until - timezone.now()).total_seconds()))


def _devices_for(user: Any, code: str) -> list[Device]:
    """The devices that may check `code`: the authenticator a code of its digits, the backup
    codes any other. django-otp counts every code a device refuses as a failure and then
    holds it, so a code meant for one device is never tried on the other."""
    totp = [
        device
        for device in TOTPDevice.objects.filter(user=user, confirmed=True)
        if code.isascii() and code.isdigit() and len(code) == device.digits
    ]
    return totp or list(StaticDevice.objects.filter(user=user, confirmed=True))


def code_check(user: Any, code: str) -> Device | None:
    """The device that accepts `code` (an authenticator code, or a backup code), or None.

    Raises `CodeThrottled` when wrong codes before hold the device that would check it: the
    code was not checked, and the person should hear how long to wait rather than that it
    is wrong."""
    code = "".join((code or "").split())
    if not code or user is None or not user.is_authenticated:
        return None
    for device in _devices_for(user, code):
        allowed, refusal = device.verify_is_allowed()
        if not allowed:
            raise CodeThrottled(_wait_s(refusal))
        verified = verify_token(user, device.persistent_id, code)
        if verified is not None:
            return verified
    return None


def session_is_verified(request: Any) -> bool:
    """True when this session passed a two-factor check (django-otp's `is_verified`)."""
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated and user.is_verified())


def device_stamp(user: Any) -> str:
    """A digest of the user's confirmed devices: it changes when one is added or removed.
    One query (both device tables at once): it runs on every request of a signed-in user."""
    totp = (
        TOTPDevice.objects.filter(user=user, confirmed=True)
        .annotate(kind=Value(0))
        .values_list("kind", "pk")
    )
    static = (
        StaticDevice.objects.filter(user=user, confirmed=True)
        .annotate(kind=Value(1))
        .values_list("kind", "pk")
    )
    names = (TOTPDevice.__name__, StaticDevice.__name__)
    ids = [f"{names[kind]}/{pk}" for kind, pk in sorted(totp.union(static, all=True))]
    return salted_hmac(DEVICE_STAMP_SESSION_KEY, ",".join(ids), algorithm="sha256").hexdigest()


def session_device_stamp_current(request: Any) -> bool:
    """False when the signed-in user's devices changed since this session last saw them; a
    session that has not seen them yet (just signed in) takes the current ones."""
    if DEVICE_STAMP_SESSION_KEY not in request.session:
        session_device_stamp_keep(request)
        return True
    return session_devices_unchanged(session=request.session, user=request.user)


def session_devices_unchanged(*, session: Any, user: Any) -> bool:
    """False when `user`'s devices changed since `session` noted them (True if it never did)."""
    seen = session.get(DEVICE_STAMP_SESSION_KEY)
    return seen is None or constant_time_compare(seen, device_stamp(user))


def session_device_stamp_keep(request: Any) -> None:
    """After this session changed its own user's devices: keep it signed in."""
    request.session[DEVICE_STAMP_SESSION_KEY] = device_stamp(request.user)
