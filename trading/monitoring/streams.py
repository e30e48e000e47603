"""Upstream stream states as the relay reports them.

The relay calls `stream_state_report(name, connected, last_message_at, state)` whenever a
stream connects, drops, is refused by the exchange, or receives a message (cheap: a dict
assignment, no I/O), and `stream_stopped(name)` when it stops a stream on purpose (nobody
watches it any more). The agent writes the latest state of each stream to `StreamState` every
few seconds, so the health page and the alerts of every process see it. Names follow the
channel-layer groups: `market.SOL_USDC` for a public market stream, `subaccount.<pk>` for a
subaccount's private one.
`state` is the stream client's own word for it: `connected`, `disconnected`, or
`refused: <reason>` while the exchange refuses a private subscription (it counts as down).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True, slots=True)
class StreamReport:
    """The latest report of one stream in this process."""

    name: str
    connected: bool
    last_message_at: datetime | None
    changed_at: datetime
    state: str = ""


def _as_datetime(value: datetime | float | int | None) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromtimestamp(float(value), tz=UTC)


class StreamStates:
    """The latest report per stream, waiting to be written by `flush()`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._latest: dict[str, StreamReport] = {}
        self._dirty: set[str] = set()
        self._stopped: set[str] = set()

    def report(
        self,
        name: str,
        connected: bool,
        last_message_at: datetime | float | None = None,
        state: str | None = None,
    ) -> None:
        """Remember the state of stream `name` (see the module docstring); `state` defaults
        to `connected` or `disconnected`."""
        if not isinstance(name, str) or not name or len(name) > 100:
            raise ValueError(f"a stream name is 1 to 100 characters, got {name!r}")
        if not state:
            state = "connected" if connected else "disconnected"
        state = state[:200]
        now = datetime.now(UTC)
        when = _as_datetime(last_message_at)
        with self._lock:
            before = self._latest.get(name)
            changed_at = (
                now if before is None or before.connected != connected else before.changed_at
            )
            if when is None and before is not None:
                when = before.last_message_at
            self._latest[name] = StreamReport(name, bool(connected), when, changed_at, state)
            self._dirty.add(name)
            self._stopped.discard(name)

    def stopped(self, name: str) -> None:
        """The relay stopped the stream on purpose (nobody watches it): forget it, so it is
        neither shown nor alerted on as down."""
        with self._lock:
            self._latest.pop(name, None)
            self._dirty.discard(name)
            self._stopped.add(name)

    def latest(self) -> dict[str, StreamReport]:
        """Every stream this process has reported."""
        with self._lock:
            return dict(self._latest)

    def flush(self) -> int:
        """Write the streams reported since the last flush; returns how many."""
        from trading.models import StreamState

        with self._lock:
            dirty = [self._latest[name] for name in self._dirty]
            self._dirty.clear()
            stopped, self._stopped = self._stopped, set()
        now = datetime.now(UTC)
        if stopped:
            StreamState.objects.filter(name__in=stopped).delete()
        try:
            for report in dirty:
                row = StreamState.objects.filter(name=report.name).first()
                if row is None:
                    StreamState.objects.create(
                        name=report.name,
                        connected=report.connected,
                        state=report.state,
                        changed_at=report.changed_at,
                        last_message_at=report.last_message_at,
                        updated_at=now,
                    )
                    continue
                if row.connected != report.connected:
                    row.changed_at = report.changed_at
                row.connected = report.connected
                row.state = report.state
                row.last_message_at = report.last_message_at or row.last_message_at
                row.updated_at = now
                row.save(
                    update_fields=[
                        "connected",
                        "state",
                        "changed_at",
                        "last_message_at",
                        "updated_at",
                    ]
                )
        except Exception:
            with self._lock:
                self._dirty.update(report.name for report in dirty)
            raise
        return len(dirty)
