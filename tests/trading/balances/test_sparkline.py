"""Equity sparklines drawn server-side as SVG polyline points."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

from trading.balances.sparkline import sparkline

END = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
START = END - timedelta(hours=24)


def test_points_span_the_box_in_time_and_value():
    series = [(START, D("100")), (START + timedelta(hours=12), D("150")), (END, D("200"))]

    line = sparkline(series, label="24 h", start=START, end=END, width=104, height=24)

    # x from 2 to 102 over the day; y from 22 (low) to 2 (high)
    assert line.points == "2.0,22.0 52.0,12.0 102.0,2.0"
    assert (line.low, line.high, line.change) == (D("100"), D("200"), D("100"))
    assert line.rising


def test_a_falling_series_is_marked_falling():
    line = sparkline([(START, D("5")), (END, D("4"))], label="24 h", start=START, end=END)

    assert line.change == D("-1")
    assert not line.rising


def test_points_outside_the_window_are_left_out_and_one_point_draws_nothing():
    series = [(START - timedelta(minutes=5), D("1")), (END, D("2"))]

    line = sparkline(series, label="24 h", start=START, end=END)

    assert line.count == 1
    assert line.points == ""
    assert line.change is None


def test_a_flat_series_is_drawn_across_the_middle():
    line = sparkline(
        [(START, D("7")), (END, D("7"))], label="7 d", start=START, end=END, width=20, height=10
    )

    assert line.points == "2.0,5.0 18.0,5.0"
