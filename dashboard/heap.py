"""The cyclic garbage collector's policy for a long-running server process.

CPython's full collection walks every object the process tracks. In a dashboard that holds
Django, Twisted, autobahn, the templates and a thousand browser sockets that is over a million
objects, and each full collection stopped the event loop for 50 to 300 ms on a quiet machine
(over a second on a loaded one), every ten to twenty seconds: the relay's worst latencies
(tests/bench/bench_relay.py). Nearly all of those objects are made at start-up and live as
long as the process.

`settle()` collects once and then freezes what start-up made (`gc.freeze`: the collector never
walks it again), so a full collection walks only what came after (sockets, books, sessions).
Freezing keeps objects, it does not leak them: they were alive anyway, and reference counting
still frees whatever drops out of use. Only a server process calls it, never a test process
(a test's objects would then never be collected).
"""

from __future__ import annotations

import gc
import logging
import time

log = logging.getLogger(__name__)


def settle() -> None:
    """Collect, then keep everything alive now out of the collector's walks. Idempotent
    enough: a second call freezes what came since."""
    started = time.perf_counter()
    gc.collect()
    gc.freeze()
    log.info(
        "heap settled: %d objects frozen in %.0f ms",
        gc.get_freeze_count(),
        (time.perf_counter() - started) * 1000,
    )
