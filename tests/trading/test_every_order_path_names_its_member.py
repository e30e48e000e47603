"""Every function of the desk that sends an order records a desk ticket first (its clientId
in the member's name), so the open orders name the member and PnL by member counts its fills.

Reads the source of every desk module, as the gate's check does
(`tests/trading/risk/test_every_order_path_passes_the_gate.py`): a function that calls a
client's order-sending method must, earlier in its body, record a ticket. A new order path
that forgets it fails here.
"""

from __future__ import annotations

import ast

from tests.trading.risk.test_every_order_path_passes_the_gate import (
    _called,
    _functions,
    desk_sources,
)

SENDS = {
    "place_order",
    "place_orders",
    "place_trigger_order",
    "place_position_exit",
    "create_twap",  # the exchange sends its slices, which carry only the strategy's id
}
RECORDS = {"desk_tickets_record", "_ticket_claim"}


def unnamed_order_paths(sources: dict[str, str]) -> list[str]:
    """'path:function' of each function that sends an order before recording its ticket."""
    bad = []
    for path, text in sources.items():
        for fn in _functions(ast.parse(text)):
            calls = _called(fn)
            sends = [line for name, line in calls if name in SENDS]
            if not sends:
                continue
            records = [line for name, line in calls if name in RECORDS]
            if not records or min(records) > min(sends):
                bad.append(f"{path}:{fn.name}")
    return bad


def test_the_checker_finds_an_order_path_without_a_ticket() -> None:
    unnamed = "async def ladder(client):\n    await client.place_orders([])\n"
    named = (
        "async def close(client):\n    await desk_tickets_record()\n"
        "    await client.place_order('X', 'Ask')\n"
    )

    assert unnamed_order_paths({"a.py": unnamed, "b.py": named}) == ["a.py:ladder"]


def test_every_order_path_of_the_desk_records_a_ticket() -> None:
    sources = desk_sources()
    senders = {
        f"{path}:{fn.name}"
        for path, text in sources.items()
        for fn in _functions(ast.parse(text))
        if SENDS & set(dict(_called(fn)))
    }
    # the sentinel: the known order paths are found, so an empty answer means something
    assert {
        "trading/services.py:order_place",
        "trading/services.py:position_close",
        "trading/ladder/services.py:ladder_place",
        "trading/exits/services.py:position_exit_set",
        "trading/twap/services.py:twap_start",
    } <= senders

    assert unnamed_order_paths(sources) == []
