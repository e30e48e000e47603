"""Withdrawals' records: the address book, the policy and daily limits, and the requests.

The address book, policy and limits were first made in the `accounts` app; their tables keep
those names (`db_table`), so the rows of earlier releases are read as they are.

A withdrawal request is the local record written before the exchange is ever called. Each
carries its own `client_id` (the idempotency key sent to the exchange as `clientId`), so a
request whose answer was lost is found again in the exchange's withdrawal history instead of
being sent a second time. The rules live in `trading.withdrawals.services`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from accounts.models import MONEY, Subaccount
from trading.formatting import plain


class WithdrawalPolicy(models.Model):
    """Per-subaccount withdrawal rules; limits per asset are `WithdrawalLimit` rows.

    A subaccount without a row has the defaults (a second admin approves each address).
    """

    subaccount = models.OneToOneField(
        Subaccount, on_delete=models.CASCADE, related_name="withdrawal_policy"
    )
    second_admin_required = models.BooleanField(
        default=True, help_text="A second admin approves each new address."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "accounts_withdrawalpolicy"

    def __str__(self) -> str:
        return f"withdrawal policy of {self.subaccount}"


class WithdrawalAddress(models.Model):
    """An entry of a subaccount's withdrawal address book."""

    subaccount = models.ForeignKey(
        Subaccount, on_delete=models.CASCADE, related_name="withdrawal_addresses"
    )
    blockchain = models.CharField(max_length=40)
    address = models.CharField(max_length=200)
    label = models.CharField(max_length=80, blank=True)
    confirmed_2fa_exempt = models.BooleanField(
        default=False, help_text="Confirmed as a 2FA-exempt address on the exchange."
    )
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "accounts_withdrawaladdress"
        ordering = ["subaccount__name", "blockchain", "label"]
        constraints = [
            models.UniqueConstraint(
                fields=["subaccount", "blockchain", "address"], name="one_address_per_chain"
            )
        ]

    def __str__(self) -> str:
        return f"{self.label or self.address} ({self.blockchain})"

    @property
    def usable(self) -> bool:
        """Confirmed on the exchange and, when the policy asks for it (as the default policy
        does), approved."""
        if not self.confirmed_2fa_exempt:
            return False
        policy = getattr(self.subaccount, "withdrawal_policy", None)
        second_admin_required = policy is None or policy.second_admin_required
        return self.approved_by_id is not None or not second_admin_required


class WithdrawalLimit(models.Model):
    """Daily withdrawal limit of one asset on one subaccount."""

    subaccount = models.ForeignKey(
        Subaccount, on_delete=models.CASCADE, related_name="withdrawal_limits"
    )
    asset = models.CharField(max_length=20)
    daily_limit = models.DecimalField(**MONEY)

    class Meta:
        db_table = "accounts_withdrawallimit"
        ordering = ["asset"]
        constraints = [
            models.UniqueConstraint(fields=["subaccount", "asset"], name="one_limit_per_asset")
        ]

    def __str__(self) -> str:
        return f"{self.asset} {plain(self.daily_limit)}/day"


class WithdrawalRequest(models.Model):
    """One withdrawal asked for by an admin, from request to the exchange's answer."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for a second admin"
        APPROVED = "approved", "Approved, not sent yet"
        SENDING = "sending", "Being sent"
        UNKNOWN = "unknown", "Answer lost, checking the exchange"
        SENT = "sent", "Sent to the exchange"
        FAILED = "failed", "Refused by the exchange"
        REJECTED = "rejected", "Rejected"
        CANCELLED = "cancelled", "Cancelled"

    # Statuses that do not count against the daily limit: nothing left the account.
    NOT_COUNTED = (Status.REJECTED, Status.FAILED, Status.CANCELLED)
    # Statuses a removed address cancels: nothing was sent, and nothing is being sent.
    NOT_SENT_YET = (Status.PENDING, Status.APPROVED)

    subaccount = models.ForeignKey(
        Subaccount, on_delete=models.PROTECT, related_name="withdrawal_requests"
    )
    address_entry = models.ForeignKey(
        WithdrawalAddress, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    asset = models.CharField(max_length=20)
    blockchain = models.CharField(max_length=40)
    address = models.CharField(max_length=200)
    address_label = models.CharField(max_length=80, blank=True)
    quantity = models.DecimalField(**MONEY)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    client_id = models.CharField(max_length=64, unique=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    reject_reason = models.CharField(max_length=200, blank=True)  # why rejected or cancelled
    send_attempts = models.PositiveIntegerField(default=0)
    exchange_id = models.CharField(max_length=40, blank=True)
    exchange_status = models.CharField(max_length=40, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["subaccount", "asset", "created_at"], name="wdr_sub_asset_day"),
        ]

    def __str__(self) -> str:
        return f"{plain(self.quantity)} {self.asset} to {self.address} ({self.status})"
