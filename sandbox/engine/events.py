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
from typing import Any

ORDER_UPDATE = "account.orderUpdate"
POSITION_UPDATE = "account.positionUpdate"


class Event:
    """One stream message: ``{"stream": stream, "data": data}`` on the wire.

    ``data`` is built on first access from a snapshot taken when the event happened, so
    events nobody subscribes to cost almost nothing; the payload is the same whenever it
    is read.
    """

    __slots__ = ("stream", "symbol", "subaccount_id", "_data", "_build")

    def __init__(
        self,
        stream: str,
        data: dict[str, Any] | None = None,
        symbol: str | None = None,
        subaccount_id: int | None = None,
        build: tuple | None = None,
    ) -> None:
        self.stream = stream
        self.symbol = symbol
        self.subaccount_id = subaccount_id
        self._data = data
        self._build = build  # (function, *arguments) making ``data``

    @property
    def data(self) -> dict[str, Any]:
        """The stream payload (one-letter keys, decimals as strings)."""
        data = self._data
        if data is None:
            build = self._build
            data = self._data = build[0](*build[1:])
            self._build = None
        return data

    @property
    def is_private(self) -> bool:
        """True for ``account.*`` streams, which only the owning subaccount may see."""
        return self.subaccount_id is not None

    def to_wire(self) -> dict[str, Any]:
        """The frame the WebSocket server sends: ``{"stream": ..., "data": ...}``."""
        return {"stream": self.stream, "data": self.data}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Event):
            return NotImplemented
        return (self.stream, self.symbol, self.subaccount_id, self.data) == (
            other.stream,
            other.symbol,
            other.subaccount_id,
            other.data,
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Event({self.stream!r}, {self.data!r}, sub={self.subaccount_id})"


Listener = Callable[[Event], None]
