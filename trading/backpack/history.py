"""Walking a whole account history within the historical rate budget, resumably.

Usage::

    cursor = HistoryCursor.start("fill_history", symbol="SOL_USDC_PERP")
    async for page in walk_history(client, cursor):
        store(page.rows)                       # Fill objects, oldest first
        save(page.cursor.to_text())            # after storing: resume from here later
    ...
    cursor = HistoryCursor.from_text(saved)    # next time: only what came since

Order and resumption. Histories that take ``sortDirection`` (fills, orders, funding,
settlements, positions) are read oldest first, so rows the exchange adds later only ever
come after the rows already read: the cursor is the count of rows read, and a walk resumed
from it, even days later, reads exactly the rows it has not read yet. Deposits and
withdrawals come newest first only; they are read inside a time window ``[from, to]``
whose end is fixed when the walk begins (a second before exchange time, so a row being
written then is left for the next window), which keeps offsets stable inside it; once the
window is read, the cursor moves to the window after it.

Budget. Every page is one request on the historical budget of the client's API key (30 a
minute per subaccount, shared with klines and every other history route), taken through
the session's limiter, the one place budgets are kept (shared between processes with
Redis). When the budget is used up the walk waits for the next slot instead of failing,
also after an exchange 429; ``max_wait_s`` bounds how long it waits in all.

Position history rows change while a position is open: a walk gives each row as it was
when read, so read ``state="Open"`` positions afresh rather than resuming.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any

from .errors import RateLimitedError
from .history_types import SortDirection

if TYPE_CHECKING:
    from .client import BackpackClient

MAX_PAGE = 1000
"""The largest ``limit`` the history routes take."""
WINDOW_LAG_MS = 1000
"""How far before exchange time a deposits / withdrawals window ends."""

FilterValue = str | int


@dataclass(frozen=True, slots=True)
class _History:
    filters: frozenset[str]
    ascending: bool  # takes sortDirection: read oldest first


HISTORIES: dict[str, _History] = {
    "fill_history": _History(
        frozenset({"symbol", "order_id", "from_ms", "to_ms", "market_type"}), True
    ),
    "order_history": _History(frozenset({"symbol", "order_id", "market_type"}), True),
    "funding_payments": _History(frozenset({"symbol", "subaccount_id"}), True),
    "settlement_history": _History(frozenset({"source"}), True),
    "position_history": _History(frozenset({"symbol", "state", "market_type"}), True),
    "deposits": _History(frozenset({"from_ms", "to_ms"}), False),
    "withdrawals": _History(frozenset({"from_ms", "to_ms", "client_id"}), False),
}
"""Each history the walk can read: the ``BackpackClient`` method of that name and the
keyword filters it takes."""


def _history(name: str) -> _History:
    history = HISTORIES.get(name)
    if history is None:
        raise ValueError(f"no history called {name!r}: expected one of {', '.join(HISTORIES)}")
    return history


def _plain(name: str, value: Any) -> FilterValue:
    if isinstance(value, Enum):
        return str(value.value)
    if type(value) is str or type(value) is int:
        return value
    raise TypeError(f"filter {name} must be text or a whole number, got {value!r}")


def _frozen(filters: dict[str, FilterValue]) -> tuple[tuple[str, FilterValue], ...]:
    return tuple(sorted(filters.items()))


@dataclass(frozen=True, slots=True)
class HistoryCursor:
    """Where a walk through one history stands: the rows read so far (``offset``, in the
    walk's order) and the filters fixed when it began."""

    history: str
    offset: int = 0
    filters: tuple[tuple[str, FilterValue], ...] = ()

    @classmethod
    def start(cls, history: str, **filters: Any) -> HistoryCursor:
        """The beginning of ``history`` (a ``BackpackClient`` method name, see
        :data:`HISTORIES`) with its keyword filters (``None`` ones left out)."""
        allowed = _history(history).filters
        unknown = sorted(set(filters) - allowed)
        if unknown:
            raise ValueError(
                f"{history} has no filter {', '.join(unknown)}: it takes "
                f"{', '.join(sorted(allowed))}"
            )
        chosen = {k: _plain(k, v) for k, v in filters.items() if v is not None}
        return cls(history, 0, _frozen(chosen))

    def to_text(self) -> str:
        """The cursor as JSON text, to store and give back to :meth:`from_text`."""
        data = {"history": self.history, "offset": self.offset, "filters": dict(self.filters)}
        return json.dumps(data, sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_text(cls, text: str) -> HistoryCursor:
        """Read a cursor stored with :meth:`to_text`; ``ValueError`` if it is not one."""
        try:
            data = json.loads(text)
            history, offset, filters = data["history"], data["offset"], data["filters"]
        except (ValueError, TypeError, KeyError):
            raise ValueError(f"not a history cursor: {text[:80]!r}") from None
        if type(offset) is not int or offset < 0 or not isinstance(filters, dict):
            raise ValueError(f"not a history cursor: {text[:80]!r}")
        cursor = cls.start(history, **filters)
        return cls(cursor.history, offset, cursor.filters)


@dataclass(frozen=True, slots=True)
class HistoryPage:
    """One page of a walk: its rows (typed, in the walk's order), the cursor to resume
    from after them, and whether the walk has reached the end of the history for now."""

    rows: list[Any]
    cursor: HistoryCursor
    done: bool


async def walk_history(
    client: BackpackClient,
    cursor: HistoryCursor,
    *,
    page_size: int = MAX_PAGE,
    max_wait_s: float | None = None,
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
) -> AsyncIterator[HistoryPage]:
    """Read ``cursor``'s history from where it stands to its end, a page per request.

    Waits for the historical budget when it is used up (at most ``max_wait_s`` in all,
    unbounded by default; past it the ``RateLimitedError`` is raised). Stop iterating at any
    point: the last page's ``cursor`` resumes the walk without gaps or repeats.
    """
    if not 1 <= page_size <= MAX_PAGE:
        raise ValueError(f"page_size must be between 1 and {MAX_PAGE}, got {page_size}")
    history = _history(cursor.history)
    fetch = getattr(client, cursor.history)
    filters = dict(cursor.filters)
    if not history.ascending and "to_ms" not in filters:
        await client.session.sync_clock()
        filters["to_ms"] = client.session.clock.now_ms() - WINDOW_LAG_MS
    offset = cursor.offset
    waited = 0.0
    while True:
        params: dict[str, Any] = dict(filters, limit=page_size, offset=offset)
        if history.ascending:
            params["sort_direction"] = SortDirection.ASC
        try:
            rows = await fetch(**params)
        except RateLimitedError as error:
            wait = error.retry_after or 1.0
            if max_wait_s is not None and waited + wait > max_wait_s:
                raise
            await sleep(wait)
            waited += wait
            continue
        offset += len(rows)
        done = len(rows) < page_size
        if done and not history.ascending:
            following = {k: v for k, v in filters.items() if k != "to_ms"}
            following["from_ms"] = int(filters["to_ms"]) + 1
            after = HistoryCursor(cursor.history, 0, _frozen(following))
        else:
            after = HistoryCursor(cursor.history, offset, _frozen(filters))
        yield HistoryPage(rows, after, done)
        if done:
            return


async def read_history(
    client: BackpackClient, cursor: HistoryCursor, **options: Any
) -> tuple[list[Any], HistoryCursor]:
    """Every row from ``cursor`` to the end (see :func:`walk_history`) and the cursor to
    resume from next time."""
    rows: list[Any] = []
    async for page in walk_history(client, cursor, **options):
        rows.extend(page.rows)
        cursor = page.cursor
    return rows, cursor


__all__ = ["HISTORIES", "HistoryCursor", "HistoryPage", "read_history", "walk_history"]
