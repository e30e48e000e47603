"""The ledger: each subaccount's own record of what happened on the exchange.

One row per exchange event (a fill, a funding payment, a settlement, a deposit, a
withdrawal), unique on (subaccount, kind, exchange id) so a sync that reads a row twice
stores it once; one cursor per (subaccount, history) says where the next sync resumes.
Rows are written only by `trading.ledger.services.ledger_sync`.
"""

from __future__ import annotations

from django.db import models

from accounts.models import MONEY, Subaccount


class LedgerEntry(models.Model):
    """One exchange event of one subaccount, as the exchange's history gave it.

    ``exchange_id`` per kind: fill ``<symbol>:<tradeId>:<side>``; funding
    ``<symbol>:<interval end ISO>``; settlement the engine sequence; deposit and withdrawal
    their id. A fill of an order the exchange made on the desk's behalf (a TWAP slice, a
    take-profit / stop-loss leg) carries no clientId: the sync gives it the clientId of the
    desk ticket that made the order and says how in ``origin`` (`trading.ledger.origins`).
    ``quantity`` is the fill's quantity (positive), the signed USDC amount of a funding
    payment or settlement (positive received), or the amount moved by a transfer.
    """

    class Kind(models.TextChoices):
        FILL = "fill", "Fill"
        FUNDING = "funding", "Funding payment"
        SETTLEMENT = "settlement", "Settlement"
        DEPOSIT = "deposit", "Deposit"
        WITHDRAWAL = "withdrawal", "Withdrawal"

    subaccount = models.ForeignKey(
        Subaccount, on_delete=models.CASCADE, related_name="ledger_entries"
    )
    kind = models.CharField(max_length=12, choices=Kind.choices)
    exchange_id = models.CharField(max_length=80)
    occurred_at = models.DateTimeField()
    symbol = models.CharField(max_length=40)
    side = models.CharField(max_length=8, blank=True)
    quantity = models.DecimalField(**MONEY)
    price = models.DecimalField(**MONEY, null=True, blank=True)
    fee = models.DecimalField(**MONEY, default=0)
    fee_symbol = models.CharField(max_length=20, blank=True)
    is_maker = models.BooleanField(null=True)
    order_id = models.CharField(max_length=40, blank=True)
    client_id = models.PositiveBigIntegerField(null=True, blank=True)
    origin = models.CharField(  # a default in the database too (previous release's inserts)
        max_length=60,
        blank=True,
        db_default="",
        help_text="A fill of an order the exchange made for a desk ticket: 'strategy <id>'"
        " (a TWAP slice) or 'order <id>' (a take-profit / stop-loss leg of that order);"
        " client_id is then that ticket's, as the exchange gave none.",
    )
    position_id = models.CharField(max_length=40, blank=True)
    source = models.CharField(
        max_length=60, blank=True, help_text="Settlement source, deposit source or status."
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["subaccount", "occurred_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["subaccount", "kind", "exchange_id"], name="ledger_entry_once"
            )
        ]
        indexes = [
            models.Index(fields=["subaccount", "kind", "occurred_at"], name="ledger_sub_kind_time"),
        ]

    def __str__(self) -> str:
        return f"{self.subaccount_id} {self.kind} {self.exchange_id}"


class LedgerCursor(models.Model):
    """Where the ledger's sync of one history of one subaccount resumes (a
    ``HistoryCursor`` as text), and how many rows it has read so far (the backfill's
    progress)."""

    subaccount = models.ForeignKey(
        Subaccount, on_delete=models.CASCADE, related_name="ledger_cursors"
    )
    history = models.CharField(max_length=40)
    cursor = models.TextField()
    rows_read = models.PositiveBigIntegerField(default=0)
    done = models.BooleanField(
        default=False, help_text="The last walk reached the end of the history."
    )
    synced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["subaccount", "history"], name="ledger_cursor_once")
        ]

    def __str__(self) -> str:
        return f"{self.subaccount_id} {self.history} {self.rows_read}"


class PnlCheckpoint(models.Model):
    """The PnL fold of one subaccount's ledger (fills and funding payments, oldest first)
    as it stood after its last row of one day, in one time zone, so a reader starts from
    here instead of the ledger's first row.

    ``state`` holds what the fold held after the row ``(through_at, through_id)`` (the
    ``(occurred_at, id)`` order the ledger is folded in): the open holdings, that day's
    (market, member) lines and the positions closed that day, every number as exact text.
    ``seen_id`` is the largest ledger id there was when it was written: a row stored since
    (a larger id) that sorts at or before ``through`` makes it stale, and it is rebuilt
    from the checkpoint before that row. Written only by
    :mod:`trading.ledger.checkpoints`.
    """

    subaccount = models.ForeignKey(
        Subaccount, on_delete=models.CASCADE, related_name="pnl_checkpoints"
    )
    zone = models.CharField(max_length=64)
    day = models.DateField()
    through_at = models.DateTimeField()
    through_id = models.BigIntegerField()
    seen_id = models.BigIntegerField()
    folded = models.PositiveBigIntegerField(help_text="Ledger rows folded up to through.")
    state = models.JSONField()
    written_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["subaccount", "zone", "day"], name="pnl_checkpoint_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.subaccount_id} {self.zone} {self.day}"


class PnlReconciliation(models.Model):
    """One day's reconciliation of a subaccount's ledger with its equity (the overview's
    latest, `trading.ledger.latest`), as the ledger stood when it was computed, so a
    reader after a restart reads it instead of folding the ledger again.

    The interval is the one between two balance snapshots (``start_at``, ``end_at``); the
    ledger's part of it is kept, every number as exact text in ``figures`` (realized, fees,
    funding, unrealized change: the same in every time zone). The equity change and the
    transfers are read again with the snapshots each time. ``seen_id`` is the largest
    ledger id there was when it was computed: a fill or funding payment stored since (a
    larger id) up to ``end_at`` makes it stale, and it is computed and written again.
    Written only by :mod:`trading.ledger.reconciled`.
    """

    subaccount = models.ForeignKey(
        Subaccount, on_delete=models.CASCADE, related_name="pnl_reconciliations"
    )
    start_at = models.DateTimeField()
    end_at = models.DateTimeField()
    seen_id = models.BigIntegerField()
    figures = models.JSONField()
    written_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["subaccount", "start_at", "end_at"], name="pnl_reconciliation_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.subaccount_id} {self.start_at} {self.end_at}"
