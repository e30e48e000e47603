"""Every route the sandbox serves exists in the spec, and each signed route checks the
instruction the spec documents for it."""

from __future__ import annotations

import re

from starlette.routing import Route

from sandbox.seed import load_seed
from sandbox.server import ServerConfig, build_app
from sandbox.server.private import SIGNED_ROUTES
from tests.sandbox.server.spec_schema import spec

INSTRUCTION = re.compile(r"nstruction:\*\*\s*`(\w+)`")


def test_every_exchange_route_is_in_the_spec() -> None:
    app = build_app(ServerConfig(seed=load_seed(), maker=False))
    served = [
        (route.path, method)
        for route in app.routes
        if isinstance(route, Route) and route.path.startswith(("/api/", "/wapi/"))
        for method in route.methods - {"HEAD"}
    ]
    assert len(served) >= 33
    paths = spec()["paths"]
    missing = [(p, m) for p, m in served if m.lower() not in paths.get(p, {})]
    assert missing == []


def test_signed_routes_use_the_documented_instruction() -> None:
    paths = spec()["paths"]
    for path, method, _handler, instruction, _historical in SIGNED_ROUTES:
        description = paths[path][method.lower()].get("description", "")
        assert INSTRUCTION.findall(description) == [instruction], (path, method)


def test_public_routes_need_no_signature_in_the_spec() -> None:
    app = build_app(ServerConfig(seed=load_seed(), maker=False))
    signed = {(path, method) for path, method, *_ in SIGNED_ROUTES}
    for route in app.routes:
        if not isinstance(route, Route) or not route.path.startswith("/api/"):
            continue
        for method in route.methods - {"HEAD"}:
            if (route.path, method) in signed:
                continue
            parameters = spec()["paths"][route.path][method.lower()].get("parameters", [])
            assert "X-SIGNATURE" not in {p["name"] for p in parameters}, route.path
