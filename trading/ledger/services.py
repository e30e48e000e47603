"""Keeping the ledger current: each history of a subaccount walked from its stored cursor.

``ledger_sync`` reads fills, funding payments, settlements, deposits and withdrawals page by
page (``walk_history``, within the historical budget) and stores each page together with the
cursor after it, in one short transaction opened only once the page is in hand: the exchange
is never called inside a transaction. Rows are unique on (subaccount, kind, exchange id), so
a page read twice (an answer lost after the rows were stored, a crash between two pages, two
syncs racing) is stored once; a sync that stops anywhere resumes where its cursor stands.
The first sync of a subaccount is its backfill; ``LedgerCursor.rows_read`` is its progress.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from asgiref.sync import sync_to_async
from django.db import transaction
from django.utils import timezone

from accounts.models import Subaccount
from accounts.team import team_time_zone
from trading.backpack import HistoryCursor, walk_history
from trading.backpack.history import MAX_PAGE
from trading.exchange import client_for
from trading.ledger.histories import LEDGER_HISTORIES
from trading.ledger.latest import ledger_folds_update
from trading.ledger.origins import Origin, fill_origins
from trading.models.ledger import LedgerCursor, LedgerEntry

Kind = LedgerEntry.Kind


def _iso(moment: Any) -> str:
    return moment.isoformat(timespec="microseconds")


def _fill(row: Any) -> dict[str, Any]:
    trade = row.trade_id if row.trade_id is not None else f"o{row.order_id}@{_iso(row.timestamp)}"
    return {
        "exchange_id": f"{row.symbol}:{trade}:{row.side.value}",
        "occurred_at": row.timestamp,
        "symbol": row.symbol,
        "side": row.side.value,
        "quantity": row.quantity,
        "price": row.price,
        "fee": row.fee,
        "fee_symbol": row.fee_symbol,
        "is_maker": row.is_maker,
        "order_id": row.order_id,
        "client_id": row.client_id,
    }


def _funding(row: Any) -> dict[str, Any]:
    return {
        "exchange_id": f"{row.symbol}:{_iso(row.interval_end)}",
        "occurred_at": row.interval_end,
        "symbol": row.symbol,
        "quantity": row.quantity,
        "price": row.funding_rate,
    }


def _settlement(row: Any) -> dict[str, Any]:
    sequence = row.engine_sequence
    key = str(sequence) if sequence is not None else f"{row.source.value}@{_iso(row.timestamp)}"
    return {
        "exchange_id": key,
        "occurred_at": row.timestamp,
        "symbol": "USDC",
        "quantity": row.quantity,
        "position_id": row.position_id or "",
        "source": row.source.value,
    }


def _deposit(row: Any) -> dict[str, Any]:
    return {
        "exchange_id": str(row.id),
        "occurred_at": row.created_at,
        "symbol": row.symbol,
        "quantity": row.quantity,
        "source": row.source[:60],
    }


def _withdrawal(row: Any) -> dict[str, Any]:
    return {
        "exchange_id": str(row.id),
        "occurred_at": row.created_at,
        "symbol": row.symbol,
        "quantity": row.quantity,
        "fee": row.fee,
        "fee_symbol": row.symbol,
        "source": row.status[:60],
    }


_FIELDS: dict[str, Callable[[Any], dict[str, Any]]] = {
    Kind.FILL: _fill,
    Kind.FUNDING: _funding,
    Kind.SETTLEMENT: _settlement,
    Kind.DEPOSIT: _deposit,
    Kind.WITHDRAWAL: _withdrawal,
}


@dataclass
class LedgerSyncReport:
    """What one sync stored: new rows per history (rows read again are not counted)."""

    stored: dict[str, int] = field(default_factory=dict)
    read: dict[str, int] = field(default_factory=dict)

    @property
    def total_stored(self) -> int:
        return sum(self.stored.values())


def _cursor_of(subaccount: Subaccount, history: str) -> HistoryCursor:
    saved = LedgerCursor.objects.filter(subaccount=subaccount, history=history).first()
    if saved is None:
        return HistoryCursor.start(history)
    return HistoryCursor.from_text(saved.cursor)


def _store_page(
    subaccount: Subaccount,
    history: str,
    rows: list[Any],
    after: HistoryCursor,
    done: bool,
    origins: dict[str, Origin] | None = None,
) -> int:
    """Store one page's rows and the cursor after them together; return how many rows were
    new. ``origins``: the desk ticket's clientId of fills of orders the exchange made for
    the desk (`trading.ledger.origins`)."""
    kind = LEDGER_HISTORIES[history]
    to_fields = _FIELDS[kind]
    entries = [LedgerEntry(subaccount=subaccount, kind=kind, **to_fields(row)) for row in rows]
    for entry in entries:
        if origins and entry.client_id is None and entry.order_id in origins:
            entry.client_id, entry.origin = origins[entry.order_id]
    ids = [entry.exchange_id for entry in entries]
    with transaction.atomic():
        known = set(
            LedgerEntry.objects.filter(
                subaccount=subaccount, kind=kind, exchange_id__in=ids
            ).values_list("exchange_id", flat=True)
        )
        fresh = {e.exchange_id: e for e in entries if e.exchange_id not in known}
        LedgerEntry.objects.bulk_create(fresh.values(), ignore_conflicts=True)
        saved, _ = LedgerCursor.objects.select_for_update().get_or_create(
            subaccount=subaccount, history=history, defaults={"cursor": after.to_text()}
        )
        saved.cursor = after.to_text()
        saved.rows_read += len(rows)
        saved.done = done
        saved.synced_at = timezone.now()
        saved.save(update_fields=["cursor", "rows_read", "done", "synced_at"])
    return len(fresh)


async def ledger_sync(
    *,
    subaccount: Subaccount,
    client: Any = None,
    histories: tuple[str, ...] = tuple(LEDGER_HISTORIES),
    page_size: int = MAX_PAGE,
    max_wait_s: float | None = None,
    on_page: Callable[[str, int], Any] | None = None,
) -> LedgerSyncReport:
    """Bring ``subaccount``'s ledger up to the exchange's histories, each from its stored
    cursor (from the beginning the first time: the backfill).

    ``client`` defaults to the subaccount's signed client. ``on_page(history, rows_read)``
    is called after each stored page (progress). A failure (exchange down past the client's
    retries, budget wait past ``max_wait_s``) raises; every page stored before it stays,
    with its cursor, and the next sync goes on from there.
    """
    if client is None:
        client = client_for(subaccount)
    report = LedgerSyncReport()
    for history in histories:
        if history not in LEDGER_HISTORIES:
            raise ValueError(f"the ledger keeps no history called {history!r}")
        cursor = await sync_to_async(_cursor_of)(subaccount, history)
        report.stored[history] = report.read[history] = 0
        async for page in walk_history(client, cursor, page_size=page_size, max_wait_s=max_wait_s):
            origins = None
            if history == "fill_history":
                origins = await fill_origins(
                    client=client, subaccount_id=subaccount.pk, fills=page.rows
                )
            stored = await sync_to_async(_store_page)(
                subaccount, history, page.rows, page.cursor, page.done, origins
            )
            report.stored[history] += stored
            report.read[history] += len(page.rows)
            if on_page is not None:
                on_page(history, report.read[history])
    if report.stored.get("fill_history") or report.stored.get("funding_payments"):
        zone = await sync_to_async(team_time_zone)()
        await sync_to_async(ledger_folds_update)(subaccount.pk, zone)
    return report


__all__ = ["LEDGER_HISTORIES", "LedgerSyncReport", "ledger_sync"]
