"""What the relay keeps per upstream subscription.

`MarketFeed`: one market's public streams (depth through the client's BookKeeper, trades,
ticker, mark price, candles), rendered into the market page's live regions.
`AccountFeed`: one subaccount's private streams; each event is pushed at once to the account
feed, then the subaccount's open orders, positions and balances are re-read over REST
(coalesced) and pushed, so every table shows the exchange's latest state.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import TYPE_CHECKING, Any, Protocol

from trading.backpack.bookkeeper import BookKeeper
from trading.backpack.errors import BackpackError
from trading.backpack.market_types import MarkPrice, Ticker
from trading.backpack.recent_trades import RecentTrades
from trading.backpack.stream_types import (
    kline_from_stream,
    mark_price_from_stream,
    ticker_from_stream,
    trade_from_stream,
)
from trading.backpack.wire import FieldError
from trading.exchange import client_for
from trading.live_regions import (
    account_event_html,
    account_live_regions,
    book_html,
    kline_html,
    market_stats_html,
    trades_html,
)
from trading.monitoring import stream_state_report, stream_stopped
from trading.relay.coalesce import Message
from trading.relay.groups import market_group, script_stream_group, subaccount_group
from trading.selectors.account import account_state_read
from trading.selectors.markets import markets_known

if TYPE_CHECKING:
    from accounts.models import Subaccount

log = logging.getLogger(__name__)

KLINE_INTERVALS = ("1m", "5m", "15m", "1h", "4h", "1d")
TRADES_KEPT = 50
ACCOUNT_REFRESH_EVERY_S = 0.5
# How long an account feed's start waits for its private stream: unreachable by then fails
# the start (retried next tick); refused by then keeps the feed (the client keeps retrying).
ACCOUNT_LIVE_WITHIN_S = 10.0
# What a malformed stream frame can raise while parsing: logged and skipped, never fatal.
BAD_FRAME = (BackpackError, FieldError, KeyError, ValueError, TypeError, ArithmeticError)


class Relay(Protocol):
    """What a feed needs of the relay that owns it (`trading.relay.worker.Relay`): the
    exchange session, the public streams' connection, and the ways to publish."""

    @property
    def session(self) -> Any: ...

    def public_streams(self) -> Any: ...

    def offer(self, group: str, kind: str, message: Message) -> None: ...

    async def send_now(self, group: str, message: dict[str, Any]) -> None: ...

    def ledger_poke(self, pk: int) -> None: ...

    def overview_changed(self, pk: int) -> None: ...


def _report_stream(
    name: str, connected: bool, last_message_at: float | None = None, state: str | None = None
) -> None:
    with contextlib.suppress(Exception):  # monitoring never stops the relay
        stream_state_report(name, connected, last_message_at, state)


def _report_stopped(name: str) -> None:
    """Stopped on purpose (nobody watches): forgotten by monitoring, never 'down'."""
    with contextlib.suppress(Exception):
        stream_stopped(name)


async def watch_connection(name: str, streams: Any, last_message_at) -> None:
    """Report the upstream socket's state to monitoring whenever it changes: drops, and a
    private subscription the exchange refuses (`refused: <reason>`, counted as down); and,
    once a second at most, the time of the newest message, so the health page shows how
    old the last message of a connected stream really is (not the time it connected)."""
    was: str | None = None
    reported_at: float | None = None
    while True:
        state = streams.state
        newest = last_message_at()
        if state != was or newest != reported_at:
            _report_stream(name, streams.connected.is_set(), newest, state)
            if state != was and state.startswith("refused"):
                log.warning("%s: %s", name, state)
            was, reported_at = state, newest
        await asyncio.sleep(1.0)


