"""The outcome of a script's order (reservations settled, tickets finished, audit) is written
after its answer was sent, together with the next database step of the script endpoint.

A script sends its next order as soon as it has the answer to the last one, and that order's
first step (`orders._admit_and_open`: the key, the tickets, the gate) goes to the database
anyway: the outcomes waiting then are written in its transaction, one thread hop and one
commit per order fewer than a step of their own (bench_gateway). Outcomes that no step takes
within `ALONE_AFTER_S` are written in a step of their own. Whoever records an outcome waits
until it is written (`outcome_record`), so the request that sent the order still ends only
once its outcome is in the database, as before; until then its reservation counts in full,
so the gate errs only on the strict side.

The steps run in the database thread (`sync_to_async`); the queue is handled in the event
loop's thread only: a step is handed the outcomes taken (`outcomes_take`) before it hops, and
its caller settles them (`outcomes_settle`) once it returns.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field

from asgiref.sync import sync_to_async
from django.db import transaction

ALONE_AFTER_S = 0.005

Write = Callable[[], None]


@dataclass(eq=False)
class Outcomes:
    """Outcomes waiting to be written (each a function of the database thread) and the future
    their recorders wait on. `written` / `error`: set by the step that wrote them."""

    writes: list[Write]
    done: asyncio.Future[None]
    taken: bool = False
    written: bool = False
    error: BaseException | None = field(default=None, repr=False)


_waiting: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Outcomes] = (
    weakref.WeakKeyDictionary()
)


async def outcome_record(write: Write) -> None:
    """Queue `write` and return once it is written (by the next step, or alone)."""
    loop = asyncio.get_running_loop()
    waiting = _waiting.get(loop)
    if waiting is None:
        waiting = _waiting[loop] = Outcomes([], loop.create_future())
        waiting.done.add_done_callback(_retrieved)
        loop.call_later(ALONE_AFTER_S, _write_alone, loop, waiting)
    waiting.writes.append(write)
    await asyncio.shield(waiting.done)


def outcomes_take() -> Outcomes | None:
    """The outcomes waiting in this event loop, for a step about to hop (None: none)."""
    waiting = _waiting.pop(asyncio.get_running_loop(), None)
    if waiting is not None:
        waiting.taken = True
    return waiting


def outcomes_write(outcomes: Outcomes | None) -> None:
    """In the database thread, inside the step's transaction: write the outcomes taken."""
    if outcomes is None:
        return
    for write in outcomes.writes:
        write()
    outcomes.written = True


def outcomes_write_alone(outcomes: Outcomes | None) -> None:
    """In the database thread, when the step's own transaction is not to be: the outcomes in
    a transaction of their own (an error is kept for `outcomes_settle`, not raised)."""
    if outcomes is None or outcomes.written:
        return
    try:
        with transaction.atomic():
            outcomes_write(outcomes)
    except Exception as error:  # told to each recorder; the step goes on with its own
        outcomes.written = False
        outcomes.error = error


def outcomes_settle(outcomes: Outcomes | None) -> None:
    """In the event loop, once the step that took `outcomes` returned or raised: their
    recorders are told; outcomes the step never reached are written alone."""
    if outcomes is None or outcomes.done.done():
        return
    if outcomes.written:
        outcomes.done.set_result(None)
    elif outcomes.error is not None:
        outcomes.done.set_exception(outcomes.error)
    else:
        asyncio.ensure_future(_write(outcomes))


def _write_alone(loop: asyncio.AbstractEventLoop, outcomes: Outcomes) -> None:
    if outcomes.taken:
        return
    if _waiting.get(loop) is outcomes:
        del _waiting[loop]
    outcomes.taken = True
    asyncio.ensure_future(_write(outcomes))


async def _write(outcomes: Outcomes) -> None:
    try:
        await sync_to_async(outcomes_write_alone)(outcomes)
    except Exception as error:
        outcomes.error = error
    if outcomes.written or outcomes.error is not None:
        outcomes_settle(outcomes)


def _retrieved(done: asyncio.Future[None]) -> None:
    if not done.cancelled():
        done.exception()  # retrieved here too: a recorder may have gone
