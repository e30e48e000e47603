"""Equity sparklines: a series of (time, equity) drawn as an inline SVG polyline, server-side.

Drawn without JavaScript; the money values stay Decimal, pixels are integers.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from decimal import Decimal
from operator import itemgetter

WIDTH = 160
HEIGHT = 32
PAD = 2
_MICRO = timedelta(microseconds=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NAIVE_EPOCH = datetime(1970, 1, 1)
_time = itemgetter(0)


@dataclass(frozen=True, slots=True)
class Sparkline:
    """One drawn series. `points` is the polyline's `points` attribute ('' when < 2 points)."""

    label: str
    points: str
    count: int
    first: Decimal | None
    last: Decimal | None
    low: Decimal | None
    high: Decimal | None
    width: int = WIDTH
    height: int = HEIGHT

    @property
    def change(self) -> Decimal | None:
        """last - first (None without two points)."""
        if self.count < 2 or self.first is None or self.last is None:
            return None
        return self.last - self.first

    @property
    def rising(self) -> bool:
        return (self.change or Decimal(0)) >= 0


def _tenths(value: int) -> str:
    return f"{value // 10}.{value % 10}"


def micros(moment: datetime) -> int:
    """Epoch microseconds of an aware datetime."""
    return (moment - _EPOCH) // _MICRO


def micros_of_stored(moment: datetime, zone: tzinfo = UTC) -> int:
    """Epoch microseconds of a time as a database cursor returns it: aware, or naive in the
    database's `zone` (SQLite: Django stores UTC there unless the database's TIME_ZONE says
    otherwise)."""
    if moment.tzinfo is not None:
        return (moment - _EPOCH) // _MICRO
    if zone is UTC:
        return (moment - _NAIVE_EPOCH) // _MICRO
    return (moment.replace(tzinfo=zone) - _EPOCH) // _MICRO


def sparkline(
    series: list[tuple[datetime, Decimal]],
    *,
    label: str,
    start: datetime,
    end: datetime,
    width: int = WIDTH,
    height: int = HEIGHT,
) -> Sparkline:
    """Draw `series` (sorted by time) between `start` and `end` in a width x height box.

    The x axis is time (so a gap in snapshots shows as a gap in spacing); the y axis spans
    the series' low to high (a flat series is drawn in the middle). At most one point per
    pixel column is drawn (the last one in it), so a long series costs no more than a short
    one. Coordinates are integer tenths of a pixel, rounded down.
    """
    timed = [(micros(t), v) for t, v in series]
    return draw(timed, label=label, start=start, end=end, width=width, height=height)


def draw(
    timed: list[tuple[int, Decimal]],
    *,
    label: str,
    start: datetime,
    end: datetime,
    width: int = WIDTH,
    height: int = HEIGHT,
) -> Sparkline:
    """`sparkline` for points (sorted by time) whose times are already epoch microseconds
    (drawing several windows of one series converts its times once)."""
    first_us, last_us = micros(start), micros(end)
    # `timed` is sorted by time: the window is one slice.
    inside = timed[
        bisect_left(timed, first_us, key=_time) : bisect_right(timed, last_us, key=_time)
    ]
    if not inside:
        return Sparkline(label, "", 0, None, None, None, None, width, height)
    values = [v for _, v in inside]
    low, high = min(values), max(values)
    span_us = max(last_us - first_us, 1)
    inner_w = width - 2 * PAD
    # the last point of each pixel column (a dict keeps the first insertion's order)
    columns = {inner_w * (t - first_us) // span_us: value for t, value in inside}
    inner_h10 = Decimal((height - 2 * PAD) * 10)
    spread = high - low
    coords = []
    for column, value in columns.items():
        if spread:
            y10 = PAD * 10 + int(inner_h10 * (high - value) / spread)
        else:
            y10 = height * 5
        coords.append(f"{PAD + column}.0,{_tenths(y10)}")
    points = " ".join(coords) if len(coords) >= 2 else ""
    return Sparkline(label, points, len(inside), values[0], values[-1], low, high, width, height)
