"""Every function of the desk that sends a batch of orders (`place_orders`), a trigger order
(`place_trigger_order`, `place_position_exit`) or starts a strategy whose orders the exchange
sends (`create_twap`) passes it through the gate first
(`risk_gate_admit_all`, or `risk_gate_admit`), as `test_every_order_path_passes_the_gate`
requires of single orders."""

from __future__ import annotations

import ast

from tests.trading.risk.test_every_order_path_passes_the_gate import (
    _called,
    _functions,
    desk_sources,
)

GATES = {"risk_gate_admit_all", "risk_gate_admit"}
SENDS = {"place_orders", "create_twap", "place_trigger_order", "place_position_exit"}


def ungated_batch_paths(sources: dict[str, str]) -> list[str]:
    """'path:function' of each function that sends a batch without passing the gate."""
    functions = [(path, fn) for path, text in sources.items() for fn in _functions(ast.parse(text))]
    gates = GATES | {fn.name for _, fn in functions if GATES & set(dict(_called(fn)))}
    bad = []
    for path, fn in functions:
        calls = _called(fn)
        sends = [line for name, line in calls if name in SENDS]
        if not sends:
            continue
        gated = [line for name, line in calls if name in gates and name != fn.name]
        if not gated or min(gated) > min(sends):
            bad.append(f"{path}:{fn.name}")
    return bad


def test_the_checker_finds_a_batch_without_the_gate() -> None:
    ungated = "async def ladder(client):\n    await client.place_orders([])\n"
    twap = "async def twap(client):\n    await client.create_twap('SOL_USDC', 'Bid')\n"
    gated = (
        "async def ladder(client):\n    await risk_gate_admit_all()\n"
        "    await client.place_orders([])\n"
    )
    assert ungated_batch_paths({"a.py": ungated, "b.py": gated, "c.py": twap}) == [
        "a.py:ladder",
        "c.py:twap",
    ]


def test_every_batch_of_the_desk_passes_the_gate() -> None:
    sources = desk_sources()
    assert {
        "trading/ladder/services.py",
        "trading/twap/services.py",
        "trading/exits/services.py",
    } <= set(sources)
    assert ungated_batch_paths(sources) == []
