"""Equity sparklines: a series of (time, equity) drawn as an inline SVG polyline, server-side.

Coordinates are computed with Decimal and written with one decimal place; no JavaScript.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

WIDTH = 160
HEIGHT = 32
PAD = 2
_ONE_PLACE = Decimal("0.1")
_MICRO = timedelta(microseconds=1)


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


def _coord(value: Decimal) -> str:
    return format(value.quantize(_ONE_PLACE, rounding=ROUND_HALF_UP), "f")


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
    the series' low to high (a flat series is drawn in the middle).
    """
    inside = [(t, v) for t, v in series if start <= t <= end]
    if not inside:
        return Sparkline(label, "", 0, None, None, None, None, width, height)
    values = [v for _, v in inside]
    low, high = min(values), max(values)
    span_us = Decimal(max((end - start) // _MICRO, 1))
    inner_w = Decimal(width - 2 * PAD)
    inner_h = Decimal(height - 2 * PAD)
    coords = []
    for taken_at, value in inside:
        x = PAD + inner_w * Decimal((taken_at - start) // _MICRO) / span_us
        if high == low:
            y = Decimal(height) / 2
        else:
            y = PAD + inner_h * (high - value) / (high - low)
        coords.append(f"{_coord(x)},{_coord(y)}")
    points = " ".join(coords) if len(coords) >= 2 else ""
    return Sparkline(label, points, len(inside), values[0], values[-1], low, high, width, height)
