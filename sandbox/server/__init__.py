"""The sandbox exchange's server: Starlette REST + WebSocket on one port, run by uvicorn.

``build_app(ServerConfig(seed=load_seed()))`` gives the ASGI app; ``sandbox/__main__.py``
serves it. Modules: ``auth`` (signature check), ``routing`` (the per-route checks),
``public`` / ``private`` (REST handlers), ``ws`` (streams), ``control`` (/_sandbox routes),
``state`` (the engine built from the seed), ``ratelimit``, ``errors``, ``params``.
"""

from __future__ import annotations

from sandbox.server.app import build_app
from sandbox.server.state import Sandbox, ServerConfig

__all__ = ["Sandbox", "ServerConfig", "build_app"]
