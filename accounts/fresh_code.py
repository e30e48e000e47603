"""The one check of a fresh two-factor code before a money or limit setting changes."""

from __future__ import annotations

from typing import Any

from accounts.audit import audit_record
from accounts.errors import ServiceError
from accounts.twofactor import CodeThrottled, code_check

WRONG_CODE = "That two-factor code is not right (or was used already). Type the current code."
NO_CODE = "Type the current two-factor code from your authenticator app: this change needs one."


def fresh_code_require(
    *, actor: Any, otp_code: str, subaccount: Any | None, action: str, ip: str | None
) -> None:
    """Accept ``otp_code`` (TOTP or a backup code, each usable once) or record the refused
    ``action`` in the audit trail and raise a ``ServiceError`` on the code's field: no code
    typed, the wrong code, or how long to wait while wrong codes before hold the device."""
    try:
        if not otp_code.strip():
            refusal = ServiceError(NO_CODE, field="otp_code")
            detail = "no two-factor code typed"
        elif code_check(actor, otp_code) is not None:
            return
        else:
            refusal = ServiceError(WRONG_CODE, field="otp_code")
            detail = "two-factor code not accepted"
    except CodeThrottled as throttled:
        refusal = CodeThrottled(throttled.wait_s, field="otp_code")
        detail = "two-factor code not checked: too many wrong codes before it"
    audit_record(
        actor=actor, action=action, subaccount=subaccount, result="denied", detail=detail, ip=ip
    )
    raise refusal
