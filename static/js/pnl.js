// The PnL page: the team's equity curve (lightweight-charts v5) from the JSON the page carries.
(function () {
  "use strict";
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
