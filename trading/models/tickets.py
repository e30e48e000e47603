"""One-time order ticket tokens: a double click or a resubmitted form never makes two orders.

The ticket form carries a random token. The first submit records it here with the `clientId`
the order is sent with; a second submit with the same token finds the record and answers with
the first submit's order (looked up by that `clientId`) instead of placing again.

A ticket names the member behind its order: by the order id once the exchange gave one, by
the ``clientId`` only until then (clientIds are not unique: `trading.desk_tickets`). It
also names the member behind the orders the exchange makes on the desk's behalf:
a TWAP's slices (the ticket of the TWAP carries the ``strategy_id``) and the take-profit /
stop-loss legs of an order (their ``relatedOrderId`` is the ticket's ``order_id``).

The token is kept 30 days (`trading.services.TICKETS_KEPT`), then forgotten (set to NULL)
while the ticket stays: the ledger folds fills of any age again (a new time zone, a backfill,
a late fill) and asks whose each one is, and an order may rest on the book for months. Only
a refused ticket, which never named an order, is deleted then (`tickets_forget_old`).
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

    token = models.CharField(  # NULL once forgotten: many such, each unique is no clash
        max_length=64,
        unique=True,
        null=True,
        blank=True,
        help_text="The ticket form's one-time token; forgotten (empty) after 30 days, when"
        " a resubmit of it places a new order. The ticket still names its order's member.",
    )
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
    strategy_id = models.CharField(  # a default in the database too: the gateway's plain SQL
        max_length=40,  # and a process of the previous release insert tickets without it
        blank=True,
        db_default="",
        help_text="A TWAP's ticket: the exchange's strategy id (client_id is its"
        " clientStrategyId); the strategy's slices are the member's orders.",
    )
    message = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["subaccount", "order_id"], name="ticket_sub_order"),
            models.Index(fields=["subaccount", "strategy_id"], name="ticket_sub_strategy"),
            # an order still waiting for its order id is found by its clientId, and the desk
            # checks a clientId is free before handing it out (`trading.desk_tickets`)
            models.Index(fields=["subaccount", "client_id"], name="ticket_sub_client"),
        ]

    def __str__(self) -> str:
        token = self.token[:8] if self.token else "(forgotten)"
        return f"ticket {token}… {self.symbol} clientId {self.client_id}"
