"""Events the engine produces for the WebSocket streams.

Every change a stream needs comes out of the engine as an :class:`Event`: the stream name
as Backpack spells it, and ``data``, the payload exactly as the stream sends it (one-letter
keys, decimals as plain strings, ids as strings where the spec shows strings)::

    Event(stream="depth.SOL_USDC", symbol="SOL_USDC", subaccount_id=None,
          data={"e": "depth", "E": 1694687965941000, "s": "SOL_USDC",
                "a": [["18.70", "0"]], "b": [["18.67", "0.832"]],
                "U": 94978271, "u": 94978271, "T": 1694687965941000})

Private events (``stream`` starting with ``account.``) carry the ``subaccount_id`` they
belong to; the server delivers them to that subaccount's subscriptions of both
``account.orderUpdate`` and ``account.orderUpdate.<symbol>`` (``symbol`` is given).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

ORDER_UPDATE = "account.orderUpdate"
POSITION_UPDATE = "account.positionUpdate"


class Event(NamedTuple):
    """One stream message: ``{"stream": stream, "data": data}`` on the wire.

    (A NamedTuple: immutable and cheap to build, the engine makes hundreds of thousands.)
    """

    stream: str
    data: dict[str, Any]
    symbol: str | None = None
    subaccount_id: int | None = None

    @property
    def is_private(self) -> bool:
        """True for ``account.*`` streams, which only the owning subaccount may see."""
        return self.subaccount_id is not None

    def to_wire(self) -> dict[str, Any]:
        """The frame the WebSocket server sends: ``{"stream": ..., "data": ...}``."""
        return {"stream": self.stream, "data": self.data}


Listener = Callable[[Event], None]
