"""Who may do what with which subaccount: records, members, thresholds, audit trail.

The withdrawal address book, policy and limits live with the withdrawals
(`trading.withdrawals.models`).

Models hold data only; the rules that change them live in `accounts.services`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models

from trading.formatting import plain


class Role(models.TextChoices):
    """A member's role on one subaccount; each role includes the ones before it."""

    VIEWER = "viewer", "Viewer"
    TRADER = "trader", "Trader"
    ADMIN = "admin", "Admin"

    @property
    def rank(self) -> int:
        return ROLE_RANK[self]


ROLE_RANK = {Role.VIEWER: 1, Role.TRADER: 2, Role.ADMIN: 3}

MONEY = {"max_digits": 36, "decimal_places": 18}
PERCENT = {"max_digits": 9, "decimal_places": 4}

# The fat-finger guard every subaccount has, new or old, until an admin changes it.
DEFAULT_CONFIRM_EQUITY_PCT = Decimal("10")
DEFAULT_CONFIRM_PRICE_PCT = Decimal("5")


class Subaccount(models.Model):
    """One exchange subaccount the team runs, with its API keypair (secret sealed at rest)."""

    name = models.CharField(max_length=80, unique=True)
    exchange_label = models.CharField(
        max_length=80, blank=True, help_text="The subaccount's label on the exchange."
    )
    api_public_key = models.CharField(
        max_length=64, help_text="Canonical base64; one subaccount per key."
    )
    legacy_shared_key = models.BooleanField(
        default=False,
        help_text="Registered, before the desk refused it, with a key an older subaccount has; "
        "the one-subaccount-per-key rule leaves it out until its key is rotated.",
    )
    api_secret_sealed = models.TextField(help_text="Sealed with the key-encryption key.")
    is_active = models.BooleanField(default=True)
    notes = models.TextField(blank=True)
    order_confirm_notional = models.DecimalField(
        **MONEY,
        null=True,
        blank=True,
        help_text="Orders above this notional ask for a second confirmation.",
    )
    order_confirm_equity_pct = models.DecimalField(
        **PERCENT,
        default=DEFAULT_CONFIRM_EQUITY_PCT,
        help_text="Orders whose notional is above this share (%) of the subaccount's equity "
        "ask for a second confirmation.",
    )
    order_confirm_price_pct = models.DecimalField(
        **PERCENT,
        default=DEFAULT_CONFIRM_PRICE_PCT,
        help_text="Limit orders priced more than this (%) through the best opposite price "
        "ask for a second confirmation.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["api_public_key"],
                condition=models.Q(legacy_shared_key=False),
                name="one_subaccount_per_api_key",
            )
        ]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A user's role on a subaccount."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    subaccount = models.ForeignKey(Subaccount, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["subaccount__name", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["user", "subaccount"], name="one_membership_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.user} is {self.role} on {self.subaccount}"


class LowBalanceThreshold(models.Model):
    """Warn when a subaccount's balance of `asset` falls below `minimum`."""

    subaccount = models.ForeignKey(
        Subaccount, on_delete=models.CASCADE, related_name="low_balance_thresholds"
    )
    asset = models.CharField(max_length=20)
    minimum = models.DecimalField(**MONEY)

    class Meta:
        ordering = ["asset"]
        constraints = [
            models.UniqueConstraint(fields=["subaccount", "asset"], name="one_threshold_per_asset")
        ]

    def __str__(self) -> str:
        return f"{self.asset} >= {plain(self.minimum)}"


class AuditEventError(Exception):
    """An audit event was about to be changed or deleted; the trail is append-only."""


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> int:
        raise AuditEventError("audit events are append-only: they cannot be updated")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AuditEventError("audit events are append-only: they cannot be deleted")


class AuditEvent(models.Model):
    """One change someone made: who, what, which subaccount, parameters, result, where from."""

    class Result(models.TextChoices):
        OK = "ok", "OK"
        FAILED = "failed", "Failed"
        DENIED = "denied", "Denied"

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="audit_events",
    )
    actor_name = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=60, db_index=True)
    subaccount = models.ForeignKey(
        Subaccount,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="audit_events",
    )
    subaccount_name = models.CharField(max_length=80, blank=True)
    parameters = models.JSONField(default=dict, blank=True)
    result = models.CharField(max_length=10, choices=Result.choices, default=Result.OK)
    detail = models.TextField(blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.actor_name} {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None or kwargs.get("force_update"):
            raise AuditEventError("audit events are append-only: they cannot be updated")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AuditEventError("audit events are append-only: they cannot be deleted")


class UserPreference(models.Model):
    """What a user chose for the look of the dashboard, remembered on every device."""

    class Theme(models.TextChoices):
        LIGHT = "light", "Light"
        DARK = "dark", "Dark"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preference"
    )
    theme = models.CharField(max_length=10, choices=Theme.choices, default=Theme.LIGHT)

    def __str__(self) -> str:
        return f"{self.user}: {self.theme}"


class TeamSetting(models.Model):
    """The team's own settings, one row (pk 1): the time zone its days are counted in
    (today's PnL on the overview, the PnL calendar, per-day tables). Changed only through
    `accounts.team.team_time_zone_set` (audited)."""

    time_zone = models.CharField(max_length=64, default="UTC")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"team settings (time zone {self.time_zone})"
