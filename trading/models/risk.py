"""Risk limits per subaccount and member, headroom reserved by orders in flight, breaches.

A `RiskLimit` with `member` empty holds the subaccount's limits; one with a member holds that
member's own (the stricter of both applies to the member's orders). An empty limit field
means "no limit", which is an explicit, audited choice: a subaccount without any row gets
defaults relative to its equity before its first order (`trading.risk.services`).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

MONEY = {"max_digits": 36, "decimal_places": 18}


class RiskLimit(models.Model):
    """The limits of a subaccount (member empty) or of one member on it."""

    subaccount = models.ForeignKey(
        "accounts.Subaccount", on_delete=models.CASCADE, related_name="risk_limits"
    )
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="risk_limits",
    )
    max_order_notional = models.DecimalField(**MONEY, null=True, blank=True)
    max_position_notional_market = models.DecimalField(**MONEY, null=True, blank=True)
    max_position_notional_total = models.DecimalField(**MONEY, null=True, blank=True)
    max_open_orders = models.PositiveIntegerField(null=True, blank=True)
    max_leverage = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    allowed_markets = models.TextField(
        blank=True, help_text="Comma-separated symbols; empty means every market."
    )
    daily_loss_limit = models.DecimalField(**MONEY, null=True, blank=True)
    reduce_only = models.BooleanField(default=False)
    reduce_only_reason = models.CharField(max_length=200, blank=True)
    loss_stop_day = models.DateField(
        null=True, blank=True, help_text="UTC day the daily loss limit made this reduce-only."
    )
    loss_stop_reason = models.CharField(max_length=200, blank=True)
    loss_released_day = models.DateField(
        null=True, blank=True, help_text="UTC day an admin released the daily loss stop."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["subaccount__name", "member__username"]
        constraints = [
            models.UniqueConstraint(
                fields=["subaccount", "member"], name="one_risk_limit_per_member"
            ),
            models.UniqueConstraint(
                fields=["subaccount"],
                condition=models.Q(member__isnull=True),
                name="one_risk_limit_per_subaccount",
            ),
        ]

    def __str__(self) -> str:
        return f"risk limits of {self.member or 'everyone'} on {self.subaccount_id}"


class RiskReservation(models.Model):
    """Headroom taken by one order between the gate and the exchange's view of it.

    Created in the same short transaction as the check; deleted when the exchange refuses the
    order; once placed it still counts for exposure reads that started before `placed_at`
    (they cannot have seen it) and is forgotten after a short time; a running strategy's
    counts its remaining notional until the strategy ends.
    """

    # Not indexed alone: `reservation_in_flight` starts with it (one index fewer to write
    # per reservation, several per script order).
    subaccount = models.ForeignKey(
        "accounts.Subaccount",
        on_delete=models.CASCADE,
        related_name="risk_reservations",
        db_index=False,
    )
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    symbol = models.CharField(max_length=40)
    buy = models.BooleanField()
    notional = models.DecimalField(**MONEY)
    created_at = models.DateTimeField(auto_now_add=True)
    placed_at = models.DateTimeField(null=True, blank=True)
    # A running strategy (TWAP): the exchange's reads of positions and open orders never show
    # what it has still to execute, so its reservation counts, placed or not, until it ends
    # (cancelled, seen finished) or until `until` (its end with some slack) at the latest.
    strategy_id = models.CharField(max_length=40, blank=True, default="", db_default="")
    until = models.DateTimeField(null=True, blank=True)

    class Meta:
        # The gate's read of the reservations in flight (`risk.reservations`): those not
        # placed or placed lately, and those of running strategies; the expiry's sweep.
        indexes = [
            models.Index(
                fields=["subaccount", "placed_at", "created_at"], name="reservation_in_flight"
            ),
            models.Index(
                fields=["subaccount", "until"],
                name="reservation_strategy",
                condition=models.Q(until__isnull=False),
            ),
            models.Index(fields=["created_at"], name="reservation_age"),
        ]

    def __str__(self) -> str:
        return f"{self.symbol} {'buy' if self.buy else 'sell'} {self.notional}"


class RiskBreach(models.Model):
    """An order the gate refused: who, which limit, the message they read."""

    subaccount = models.ForeignKey(
        "accounts.Subaccount", on_delete=models.CASCADE, related_name="risk_breaches"
    )
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    member_name = models.CharField(max_length=150, blank=True)
    symbol = models.CharField(max_length=40)
    limit = models.CharField(max_length=40)
    message = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.member_name} {self.limit} {self.symbol}"


class KillProgress(models.Model):
    """How far one pull of the kill switch (`run`, chosen by the page) has got on one
    subaccount: the step it is at, and once done whether nothing is left open."""

    run = models.CharField(max_length=40)
    subaccount = models.ForeignKey(
        "accounts.Subaccount", on_delete=models.CASCADE, related_name="kill_progress"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, related_name="+"
    )
    step = models.CharField(max_length=300)
    done = models.BooleanField(default=False)
    clean = models.BooleanField(null=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["subaccount__name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "subaccount"], name="one_kill_progress_per_run")
        ]

    def __str__(self) -> str:
        return f"{self.run} {self.subaccount_id}: {self.step}"


class RiskDayStart(models.Model):
    """Unrealized PnL at the start of a day (in the team's time zone ``zone``) of one level of
    a subaccount (``level`` 0: the whole subaccount; otherwise a member's user id): what it
    held when the day began, valued at the marks of the day's first evaluation. The daily
    loss counts only today's change of unrealized PnL against it, not what accrued before
    today (`trading.risk.loss`)."""

    subaccount = models.ForeignKey(
        "accounts.Subaccount", on_delete=models.CASCADE, related_name="risk_day_starts"
    )
    level = models.BigIntegerField()
    day = models.DateField()
    zone = models.CharField(max_length=64, default="UTC")  # the day's time zone
    unrealized = models.DecimalField(**MONEY)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["subaccount", "level", "day", "zone"], name="one_risk_day_start_per_zone"
            )
        ]

    def __str__(self) -> str:
        return f"{self.subaccount_id}/{self.level} {self.day}: {self.unrealized}"
