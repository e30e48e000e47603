"""The fills the market chart marks: the user's own subaccounts' fills in one market, from the
ledger. Prices and quantities travel as plain decimal strings (the chart plots them; nothing is
sent back)."""

from __future__ import annotations

from typing import Any

from accounts.permissions import roles_of
from trading import formatting
from trading.models import LedgerEntry

CHART_FILLS = 500
"""The newest fills marked on a chart; older ones are off any interval's first screen."""


def chart_fills(user: Any, symbol: str, *, limit: int = CHART_FILLS) -> list[dict[str, Any]]:
    """The newest `limit` fills in `symbol` of the subaccounts `user` may see, oldest first:
    ``{"time": epoch seconds, "side": "Bid"|"Ask", "price", "quantity", "subaccount"}``."""
    visible = list(roles_of(user))
    if not visible:
        return []
    rows = (
        LedgerEntry.objects.filter(
            subaccount_id__in=visible, kind=LedgerEntry.Kind.FILL, symbol=symbol
        )
        .select_related("subaccount")
        .order_by("-occurred_at", "-id")[:limit]
    )
    return [
        {
            "time": int(row.occurred_at.timestamp()),
            "side": row.side,
            "price": formatting.plain(row.price),
            "quantity": formatting.plain(row.quantity),
            "subaccount": row.subaccount.name,
        }
        for row in reversed(list(rows))
    ]
