"""An order's outcome is written with the next step of the script endpoint, or alone soon
after; whoever records it waits until it is written, and learns when it could not be
(trading.gateway.outcomes)."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import sync_to_async
from django.db import transaction

from trading.gateway import outcomes
from trading.gateway.outcomes import (
    outcome_record,
    outcomes_settle,
    outcomes_take,
    outcomes_write,
)

pytestmark = pytest.mark.django_db(transaction=True)


@sync_to_async
def _step(taken) -> None:
    """A step of the endpoint: the outcomes taken, in its own transaction."""
    with transaction.atomic():
        outcomes_write(taken)


async def test_an_outcome_no_step_takes_is_written_alone_soon() -> None:
    written = []

    await asyncio.wait_for(outcome_record(lambda: written.append("a")), timeout=5)

    assert written == ["a"]


async def test_outcomes_waiting_are_written_once_by_the_next_step() -> None:
    written = []
    first = asyncio.ensure_future(outcome_record(lambda: written.append("a")))
    second = asyncio.ensure_future(outcome_record(lambda: written.append("b")))
    await asyncio.sleep(0)  # both queued

    taken = outcomes_take()
    await _step(taken)
    outcomes_settle(taken)
    await asyncio.wait_for(asyncio.gather(first, second), timeout=5)
    await asyncio.sleep(outcomes.ALONE_AFTER_S * 4)  # the alone timer has come and gone

    assert written == ["a", "b"]
    assert outcomes_take() is None


async def test_outcomes_a_step_did_not_write_are_written_alone() -> None:
    written = []
    recorded = asyncio.ensure_future(outcome_record(lambda: written.append("a")))
    await asyncio.sleep(0)

    taken = outcomes_take()
    outcomes_settle(taken)  # the step failed before writing them
    await asyncio.wait_for(recorded, timeout=5)

    assert written == ["a"]


async def test_a_write_that_fails_reaches_its_recorder() -> None:
    def broken() -> None:
        raise ValueError("the database refused")

    with pytest.raises(ValueError, match="the database refused"):
        await asyncio.wait_for(outcome_record(broken), timeout=5)
