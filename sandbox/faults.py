"""Fault injection for the sandbox exchange. Nothing is on by default.

Set at start with ``python -m sandbox --faults '{"latency_ms": 50}'`` or at run time through
the control routes (outside the exchange's paths):

- ``POST /_sandbox/faults`` with a JSON object: the given fields replace the current ones,
  the others stay; answers the whole current fault set.
- ``DELETE /_sandbox/faults``: everything off.
- ``GET /_sandbox/faults``: the current set.

Fields (all optional):

``latency_ms`` (int)
    Added delay before every REST answer on /api and /wapi.
``error_rate`` (0..1)
    Share of REST requests answered 500 ``SERVER_ERROR`` without being executed.
``burst_429`` (int)
    The next N REST requests get 429 ``TOO_MANY_REQUESTS`` (counts down).
``ws_drop`` (bool)
    Close every WebSocket connection now (one-shot; reads back as false).
``ws_drop_every_s`` (number)
    Close every WebSocket connection every N seconds (0 = off).
``depth_gap`` (int)
    Skip the next N depth updates on every depth stream: subscribers see ``U`` jump past
    the previous ``u + 1`` and must resnapshot (counts down per market).
``clock_offset_ms`` (int)
    Added to the server's clock: ``GET /api/v1/time``, the request-expiry check and
    the timestamps of new events.
``lose_order_responses`` (int)
    The next N order placements (POST /api/v1/order and /api/v1/orders) are executed but
    their answers are lost (counts down); how is chosen by ``lost_response``.
``lost_response`` ("close" | "504" | "hang")
    "close": the connection is closed without a byte of the answer;
    "504": a 504 ``TIMEOUT`` answer; "hang": no answer for 30 s. Default "close".
``seed`` (int)
    Seed of the random generator behind ``error_rate`` (deterministic runs).
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, fields
from typing import Any

LOST_RESPONSE_MODES = ("close", "504", "hang")


class FaultError(ValueError):
    """A fault setting that cannot be applied; the message names the field."""


@dataclass
class Faults:
    """The current fault set (mutable; the server consults it on each request)."""

    latency_ms: int = 0
    error_rate: float = 0.0
    burst_429: int = 0
    ws_drop: bool = False
    ws_drop_every_s: float = 0.0
    depth_gap: int = 0
    clock_offset_ms: int = 0
    lose_order_responses: int = 0
    lost_response: str = "close"
    seed: int = 0

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def as_dict(self) -> dict[str, Any]:
        """The settings as JSON-ready values."""
        return asdict(self)

    def update(self, changes: dict[str, Any]) -> None:
        """Validate and apply ``changes``; nothing is applied when one field is bad."""
        if not isinstance(changes, dict):
            raise FaultError("faults must be a JSON object")
        parsed = {name: _parse(name, value) for name, value in changes.items()}
        for name, value in parsed.items():
            setattr(self, name, value)
        if "seed" in parsed:
            self._rng = random.Random(self.seed)

    def clear(self) -> None:
        """Everything off."""
        for spec in fields(self):
            setattr(self, spec.name, spec.default)
        self._rng = random.Random(self.seed)

    def take_error(self) -> bool:
        """True when this request should get an injected 5xx."""
        return self.error_rate > 0 and self._rng.random() < self.error_rate

    def take_429(self) -> bool:
        """True (and counts down) while a 429 burst lasts."""
        if self.burst_429 > 0:
            self.burst_429 -= 1
            return True
        return False

    def take_lost_response(self) -> bool:
        """True (and counts down) when this order placement's answer must be lost."""
        if self.lose_order_responses > 0:
            self.lose_order_responses -= 1
            return True
        return False


_INT_FIELDS = {"latency_ms", "burst_429", "depth_gap", "lose_order_responses", "seed"}


def _parse(name: str, value: Any) -> Any:
    if name in _INT_FIELDS:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise FaultError(f"{name} must be a whole number >= 0")
        return value
    if name == "clock_offset_ms":
        if isinstance(value, bool) or not isinstance(value, int):
            raise FaultError("clock_offset_ms must be a whole number of milliseconds")
        return value
    if name == "error_rate":
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            raise FaultError("error_rate must be a number between 0 and 1")
        return float(value)
    if name == "ws_drop_every_s":
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise FaultError("ws_drop_every_s must be a number of seconds >= 0")
        return float(value)
    if name == "ws_drop":
        if not isinstance(value, bool):
            raise FaultError("ws_drop must be true or false")
        return value
    if name == "lost_response":
        if value not in LOST_RESPONSE_MODES:
            raise FaultError(f"lost_response must be one of {', '.join(LOST_RESPONSE_MODES)}")
        return value
    raise FaultError(f"unknown fault {name!r}")
