"""Which exchange routes the desk serves to scripts, and what each needs from a key.

Each is the client's own `Route` (path, method, signing instruction, rate budget), so the
desk rebuilds a script's signing string and re-signs for the exchange from the same data.
`scope` is what the key must allow: public routes need no key; withdrawals are never served.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from trading.backpack import routes as R
from trading.backpack.routes import HISTORICAL, Route


class Scope(StrEnum):
    PUBLIC = "public"
    READ = "read"
    TRADE = "trade"
    WITHDRAW = "withdraw"


@dataclass(frozen=True)
class Served:
    route: Route
    scope: Scope
    batch: bool = False


def _public(path: str, budget: str = R.STANDARD) -> Route:
    return Route(path.rsplit("/", 1)[-1], "GET", path, budget=budget)


_PUBLIC = [
    R.TIME,
    R.MARKETS,
    R.MARKET,
    R.ASSETS,
    R.COLLATERAL_PARAMS,
    R.TICKER,
    R.TICKERS,
    R.DEPTH,
    R.KLINES,
    R.TRADES,
    R.TRADES_HISTORY,
    R.MARK_PRICES,
    R.FUNDING_RATES,
    _public("/api/v1/status"),
    _public("/api/v1/ping"),
    _public("/api/v1/openInterest"),
    _public("/api/v1/securities"),
]
_READ = [
    R.BALANCES,
    R.COLLATERAL,
    R.ACCOUNT,
    R.MAX_ORDER,
    R.MAX_WITHDRAWAL,
    R.ORDER_GET,
    R.ORDERS_OPEN,
    R.POSITIONS,
    R.FILL_HISTORY,
    R.ORDER_HISTORY,
    R.FUNDING_HISTORY,
    R.SETTLEMENT_HISTORY,
    R.POSITION_HISTORY,
    R.DEPOSITS,
    R.DEPOSIT_ADDRESS,
    R.WITHDRAWALS,
]
_TRADE = [R.ORDER_PLACE, R.ORDER_CANCEL, R.ORDERS_CANCEL_ALL]

SERVED: dict[tuple[str, str], Served] = {
    **{(r.method, r.path): Served(r, Scope.PUBLIC) for r in _PUBLIC},
    **{(r.method, r.path): Served(r, Scope.READ) for r in _READ},
    **{(r.method, r.path): Served(r, Scope.TRADE) for r in _TRADE},
    (R.ORDERS_BATCH.method, R.ORDERS_BATCH.path): Served(R.ORDERS_BATCH, Scope.TRADE, True),
    (R.WITHDRAW.method, R.WITHDRAW.path): Served(R.WITHDRAW, Scope.WITHDRAW),
}

assert all(s.route.budget in (R.STANDARD, HISTORICAL) for s in SERVED.values())


def served(method: str, path: str) -> Served | None:
    """The served route for ``METHOD /api/v1/...`` (None: the desk does not serve it)."""
    return SERVED.get((method.upper(), path))


SUBSCRIBE = Served(Route("subscribe", "WS", "/ws", "subscribe", True), Scope.READ)
"""A private stream subscription on ``/bpx/ws`` (signed with instruction ``subscribe``)."""
