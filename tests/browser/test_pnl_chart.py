"""The PnL page's equity curve in Chromium: its price axis shows USDC as every other figure of
the desk does (`trading.formatting.usdc`: thousands grouped, two decimals). The axis is drawn
on a canvas, so the test reads the labels the chart draws."""

from __future__ import annotations

import json
import re

import pytest

from dashboard.settings import BASE_DIR

pytestmark = pytest.mark.browser

CHART = BASE_DIR / "static" / "vendor" / "lightweight-charts-5.2.1.standalone.production.js"
PNL_JS = BASE_DIR / "static" / "js" / "pnl.js"
DRAWN = """() => {
  window.drawnTexts = [];
  const original = CanvasRenderingContext2D.prototype.fillText;
  CanvasRenderingContext2D.prototype.fillText = function (text, ...rest) {
    window.drawnTexts.push(String(text));
    return original.call(this, text, ...rest);
  };
}"""


def test_the_equity_axis_groups_thousands_with_two_decimals(page) -> None:
    curve = [
        {"time": 1_764_547_200 + day * 86_400, "value": str(16_750_000 + day * 125_000)}
        for day in range(7)
    ]  # as the page's json_script carries it: Decimals as text
    page.set_content(
        '<div id="equity-curve" style="width: 800px; height: 260px"></div>'
        f'<script id="equity-curve-data" type="application/json">{json.dumps(curve)}</script>'
    )
    page.evaluate(DRAWN)
    page.add_script_tag(path=str(CHART))
    page.add_script_tag(path=str(PNL_JS))

    page.wait_for_function("window.drawnTexts.some((t) => /^\\d[\\d,]*\\.\\d+$/.test(t))")
    axis = [t for t in page.evaluate("window.drawnTexts") if re.fullmatch(r"[\d,]+\.\d+", t)]

    assert axis, "the chart drew no price labels"
    assert all(re.fullmatch(r"\d{1,3}(?:,\d{3})+\.\d{2}", t) for t in axis), axis
