"""The team's settings: the time zone its days are counted in.

``team_time_zone()`` is what every read model asks (UTC until an admin chooses another);
``team_time_zone_set`` is the one way to change it: an admin of any subaccount (or a
superuser), an IANA zone name that ``zoneinfo`` knows, a fresh two-factor code (the daily
loss limits start a new day at the zone's midnight), and an audit record either way. The
settings page calls it through ``trading.ledger.zones.team_zone_set``, which also builds the
new zone's PnL checkpoints in the background.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import available_timezones

from accounts.audit import audit_record
from accounts.errors import TEAM_SETTINGS_HINT, Refusal
from accounts.fresh_code import fresh_code_require
from accounts.models import AuditEvent, Role, TeamSetting
from accounts.permissions import subaccounts_visible_to

DEFAULT_ZONE = "UTC"
ACTION = "team.time_zone"


class TeamSettingError(ValueError):
    """A team setting that cannot be taken, with the message to show beside the field."""


def team_time_zone() -> str:
    """The team's time zone (an IANA name; UTC when none was chosen)."""
    found = TeamSetting.objects.filter(pk=1).values_list("time_zone", flat=True).first()
    return found or DEFAULT_ZONE


def can_set_team(user: Any) -> bool:
    """Superusers and admins of at least one subaccount set the team's settings."""
    return subaccounts_visible_to(user, min_role=Role.ADMIN).exists()


def zone_parse(text: str) -> str:
    """``text`` as an IANA time zone name, or :class:`TeamSettingError` saying why not."""
    name = (text or "").strip()
    if not name:
        raise TeamSettingError("Enter a time zone, such as UTC or Europe/Berlin.")
    if name not in available_timezones():
        raise TeamSettingError(
            f"“{name[:64]}” is not a time zone name; use one like UTC, Europe/Berlin or "
            "America/New_York."
        )
    return name


def team_time_zone_set(*, actor: Any, zone: str, otp_code: str, ip: str | None = None) -> str:
    """Set the team's time zone to ``zone`` (validated, then the actor's fresh two-factor
    code taken, audited); returns the name kept. A name zoneinfo does not know raises
    :class:`TeamSettingError` (audited as failed); a missing or wrong code a ``ServiceError``
    on ``otp_code`` (audited as denied). Nothing changes either way."""
    if not can_set_team(actor):
        raise Refusal("Only an admin may change the team's settings.", hint=TEAM_SETTINGS_HINT)
    before = team_time_zone()
    try:
        name = zone_parse(zone)
    except TeamSettingError as error:
        audit_record(
            actor=actor,
            action=ACTION,
            parameters={"from": before, "to": (zone or "")[:64]},
            result=AuditEvent.Result.FAILED,
            detail=str(error),
            ip=ip,
        )
        raise
    fresh_code_require(actor=actor, otp_code=otp_code, subaccount=None, action=ACTION, ip=ip)
    TeamSetting.objects.update_or_create(pk=1, defaults={"time_zone": name})
    audit_record(actor=actor, action=ACTION, parameters={"from": before, "to": name}, ip=ip)
    return name


__all__ = [
    "DEFAULT_ZONE",
    "TeamSettingError",
    "can_set_team",
    "team_time_zone",
    "team_time_zone_set",
    "zone_parse",
]
