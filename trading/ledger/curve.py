"""The equity curve as a time-weighted return: pure, Decimal in, Decimal out.

Between two equity points, the period's return is ``(end - flows) / start - 1`` where
``flows`` is what was deposited less what was withdrawn in between (counted at the period's
end): a deposit raises equity without raising the curve, so a deposit is not profit. The
curve chains the periods: an index that starts at 1. A period that starts from no equity
has no return (the index carries over).

Usage::

    curve = time_weighted([(t0, Decimal(100)), (t1, Decimal(210))], [(t1, Decimal(100))])
    curve[-1].index      # Decimal("1.1"): 10 % made, the 100 deposited left out
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

ONE = Decimal(1)
ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class CurvePoint:
    """Equity at ``at``, the net transfers since the previous point, and the
    time-weighted index (1 at the first point)."""

    at: datetime
    equity: Decimal
    flows: Decimal
    index: Decimal

    @property
    def return_since_start(self) -> Decimal:
        """The index less one (0.1 is 10 %)."""
        return self.index - ONE


def time_weighted(
    points: Sequence[tuple[datetime, Decimal]], flows: Sequence[tuple[datetime, Decimal]]
) -> list[CurvePoint]:
    """The curve through ``points`` (time, equity; any order) with ``flows`` (time, signed
    amount: deposits positive) falling in (previous point, point]; flows before the first
    point are left out."""
    ordered = sorted(points, key=lambda p: p[0])
    pending = sorted(flows, key=lambda f: f[0])
    curve: list[CurvePoint] = []
    position = 0
    for at, equity in ordered:
        moved = ZERO
        while position < len(pending) and pending[position][0] <= at:
            if curve:
                moved += pending[position][1]
            position += 1
        if not curve:
            curve.append(CurvePoint(at, equity, ZERO, ONE))
            continue
        previous = curve[-1]
        index = previous.index
        if previous.equity > 0:
            index = index * (equity - moved) / previous.equity
        curve.append(CurvePoint(at, equity, moved, index))
    return curve


__all__ = ["CurvePoint", "time_weighted"]
