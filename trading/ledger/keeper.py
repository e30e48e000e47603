"""The ledger keeper: every subaccount's ledger kept current by a periodic catch-up, and
sooner when its account stream says something happened (``poke``).

Exactly one worker syncs each subaccount: before a sync the keeper claims the lease
``ledger.<pk>`` (an :class:`~trading.relay.ownership.Ownership`, the relay's leases: Redis in
the scaled mode, sole ownership embedded) and renews it while the sync runs; a sync whose
lease is lost is stopped (rows stored so far stay, with their cursor, and are never doubled
by the worker that takes over). Within one process a subaccount is never synced twice at
once. The first sync of a subaccount is its backfill; it resumes after a restart from the
stored cursors.

Usage (the relay starts one beside its other loops)::

    keeper = LedgerKeeper(ownership=relay.ownership, client_of=client_for)
    task = asyncio.create_task(keeper.run())
    keeper.poke(subaccount.pk)        # an orderFill / deposit event arrived
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Callable
from typing import Any

from asgiref.sync import sync_to_async

from accounts.models import Subaccount
from trading.ledger.services import LedgerSyncReport, ledger_sync
from trading.relay.ownership import Ownership, SoleOwnership

log = logging.getLogger(__name__)

CATCH_UP_EVERY_S = 60.0
POKE_DELAY_S = 2.0
"""A poke waits this long first, so a burst of fills costs one sync."""
RENEW_EVERY_S = 2.0
"""Lease renewal while a sync runs (the relay's leases last 5 s)."""


def _active_subaccounts() -> list[Subaccount]:
    return list(Subaccount.objects.filter(is_active=True).order_by("pk"))


def lease_name(pk: int) -> str:
    """The lease of one subaccount's ledger."""
    return f"ledger.{pk}"


class LedgerKeeper:
    """Keeps the ledgers of the active subaccounts current (see the module doc)."""

    def __init__(
        self,
        *,
        ownership: Ownership | None = None,
        client_of: Callable[[Subaccount], Any] | None = None,
        every_s: float = CATCH_UP_EVERY_S,
        poke_delay_s: float = POKE_DELAY_S,
        renew_every_s: float = RENEW_EVERY_S,
        on_synced: Callable[[int], None] | None = None,
    ) -> None:
        self.ownership = ownership or SoleOwnership()
        self._client_of = client_of
        self.every_s = every_s
        self.poke_delay_s = poke_delay_s
        self.renew_every_s = renew_every_s
        self.on_synced = on_synced
        """Called with a subaccount's pk after a sync stored new rows (the overview's push)."""
        self.reports: dict[int, LedgerSyncReport] = {}
        self.stored: dict[int, Counter[str]] = {}
        """New rows per subaccount and history since this keeper started."""
        self.synced: list[int] = []
        """Subaccount pks in the order this keeper synced them (tests and health read it)."""
        self._locks: dict[int, asyncio.Lock] = {}
        self._poked: set[int] = set()
        self._wake = asyncio.Event()

    def poke(self, pk: int) -> None:
        """Sync subaccount ``pk`` soon (its account stream reported a fill or a transfer)."""
        self._poked.add(pk)
        self._wake.set()

    async def run(self, *, first_after_s: float = 0.0) -> None:
        """Catch up every ``every_s`` (the first time after ``first_after_s``), and sync
        poked subaccounts in between, before the first catch-up too; runs until cancelled."""
        loop = asyncio.get_running_loop()
        due = loop.time() + first_after_s
        while True:
            if loop.time() >= due:
                due = loop.time() + self.every_s
                try:
                    await self.catch_up()
                except asyncio.CancelledError:
                    raise
                except Exception:  # noqa: BLE001 - the next round tries again
                    log.exception("ledger catch-up failed")
            # asyncio.timeout, not wait_for: Python 3.11's wait_for loses a cancellation that
            # arrives as the awaited call completes (the relay's stop would not stop the loop)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(0.0, due - loop.time())):
                    await self._wake.wait()
            if self._wake.is_set():
                await asyncio.sleep(self.poke_delay_s)
                self._wake.clear()
                poked, self._poked = self._poked, set()
                await self._sync_some(poked)

    async def catch_up(self) -> None:
        """One round: sync every active subaccount whose lease this worker holds."""
        for subaccount in await sync_to_async(_active_subaccounts)():
            await self.sync_one(subaccount)

    async def _sync_some(self, pks: set[int]) -> None:
        for subaccount in await sync_to_async(_active_subaccounts)():
            if subaccount.pk in pks:
                await self.sync_one(subaccount)

    async def sync_one(self, subaccount: Subaccount) -> LedgerSyncReport | None:
        """Sync ``subaccount`` if this worker holds (or takes) its lease; None if another
        worker has it, or the sync failed (logged; the next round resumes it)."""
        name = lease_name(subaccount.pk)
        lock = self._locks.setdefault(subaccount.pk, asyncio.Lock())
        if lock.locked() or not await self.ownership.claim(name):
            return None
        async with lock:
            client = self._client_of(subaccount) if self._client_of else None
            sync = asyncio.create_task(ledger_sync(subaccount=subaccount, client=client))
            lost = False
            try:
                while not sync.done():
                    await asyncio.wait({sync}, timeout=self.renew_every_s)
                    if not sync.done() and not await self.ownership.claim(name):
                        lost = True
                        sync.cancel()  # another worker took over: it resumes from the cursor
                report = await sync
            except asyncio.CancelledError:
                if not lost:
                    sync.cancel()
                    raise
                log.warning("ledger sync of subaccount %s stopped: lease lost", subaccount.pk)
                return None
            except Exception as exc:  # noqa: BLE001 - the next round resumes it
                log.warning("ledger sync of subaccount %s failed: %s", subaccount.pk, exc)
                return None
        self.reports[subaccount.pk] = report
        self.stored.setdefault(subaccount.pk, Counter()).update(report.stored)
        self.synced.append(subaccount.pk)
        if self.on_synced is not None and sum(report.stored.values()):
            self.on_synced(subaccount.pk)
        await self._loss_watch(subaccount, client)
        return report

    async def _loss_watch(self, subaccount: Subaccount, client: Any) -> None:
        """The ledger just caught up: check the daily loss limits (issue 15.3) now, so a
        loss stops new risk and alerts even while nobody sends an order."""
        from trading.risk.loss import risk_loss_watch

        try:
            await risk_loss_watch(subaccount=subaccount, client=client)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - the next sync checks again
            log.warning("daily loss check of subaccount %s failed: %s", subaccount.pk, exc)


__all__ = ["LedgerKeeper", "lease_name"]
