"""Changing the team's time zone: the setting saved at once, that zone's PnL checkpoints built
in the background.

The checkpoints keep each day's lines in one zone (`trading.ledger.checkpoints`). A zone
nobody has read yet has none, and building them folds every subaccount's whole ledger
(minutes for millions of rows), too long for a save or for the first overview after it. So
`team_zone_set` saves and audits the zone (`accounts.team.team_time_zone_set`) and, once
that is committed, starts one background thread that builds the zone's checkpoints
subaccount by subaccount. Until a subaccount's are built, its running fold starts from
another zone's checkpoint and folds today's rows in the new zone
(`trading.ledger.running`), so the overview's figures are right meanwhile; a page that
needs past days in the new zone builds that subaccount's checkpoints itself.

Usage::

    name = team_zone_set(actor=user, zone="Asia/Tokyo", otp_code=code, ip=ip)  # at once
    zone_builds_wait(timeout=60)                          # tests: the build is done
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from django.db import connection, transaction

from accounts.team import team_time_zone, team_time_zone_set
from trading.ledger.checkpoints import checkpoints_update
from trading.models.ledger import LedgerEntry

log = logging.getLogger(__name__)

_BUILDS: list[threading.Thread] = []
_LOCK = threading.Lock()


def zone_checkpoints_build(zone: str) -> int:
    """Build ``zone``'s checkpoints of every subaccount with a ledger (those already current
    cost one query); stops early when the team's zone changed again. Returns the subaccounts
    built."""
    ids = list(
        LedgerEntry.objects.order_by("subaccount_id")
        .values_list("subaccount_id", flat=True)
        .distinct()
    )
    built = 0
    for subaccount_id in ids:
        if team_time_zone() != zone:
            log.info("team zone changed again: stopped building %s checkpoints", zone)
            break
        checkpoints_update(subaccount_id, zone)
        built += 1
    return built


def _build(zone: str) -> None:
    try:
        built = zone_checkpoints_build(zone)
        log.info("PnL checkpoints in %s built for %d subaccounts", zone, built)
    except Exception:  # noqa: BLE001 - a reader builds what is missing itself
        log.exception("building the PnL checkpoints in %s failed", zone)
    finally:
        # This thread's own connection; in the scaled run it goes back to the pool, which a
        # thread that ended holding it would have lost for good.
        connection.close()


def zone_checkpoints_start(zone: str) -> threading.Thread:
    """Start building ``zone``'s checkpoints in a background thread (returned)."""
    thread = threading.Thread(target=_build, args=(zone,), name=f"checkpoints-{zone}", daemon=True)
    with _LOCK:
        _BUILDS[:] = [t for t in _BUILDS if t.is_alive()]
        _BUILDS.append(thread)
    thread.start()
    return thread


def zone_builds_wait(timeout: float | None = None) -> bool:
    """Wait for the builds started in this process; True when none is still running."""
    with _LOCK:
        running = list(_BUILDS)
    for thread in running:
        thread.join(timeout)
    return not any(t.is_alive() for t in running)


def team_zone_set(*, actor: Any, zone: str, otp_code: str, ip: str | None = None) -> str:
    """Set the team's time zone (`accounts.team.team_time_zone_set`: admins only, validated,
    a fresh two-factor code, audited) and, once the change is committed, build that zone's
    PnL checkpoints in the background. Returns the zone's name."""
    before = team_time_zone()
    name = team_time_zone_set(actor=actor, zone=zone, otp_code=otp_code, ip=ip)
    if name != before:
        transaction.on_commit(lambda: zone_checkpoints_start(name))
    return name


__all__ = [
    "team_zone_set",
    "zone_builds_wait",
    "zone_checkpoints_build",
    "zone_checkpoints_start",
]
