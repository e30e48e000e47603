// The market page: candle chart (lightweight-charts v5), interval switch, live candles from the
// relay's hidden #kline-<symbol> region, click-to-fill from the book, message dismissal.
(function () {
  "use strict";

  // Shared by every trading page: the message region's dismiss button, and a cap on the
  // live account events feed so a long session does not grow the page without end.
  var MAX_EVENTS = 50;
  document.addEventListener("click", function (event) {
    if (!event.target.closest("[data-dismiss-message]")) return;
    var box = document.getElementById("trading-message");
    if (box) box.innerHTML = "";
  });
  document.body.addEventListener("htmx:oobAfterSwap", function () {
    var feed = document.getElementById("account-events");
    while (feed && feed.children.length > MAX_EVENTS) feed.removeChild(feed.lastElementChild);
  });

  var page = document.querySelector(".market-page");
  if (!page) return;
  var symbol = page.getAttribute("data-symbol");
  var klinesUrl = page.getAttribute("data-klines-url");
  var container = document.getElementById("chart-" + symbol);
  var statusLine = document.querySelector(".chart-status");
  var interval = "1m";
  var chart = null;
  var series = null;
  var lastTime = 0;
  var refreshTimer = null;

  function cssVar(name, fallback) {
    var value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
    return value || fallback;
  }

  function decimals(step) {
    var text = String(step || "0.01");
    var dot = text.indexOf(".");
    return dot < 0 ? 0 : text.length - dot - 1;
  }

  function say(text) {
    if (statusLine) statusLine.textContent = text;
  }

  // Prices travel as decimal strings; the chart plots numbers (display only, never sent back).
  function bar(point) {
    return {
      time: Number(point.time),
      open: Number(point.open),
      high: Number(point.high),
      low: Number(point.low),
      close: Number(point.close),
    };
  }

  function makeChart() {
    if (!container || typeof LightweightCharts === "undefined") {
      say("The chart library did not load.");
      return;
    }
    var step = container.getAttribute("data-price-step") || "0.01";
    chart = LightweightCharts.createChart(container, {
      autoSize: true,
      layout: { background: { color: cssVar("--panel", "#fff") }, textColor: cssVar("--text", "#222") },
      grid: {
        vertLines: { color: cssVar("--border", "#ddd") },
        horzLines: { color: cssVar("--border", "#ddd") },
      },
      timeScale: { timeVisible: true, secondsVisible: false },
      rightPriceScale: { borderColor: cssVar("--border", "#ddd") },
    });
    series = chart.addSeries(LightweightCharts.CandlestickSeries, {
      upColor: cssVar("--bid", "#0f9d58"),
      downColor: cssVar("--ask", "#d93025"),
      wickUpColor: cssVar("--bid", "#0f9d58"),
      wickDownColor: cssVar("--ask", "#d93025"),
      borderVisible: false,
      priceFormat: { type: "price", precision: decimals(step), minMove: Number(step) },
    });
  }

  function load(wanted) {
    if (!series) return;
    say("Loading " + wanted + " candles…");
    fetch(klinesUrl + "?interval=" + encodeURIComponent(wanted), {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    })
      .then(function (response) { return response.json(); })
      .then(function (body) {
        if (wanted !== interval) return;
        if (body.error) { say("Candles: " + body.error); return; }
        var bars = (body.candles || []).map(bar);
        series.setData(bars);
        lastTime = bars.length ? bars[bars.length - 1].time : 0;
        say(bars.length ? "" : "No candles yet for " + wanted + ".");
        container.setAttribute("data-bars", String(bars.length));
      })
      .catch(function (error) { say("Candles could not be loaded: " + error); });
  }

  function applyLiveCandle() {
    var el = document.getElementById("kline-" + symbol);
    if (!el || !series || !el.getAttribute("data-time")) return;
    if (el.getAttribute("data-interval") !== interval || !el.getAttribute("data-open")) return;
    var point = bar({
      time: el.getAttribute("data-time"),
      open: el.getAttribute("data-open"),
      high: el.getAttribute("data-high"),
      low: el.getAttribute("data-low"),
      close: el.getAttribute("data-close"),
    });
    if (point.time < lastTime) return; // the chart only takes the newest bar or a new one
    series.update(point);
    lastTime = point.time;
    container.setAttribute("data-live-updates", String(Number(container.getAttribute("data-live-updates") || 0) + 1));
  }

  function choose(button) {
    interval = button.getAttribute("data-interval");
    document.querySelectorAll(".interval-switch button").forEach(function (b) {
      var on = b === button;
      b.classList.toggle("active", on);
      b.setAttribute("aria-pressed", on ? "true" : "false");
    });
    load(interval);
  }

  function recolour() {
    if (!chart || !series) return;
    chart.applyOptions({
      layout: { background: { color: cssVar("--panel", "#fff") }, textColor: cssVar("--text", "#222") },
      grid: {
        vertLines: { color: cssVar("--border", "#ddd") },
        horzLines: { color: cssVar("--border", "#ddd") },
      },
    });
  }

  makeChart();
  // market_marks.js draws the user's own orders and fills on the same chart.
  if (container && series) container.deskChart = { chart: chart, series: series };
  load(interval);
  // The theme switch (base.html) flips data-theme; the chart follows it.
  new MutationObserver(recolour).observe(document.documentElement, {
    attributes: true, attributeFilter: ["data-theme"],
  });
  // Between live candles (the relay streams one interval) the chart re-reads now and then.
  refreshTimer = setInterval(function () { if (!document.hidden) load(interval); }, 30000);

  document.addEventListener("click", function (event) {
    var button = event.target.closest(".interval-switch button");
    if (button) { choose(button); return; }
    var level = event.target.closest(".book-row[data-price]");
    if (level) {
      document.dispatchEvent(new CustomEvent("ticket:price", { detail: { price: level.getAttribute("data-price") } }));
    }
  });
  document.body.addEventListener("htmx:oobAfterSwap", applyLiveCandle);
  document.body.addEventListener("htmx:wsAfterMessage", applyLiveCandle);
  window.addEventListener("pagehide", function () { if (refreshTimer) clearInterval(refreshTimer); });
})();
