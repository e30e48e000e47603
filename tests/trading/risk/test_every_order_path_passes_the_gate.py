"""Every function of the desk that sends an order calls the risk gate first (issue 15.2).

Reads the source of every desk module (not the exchange client, not the sandbox): a function
that calls `<client>.place_order(...)` must, earlier in its body, call `risk_gate_admit` or a
function that calls it. A new order path (ladder, TWAP, script endpoint) without the gate
fails here.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
DESK = ("accounts", "dashboard", "trading", "scripts")
EXEMPT = ("trading/backpack/",)
GATE = "risk_gate_admit"
SENDS = "place_order"


def _called(node: ast.AST) -> list[tuple[str, int]]:
    out = []
    for call in ast.walk(node):
        if isinstance(call, ast.Call):
            func = call.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            out.append((name, call.lineno))
    return out


def _functions(tree: ast.AST) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    kinds = (ast.FunctionDef, ast.AsyncFunctionDef)
    return [n for n in ast.walk(tree) if isinstance(n, kinds)]


def ungated_order_paths(sources: dict[str, str]) -> list[str]:
    """'path:function' of each function that sends an order without passing the gate."""
    functions = [(path, fn) for path, text in sources.items() for fn in _functions(ast.parse(text))]
    gates = {GATE} | {fn.name for _, fn in functions if GATE in dict(_called(fn))}
    bad = []
    for path, fn in functions:
        calls = _called(fn)
        sends = [line for name, line in calls if name == SENDS]
        if not sends:
            continue
        gated = [line for name, line in calls if name in gates and name != fn.name]
        if not gated or min(gated) > min(sends):
            bad.append(f"{path}:{fn.name}")
    return bad


def desk_sources() -> dict[str, str]:
    out = {}
    for folder in DESK:
        for path in (ROOT / folder).rglob("*.py"):
            rel = path.relative_to(ROOT).as_posix()
            if not rel.startswith(EXEMPT) and "/migrations/" not in rel:
                out[rel] = path.read_text()
    return out


def test_the_checker_finds_an_order_path_without_the_gate() -> None:
    ungated = "async def ladder(client):\n    await client.place_order('SOL_USDC', 'Bid')\n"
    late = (
        "async def twap(client):\n    await client.place_order('SOL_USDC', 'Bid')\n"
        "    await risk_gate_admit()\n"
    )
    wrapped = (
        "async def _gate():\n    await risk_gate_admit()\n"
        "async def close(client):\n    await _gate()\n    await client.place_order('X', 'Ask')\n"
    )

    assert ungated_order_paths({"a.py": ungated, "b.py": late, "c.py": wrapped}) == [
        "a.py:ladder",
        "b.py:twap",
    ]


def test_every_order_path_of_the_desk_passes_the_gate() -> None:
    sources = desk_sources()
    senders = {
        f"{path}:{fn.name}"
        for path, text in sources.items()
        for fn in _functions(ast.parse(text))
        if SENDS in dict(_called(fn))
    }
    # the sentinel: the known order paths are found, so an empty answer means something
    assert {"trading/services.py:order_place", "trading/services.py:position_close"} <= senders

    assert ungated_order_paths(sources) == []
