"""The relay: exactly one upstream subscription per market and per subaccount, its fragments
handed out once per group and window (`trading.relay.fanout`: to this process's sockets, or
once on Redis for every dashboard process).

Loops (each a task, all cancelled by `stop()`):
- markets: every second, subscribe the markets some browser watches (interest) and this relay
  owns (ownership), release the rest after a linger;
- accounts: every few seconds, the private streams of each active subaccount this relay owns;
- snapshots: every five minutes, a balance snapshot of every active subaccount;
- the coalescer, which flushes each group at most ~10 times a second.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from channels.db import database_sync_to_async

from trading.exchange import exchange_session
from trading.ledger.keeper import LedgerKeeper
from trading.relay.coalesce import Coalescer, Message
from trading.relay.connections import fragment_publisher
from trading.relay.fanout import Publish
from trading.relay.feeds import AccountFeed, MarketFeed
from trading.relay.groups import market_group, overview_group, subaccount_group
from trading.relay.interest import Interest
from trading.relay.ownership import Ownership, SoleOwnership

log = logging.getLogger(__name__)

MARKET_LINGER_S = 15.0
MARKETS_EVERY_S = 1.0
ACCOUNTS_EVERY_S = 3.0
SNAPSHOT_EVERY_S = 300.0
SNAPSHOT_FIRST_AFTER_S = 30.0
STATS_EVERY_S = 10.0
LEDGER_FIRST_AFTER_S = 30.0
"""The ledger's first catch-up (the backfill of every subaccount) waits as the snapshots do;
a subaccount its account stream pokes (a fill) is synced at once, before it too: a fill in
the desk's first 30 s reached PnL only with the first catch-up."""


def _active_subaccounts() -> list[Any]:
    from accounts.models import Subaccount

    return list(Subaccount.objects.filter(is_active=True).order_by("pk"))


