"""Every route the client declares is the spec's: its path and method exist, a private
route signs with the instruction the spec documents, and every history route draws on the
historical budget."""

from __future__ import annotations

import re

from tests.sandbox.server.spec_schema import spec
from trading.backpack import routes as R

INSTRUCTION = re.compile(r"nstruction:\*\*\s*`(\w+)`")
DECLARED = [value for value in vars(R).values() if isinstance(value, R.Route)]


def test_each_declared_route_is_in_the_spec_with_its_instruction() -> None:
    paths = spec()["paths"]
    for route in DECLARED:
        operation = paths.get(route.path, {}).get(route.method.lower())
        assert operation is not None, route.label
        documented = INSTRUCTION.findall(operation.get("description", ""))
        assert documented == ([route.instruction] if route.private else []), route.label


def test_history_routes_draw_on_the_historical_budget() -> None:
    history = {r.label for r in DECLARED if r.path.startswith("/wapi/v1/history/")}
    assert {
        "GET /wapi/v1/history/fills",
        "GET /wapi/v1/history/orders",
        "GET /wapi/v1/history/funding",
        "GET /wapi/v1/history/settlement",
        "GET /wapi/v1/history/position",
    } <= history
    for route in DECLARED:
        if route.label in history or route.path in ("/api/v1/klines", "/api/v1/trades/history"):
            assert route.budget == R.HISTORICAL, route.label
