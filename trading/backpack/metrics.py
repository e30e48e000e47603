"""Per-call metrics: latency, outcome and error code per subaccount label and route."""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple


class CallRecord(NamedTuple):
    """One finished REST call (``outcome`` is ``"ok"`` or the error class name)."""

    label: str
    route: str
    latency_ms: float
    outcome: str
    status: int | None = None
    code: str | None = None
    attempts: int = 1


@dataclass
class MetricsCollector:
    """Collects ``CallRecord``s; ``hooks`` are called with each one (persist, export...).

    Keeps counters and the last ``keep`` records in memory; a hook that raises is ignored so
    metrics can never break trading.
    """

    keep: int = 1000
    hooks: list[Callable[[CallRecord], None]] = field(default_factory=list)
    recent: deque[CallRecord] = field(init=False)
    outcomes: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    clock_offset_ms: int = 0
    budget_left: dict[tuple[str, str], int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.recent = deque(maxlen=self.keep)

    def add_hook(self, hook: Callable[[CallRecord], None]) -> None:
        """Call ``hook(record)`` after every call."""
        self.hooks.append(hook)

    def record(self, record: CallRecord) -> None:
        """Store one call and pass it to the hooks."""
        self.recent.append(record)
        self.outcomes[(record.label, record.route, record.outcome)] += 1
        for hook in self.hooks:
            try:
                hook(record)
            except Exception:  # noqa: BLE001 - a broken exporter must not break trading
                pass

    def latencies(self, label: str | None = None) -> list[float]:
        """Recent latencies in ms, optionally for one label."""
        return [r.latency_ms for r in self.recent if label is None or r.label == label]
