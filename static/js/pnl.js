// The PnL page: the team's equity curve (lightweight-charts v5) from the JSON the page carries.
(function () {
  "use strict";
  // USDC as the desk shows it everywhere (trading.formatting.usdc): thousands grouped, two
  // decimals, never "-0.00"; the axis and the crosshair's label both use it.
  var USDC = new Intl.NumberFormat("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  function usdc(value) {
    var text = USDC.format(value);
    return text === "-0.00" ? "0.00" : text;
  }
  function draw() {
    var container = document.getElementById("equity-curve");
    var data = document.getElementById("equity-curve-data");
    if (!container || !data || !window.LightweightCharts) return;
    var points = JSON.parse(data.textContent).map(function (p) {
      return { time: p.time, value: Number(p.value) };
    });
    var chart = LightweightCharts.createChart(container, {
      autoSize: true,
      timeScale: { timeVisible: true },
      localization: { priceFormatter: usdc },
    });
    var series = chart.addSeries(LightweightCharts.LineSeries, { lineWidth: 2 });
    series.setData(points);
    chart.timeScale().fitContent();
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