class Relay:
    """One relay per embedded dashboard process, or per `manage.py relay` worker."""

    def __init__(
        self,
        *,
        interest: Interest,
        ownership: Ownership | None,
        worker_id: str,
        session: Any = None,
        rate: float = 10.0,
        snapshots: bool = True,
        ledger: bool = True,
    ) -> None:
        self.interest = interest
        self.ownership = ownership or SoleOwnership()
        self.worker_id = worker_id
        self._session = session
        self._publish: Publish | None = None
        self._stats_since = time.monotonic()
        self._stats = {"rendered": 0, "render_s": 0.0, "published": 0, "publish_s": 0.0}
        self.coalescer = Coalescer(self._group_send, rate=rate)
        self.markets: dict[str, MarketFeed] = {}
        self.accounts: dict[int, AccountFeed] = {}
        self.snapshots = snapshots
        self.ledger = (
            LedgerKeeper(ownership=self.ownership, on_synced=self.overview_changed)
            if ledger
            else None
        )
        self._last_wanted: dict[str, float] = {}
        self._public_streams: Any = None
        self._tasks: list[asyncio.Task[None]] = []
        self._lock = asyncio.Lock()

    @property
    def session(self) -> Any:
        if self._session is None:
            self._session = exchange_session()
        return self._session

    def public_streams(self) -> Any:
        """The one connection that carries every public stream this relay owns."""
        if self._public_streams is None:
            self._public_streams = self.session.streams()
        return self._public_streams

    # -- lifecycle --------------------------------------------------------------------------
    def start(self) -> None:
        loops = [self.coalescer.run(), self._markets_loop(), self._accounts_loop()]
        if self.snapshots:
            loops.append(self._snapshots_loop())
        if self.ledger is not None:
            loops.append(self._ledger_loop())
        self._tasks = [asyncio.create_task(loop) for loop in loops]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for symbol in list(self.markets):
            await self._drop_market(symbol)
        for pk in list(self.accounts):
            await self._drop_account(pk)
        if self._public_streams is not None:
            await self._public_streams.aclose()

    # -- publishing -------------------------------------------------------------------------
    async def _group_send(self, group: str, message: dict[str, Any]) -> None:
        if self._publish is None:
            self._publish = fragment_publisher()
        started = time.perf_counter()
        await self._publish(group, message)
        stats = self._stats
        stats["publish_s"] += time.perf_counter() - started
        stats["published"] += 1
        if time.monotonic() - self._stats_since >= STATS_EVERY_S:
            self._report_stats()

    def _report_stats(self) -> None:
        """One log line of what fragments cost (tests/bench/bench_relay.py reads it)."""
        now, stats = time.monotonic(), self._stats
        log.info(
            "relay stats: %d fragments rendered in %.3f s, %d published in %.3f s, over %.1f s",
            stats["rendered"],
            stats["render_s"],
            stats["published"],
            stats["publish_s"],
            now - self._stats_since,
        )
        self._stats_since = now
        self._stats = {"rendered": 0, "render_s": 0.0, "published": 0, "publish_s": 0.0}

    def _with_kind(self, message: Message, kind: str) -> Message:
        """The message with its `kind`; a builder is timed (rendering) when the window closes."""
        if not callable(message):
            return {**message, "kind": kind}

        def build() -> dict[str, Any] | None:
            started = time.thread_time()  # CPU: the figure holds on a busy machine
            built = message()
            self._stats["render_s"] += time.thread_time() - started
            self._stats["rendered"] += 1
            return None if built is None else {**built, "kind": kind}

        return build

    def offer(self, group: str, kind: str, message: Message) -> None:
        """Latest-state update, coalesced to the relay's rate per group. The message carries its
        `kind`: a socket that backs up keeps only the newest of each kind."""
        self.coalescer.offer(group, kind, self._with_kind(message, kind))

    async def send_now(self, group: str, message: dict[str, Any]) -> None:
        """An event that must not be merged with others (an account event row)."""
        await self._group_send(group, message)

    # -- markets ----------------------------------------------------------------------------
    async def market_watched(self, symbol: str) -> None:
        """A browser of this process opened the market: subscribe without waiting a tick."""
        self._last_wanted[symbol] = time.monotonic()
        await self._ensure_market(symbol)

    async def _ensure_market(self, symbol: str) -> None:
        async with self._lock:
            if symbol in self.markets:
                return
            if not await self.ownership.claim(market_group(symbol)):
                return
            feed = MarketFeed(self, symbol)
            try:
                await feed.start()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - an unknown market or a down exchange
                log.warning("cannot follow market %s: %s", symbol, exc)
                await self.ownership.release(market_group(symbol))
                return
            self.markets[symbol] = feed

    async def _drop_market(self, symbol: str) -> None:
        feed = self.markets.pop(symbol, None)
        if feed is not None:
            await feed.stop()
        await self.ownership.release(market_group(symbol))

    async def _markets_loop(self) -> None:
        while True:
            try:
                await self._markets_tick()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - the loop must outlive one bad tick
                log.exception("relay markets tick failed")
            await asyncio.sleep(MARKETS_EVERY_S)

    async def _markets_tick(self) -> None:
        now = time.monotonic()
        for symbol in await self.interest.active():
            self._last_wanted[symbol] = now
        for symbol, seen in list(self._last_wanted.items()):
            if now - seen > MARKET_LINGER_S:
                del self._last_wanted[symbol]
                if symbol in self.markets:
                    await self._drop_market(symbol)
            elif symbol in self.markets:
                if not await self.ownership.claim(market_group(symbol)):
                    await self._drop_market(symbol)  # another worker took it over
            else:
                await self._ensure_market(symbol)

    # -- subaccounts ------------------------------------------------------------------------
    async def _accounts_loop(self) -> None:
        while True:
            try:
                await self._accounts_tick()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001
                log.exception("relay accounts tick failed")
            await asyncio.sleep(ACCOUNTS_EVERY_S)

    async def _accounts_tick(self) -> None:
        active = {s.pk: s for s in await database_sync_to_async(_active_subaccounts)()}
        for pk in list(self.accounts):
            if pk not in active:
                await self._drop_account(pk)
        for pk, subaccount in active.items():
            if not await self.ownership.claim(subaccount_group(pk)):
                if pk in self.accounts:
                    await self._drop_account(pk)
                continue
            if pk in self.accounts:
                continue
            feed = AccountFeed(self, subaccount)
            try:
                await feed.start()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - e.g. a secret that cannot be decrypted
                log.warning("cannot follow subaccount %s: %s", pk, exc)
                await feed.stop()
                await self.ownership.release(subaccount_group(pk))
                continue
            self.accounts[pk] = feed
            feed._dirty.set()  # first state for browsers already connected

    async def _drop_account(self, pk: int) -> None:
        feed = self.accounts.pop(pk, None)
        if feed is not None:
            await feed.stop()
        await self.ownership.release(subaccount_group(pk))

    # -- the ledger -------------------------------------------------------------------------
    def overview_changed(self, pk: int) -> None:
        """Subaccount ``pk``'s figures changed (a fill, a position, balances, its ledger):
        tell the overview pages showing it, coalesced to the relay's window."""
        message = {"type": "overview.changed", "subaccount": pk}
        self.offer(overview_group(pk), "overview", message)

    def ledger_poke(self, pk: int) -> None:
        """Subaccount ``pk``'s stream reported a fill, or was down: sync its ledger soon."""
        if self.ledger is not None:
            self.ledger.poke(pk)

    async def _ledger_loop(self) -> None:
        assert self.ledger is not None
        await self.ledger.run(first_after_s=LEDGER_FIRST_AFTER_S)

    # -- balance snapshots ------------------------------------------------------------------
    async def _snapshots_loop(self) -> None:
        await asyncio.sleep(SNAPSHOT_FIRST_AFTER_S)
        while True:
            if await self.ownership.claim("snapshots"):
                try:
                    from trading.balances.services import balance_snapshots_take

                    await balance_snapshots_take()
                except asyncio.CancelledError:
                    raise
                except Exception:  # noqa: BLE001
                    log.exception("balance snapshots failed")
            await asyncio.sleep(SNAPSHOT_EVERY_S)
