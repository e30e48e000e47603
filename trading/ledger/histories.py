"""The exchange histories the ledger keeps: each a ``BackpackClient`` method and the kind of
its rows. Read by the sync (`trading.ledger.services`), its progress (`trading.ledger.selectors`)
and the team pages (`trading.ledger.team`)."""

from __future__ import annotations

from trading.models.ledger import LedgerEntry

Kind = LedgerEntry.Kind

LEDGER_HISTORIES: dict[str, str] = {
    "fill_history": Kind.FILL,
    "funding_payments": Kind.FUNDING,
    "settlement_history": Kind.SETTLEMENT,
    "deposits": Kind.DEPOSIT,
    "withdrawals": Kind.WITHDRAWAL,
}
"""Each history the ledger keeps (a ``BackpackClient`` method) and the kind of its rows."""