class MarketFeed:
    """Public data of one market, published to `market.<symbol>`."""

    def __init__(self, relay: Relay, symbol: str) -> None:
        self.relay = relay
        self.symbol = symbol
        self.group = market_group(symbol)
        self.market: Any = None
        self.trades = RecentTrades(keep=TRADES_KEPT)
        self.ticker: Ticker | None = None
        self.mark: MarkPrice | None = None
        self.keeper: BookKeeper | None = None
        self.last_event_us = 0
        self.last_message_at: float | None = None
        self._streams: list[str] = []
        self._watch: asyncio.Task[None] | None = None

    async def start(self) -> None:
        session = self.relay.session
        public = session.client()
        self.market = await session.markets.get(self.symbol)
        self.ticker = await public.ticker(self.symbol)
        streams = self.relay.public_streams()
        self.keeper = BookKeeper(public, streams, self.symbol, on_update=self._on_book)
        # Seen before the keeper's own handler: the engine time of the newest delta.
        await streams.subscribe(f"depth.{self.symbol}", self._seen)
        # The snapshot must be taken after the depth subscription is live, or a delta sent
        # in between is lost; in a quiet market no later delta would reveal the gap.
        await streams.wait_connected(within_s=10)
        await self.keeper.start()
        self._streams = [
            f"trade.{self.symbol}",
            f"ticker.{self.symbol}",
            *(f"kline.{i}.{self.symbol}" for i in KLINE_INTERVALS),
        ]
        await streams.subscribe(f"trade.{self.symbol}", self._on_trade)
        await streams.subscribe(f"ticker.{self.symbol}", self._on_ticker)
        for interval in KLINE_INTERVALS:
            await streams.subscribe(
                f"kline.{interval}.{self.symbol}",
                lambda data, interval=interval: self._on_kline(data, interval),
            )
        if self.market.is_perp:
            self._streams.append(f"markPrice.{self.symbol}")
            await streams.subscribe(f"markPrice.{self.symbol}", self._on_mark)
        # Read after the trade stream is subscribed, not before, so no trade can fall between
        # the list and the stream; a trade in both is kept once (by id). After every
        # reconnect the same read fills in what the stream missed.
        self.trades.merge(await public.trades(self.symbol, limit=TRADES_KEPT))
        streams.add_outage_listener(self._backfill_trades)
        self._watch = asyncio.create_task(
            watch_connection(self.group, streams, lambda: self.last_message_at)
        )

    async def stop(self) -> None:
        with contextlib.suppress(ValueError):  # not added when the start failed early
            self.relay.public_streams().outage_listeners.remove(self._backfill_trades)
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
        if self.keeper is not None:
            with contextlib.suppress(Exception):
                await self.keeper.aclose()
        with contextlib.suppress(Exception):
            await self.relay.public_streams().unsubscribe(self._streams)
        _report_stopped(self.group)

    # -- handlers: parse, keep, offer (rendering happens at flush time) -------------------
    def _seen(self, data: dict[str, Any]) -> None:
        self.last_message_at = time.time()
        if isinstance(data, dict):  # the engine's timestamp, else the event time
            event_us = data.get("T", data.get("E"))
            if isinstance(event_us, int):
                self.last_event_us = event_us

    def _on_book(self, book: Any) -> None:
        self.last_message_at = time.time()
        self.relay.offer(self.group, "book", self._book_message)

    def _book_message(self) -> dict[str, Any]:
        """Book and statistics in one message (two out-of-band regions): half the sends of
        two kinds, and the statistics' best bid/ask always match the book shown."""
        synced = self.keeper is not None and self.keeper.synced.is_set()
        book = self.keeper.book if synced else None
        html = market_stats_html(self.market, ticker=self.ticker, mark=self.mark, book=book)
        if book is not None:
            # The engine time of the newest delta, for the relay benchmark's latency figures.
            html = f"{book_html(self.market, book)}{html}<!--E:{self.last_event_us}-->"
        return {"type": "push", "html": html}

    def _on_trade(self, data: dict[str, Any]) -> None:
        self._seen(data)
        try:
            trade = trade_from_stream(data)
        except BAD_FRAME as exc:
            log.warning("bad trade frame on %s: %s", self.symbol, exc)
            return
        if self.trades.add(trade):
            self._offer_trades()

    async def _backfill_trades(self, outage: Any) -> None:
        """The stream was down: the trades it missed are in the REST list of the newest."""
        try:
            trades = await self.relay.session.client().trades(self.symbol, limit=TRADES_KEPT)
        except BackpackError as error:
            log.warning("trades backfill of %s after an outage failed: %s", self.symbol, error)
            return
        if self.trades.merge(trades):
            self._offer_trades()

    def _offer_trades(self) -> None:
        self.relay.offer(
            self.group,
            "trades",
            lambda: {
                "type": "push",
                "html": trades_html(self.market, self.trades.newest_first()),
            },
        )

    def _on_ticker(self, data: dict[str, Any]) -> None:
        self._seen(data)
        try:
            self.ticker = ticker_from_stream(data)
        except BAD_FRAME as exc:
            log.warning("bad ticker frame on %s: %s", self.symbol, exc)
            return
        self.relay.offer(self.group, "book", self._book_message)

    def _on_mark(self, data: dict[str, Any]) -> None:
        self._seen(data)
        try:
            self.mark = mark_price_from_stream(data)
        except BAD_FRAME as exc:
            log.warning("bad markPrice frame on %s: %s", self.symbol, exc)
            return
        self.relay.offer(self.group, "book", self._book_message)

    def _on_kline(self, data: dict[str, Any], interval: str) -> None:
        self._seen(data)
        try:
            kline = kline_from_stream(data)
        except BAD_FRAME as exc:
            log.warning("bad kline frame on %s: %s", self.symbol, exc)
            return
        self.relay.offer(
            self.group,
            f"kline.{interval}",
            lambda: {
                "type": "push",
                "html": kline_html(self.market, kline, interval),
            },
        )


