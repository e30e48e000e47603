"""Sandbox exchange engine and ledger: pure Python, no I/O, deterministic given its clock.

Public API::

    from sandbox.engine import Engine, EngineError, Event, Market, Asset, Token

    engine = Engine([Market("SOL_USDC", "SOL", "USDC")], [Asset("USDC", ...)], clock=clock_us)
    engine.listeners.append(callback)              # receives every Event
    engine.execute_order(subaccount_id, payload)   # -> spec OrderType dict, or EngineError

See :mod:`sandbox.engine.engine` for every command and query, :mod:`.events` for the
stream events, :mod:`.errors` for the error codes and messages.
"""

from __future__ import annotations

from .engine import FEE_SUBACCOUNT_ID, Clock, Engine
from .errors import EngineError
from .events import ORDER_UPDATE, POSITION_UPDATE, Event, Listener
from .markets import PERP, SPOT, Asset, Market, Token, plain

__all__ = [
    "FEE_SUBACCOUNT_ID",
    "ORDER_UPDATE",
    "PERP",
    "POSITION_UPDATE",
    "SPOT",
    "Asset",
    "Clock",
    "Engine",
    "EngineError",
    "Event",
    "Listener",
    "Market",
    "Token",
    "plain",
]
