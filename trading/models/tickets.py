"""One-time order ticket tokens: a double click or a resubmitted form never makes two orders.

The ticket form carries a random token. The first submit records it here with the `clientId`
the order is sent with; a second submit with the same token finds the record and answers with
the first submit's order (looked up by that `clientId`) instead of placing again.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class OrderTicket(models.Model):
    """A submitted order ticket: its token, the clientId it was sent with, and the outcome."""

    class Outcome(models.TextChoices):
        PENDING = "pending", "Being sent"
        PLACED = "placed", "Placed"
        REJECTED = "rejected", "Rejected"

    token = models.CharField(max_length=64, unique=True)
    client_id = models.PositiveBigIntegerField()
    subaccount = models.ForeignKey(
        "accounts.Subaccount", on_delete=models.CASCADE, related_name="order_tickets"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    symbol = models.CharField(max_length=40)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.PENDING)
    order_id = models.CharField(max_length=40, blank=True)
    message = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"ticket {self.token[:8]}… {self.symbol} clientId {self.client_id}"
