"""Withdrawal requests: the local record written before the exchange is ever called.

Each request carries its own `client_id` (the idempotency key sent to the exchange as
`clientId`), so a request whose answer was lost is found again in the exchange's withdrawal
history instead of being sent a second time. The rules live in `trading.withdrawals.services`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from accounts.models import MONEY, Subaccount, WithdrawalAddress
from trading.formatting import plain


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

    # Statuses that do not count against the daily limit: nothing left the account.
    NOT_COUNTED = (Status.REJECTED, Status.FAILED)

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
    reject_reason = models.CharField(max_length=200, blank=True)
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