class AccountFeed:
    """Private data of one subaccount, published to `subaccount.<id>`."""

    def __init__(self, relay: Relay, subaccount: Subaccount) -> None:
        self.relay = relay
        self.subaccount = subaccount
        self.group = subaccount_group(subaccount.pk)
        self.script_group = script_stream_group(subaccount.pk)
        self.streams: Any = None
        self.last_message_at: float | None = None
        self.refreshes = 0
        self._dirty = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._watch: asyncio.Task[None] | None = None

    async def start(self) -> None:
        credentials = client_for(self.subaccount).credentials
        self.streams = self.relay.session.streams(credentials, on_outage=self._on_outage)
        await self.streams.subscribe("account.orderUpdate", self._on_event)
        await self.streams.subscribe("account.positionUpdate", self._on_event)
        self._watch = asyncio.create_task(
            watch_connection(self.group, self.streams, lambda: self.last_message_at)
        )
        # The first state pushed to browsers is read after the subscriptions are live, so no
        # event can fall between that read and the stream.
        try:
            await self.streams.wait_connected(within_s=ACCOUNT_LIVE_WITHIN_S)
        except TimeoutError:
            if self.streams.refusal is None:
                raise
            # Refused (a clock off, a revoked key): the stream client keeps retrying and its
            # state says why; the feed stays, and re-reads everything once it is accepted.
        self._task = asyncio.create_task(self._refresh_loop(), name=f"refresh {self.group}")

    async def stop(self) -> None:
        for task in (self._task, self._watch):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if self.streams is not None:
            await self.streams.aclose()
        _report_stopped(self.group)

    async def _on_event(self, data: dict[str, Any]) -> None:
        self.last_message_at = time.time()
        _report_stream(self.group, True, self.last_message_at)
        html = account_event_html(self.subaccount, data, await markets_known())
        await self.relay.send_now(
            self.group, {"type": "push", "html": html, "subaccount": self.subaccount.pk}
        )
        # The event as the exchange sent it, for scripts on /bpx/ws: served from this one
        # upstream subscription, whatever the number of scripts.
        await self.relay.send_now(self.script_group, {"type": "bpx.event", "data": data})
        self._dirty.set()
        self.relay.overview_changed(self.subaccount.pk)  # a fill, an order, a position
        if data.get("e") == "orderFill":
            self.relay.ledger_poke(self.subaccount.pk)

    def _on_outage(self, outage: Any) -> None:
        """Events may have been missed while the socket was down: re-read everything."""
        log.info("subaccount %s streams were down %.1f s", self.subaccount.pk, outage.duration_s)
        self._dirty.set()
        self.relay.ledger_poke(self.subaccount.pk)  # fills may have come meanwhile

    async def _refresh_loop(self) -> None:
        while True:
            await self._dirty.wait()
            self._dirty.clear()
            try:
                await self.refresh()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - a failed refresh must not end the feed
                log.exception("refresh of subaccount %s failed", self.subaccount.pk)
            await asyncio.sleep(ACCOUNT_REFRESH_EVERY_S)

    async def refresh(self) -> None:
        """Re-read open orders, positions and balances; push both role variants."""
        state = await account_state_read(self.subaccount, fresh=True)
        self.refreshes += 1
        viewer = account_live_regions(state, can_trade=False)
        trader = account_live_regions(state, can_trade=True, balances=False)
        pk = self.subaccount.pk
        for viewer_region, trader_region in (
            (viewer.open_orders, trader.open_orders),
            (viewer.positions, trader.positions),
        ):
            message = {
                "type": "push",
                "html": viewer_region.render(),
                "trader_html": trader_region.render(),
                "subaccount": pk,
            }
            await self.relay.send_now(self.group, message)
        if viewer.balances is not None:
            message = {"type": "push", "html": viewer.balances.render(), "subaccount": pk}
            await self.relay.send_now(self.group, message)
        self.relay.overview_changed(pk)  # balances, positions and orders read afresh
