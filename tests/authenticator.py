"""Authenticator codes for browser tests that type them, as a phone app shows them."""

from __future__ import annotations

import time

from django_otp.oath import TOTP

STEP_S = 30
LAST_SECONDS = 5


def authenticator_code(key: bytes, *, steps_ahead: int = 0) -> str:
    """The code for `key`, `steps_ahead` 30-second steps from now (the device accepts one
    step of drift; a code is used once, so a second action takes the next one).

    A code for now is not taken in a step's last 5 s: sent across the step's end, django-otp
    takes it as a step behind, moves the device's drift back one step, and then refuses the
    next step's code (CI saw "That two-factor code is not right" on the kill form once)."""
    left = STEP_S - time.time() % STEP_S
    if steps_ahead == 0 and left < LAST_SECONDS:
        time.sleep(left + 0.1)
    totp = TOTP(key)
    totp.time = time.time() + STEP_S * steps_ahead
    return f"{totp.token():06d}"
