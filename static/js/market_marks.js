// The market page's own marks: the user's open orders as price lines on the chart and as marked
// levels in the book, the user's fills as markers on the chart, and the book's price grouping
// (tick x 1, 10, 100). Reads what the server rendered: the open-orders regions' rows
// (data-symbol, data-side, data-price), the account events' fill rows, the book's rows and its
// head's data-tick / data-step, and the fills URL (trading/views/chart.py) in data-fills-url.
//
// Prices and sizes are decimal strings; grouping adds them as integers of the tick and step
// (BigInt), so a grouped level's size is exact. Numbers reach the chart only to be drawn.
(function () {
  "use strict";

  var page = document.querySelector(".market-page");
  if (!page) return;
  var symbol = page.getAttribute("data-symbol");
  var fillsUrl = page.getAttribute("data-fills-url");
  var container = document.getElementById("chart-" + symbol);
  var BOOK_LEVELS = 20; // trading/fragments.py renders 20 levels a side
  var INTERVAL_S = { "1m": 60, "5m": 300, "15m": 900, "1h": 3600, "4h": 14400, "1d": 86400 };
  var grouping = 1;
  var linesKey = "";
  var priceLines = [];
  var markersApi = null;
  var storedFills = [];
  var liveFills = [];

  function cssVar(name, fallback) {
    var value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
    return value || fallback;
  }

  // -- exact decimals ---------------------------------------------------------------------
  function places(text) {
    var dot = String(text).indexOf(".");
    return dot < 0 ? 0 : String(text).length - dot - 1;
  }

  function units(text, digits) {
    // "150.1" with 2 digits -> 15010n; null for anything that is not a plain decimal
    var value = String(text || "").trim();
    if (!/^\d+(\.\d+)?$/.test(value)) return null;
    var parts = value.split(".");
    var fraction = (parts[1] || "").padEnd(digits, "0");
    if (fraction.length > digits) {
      if (/[^0]/.test(fraction.slice(digits))) return null;
      fraction = fraction.slice(0, digits);
    }
    return BigInt(parts[0] + fraction);
  }

  function text(value, digits) {
    var raw = value.toString().padStart(digits + 1, "0");
    if (!digits) return raw;
    return raw.slice(0, raw.length - digits) + "." + raw.slice(raw.length - digits);
  }

  // -- own open orders ----------------------------------------------------------------------
  function ownOrders() {
    var rows = document.querySelectorAll(".open-orders tr[data-order-id]");
    var orders = [];
    rows.forEach(function (row) {
      if (row.getAttribute("data-symbol") !== symbol) return;
      var price = row.getAttribute("data-price");
      if (!/^\d+(\.\d+)?$/.test(price || "")) return; // market orders have no price
      orders.push({
        id: row.getAttribute("data-order-id"),
        side: row.getAttribute("data-side"),
        price: price,
        quantity: row.getAttribute("data-quantity") || "",
        subaccount: row.getAttribute("data-subaccount-name") || "",
      });
    });
    return orders;
  }

  function drawOrderLines(orders) {
    var chart = container && container.deskChart;
    if (!chart) return;
    var key = orders.map(function (o) { return o.id + o.side + o.price + o.quantity; }).join("|");
    if (key === linesKey) return;
    linesKey = key;
    priceLines.forEach(function (line) { chart.series.removePriceLine(line); });
    priceLines = orders.map(function (order) {
      var buy = order.side === "Bid";
      return chart.series.createPriceLine({
        price: Number(order.price),
        color: buy ? cssVar("--bid", "#0f9d58") : cssVar("--ask", "#d93025"),
        lineWidth: 1,
        lineStyle: 2,
        axisLabelVisible: true,
        title: (buy ? "Buy " : "Sell ") + order.quantity + (order.subaccount ? " · " + order.subaccount : ""),
      });
    });
    container.setAttribute("data-order-lines", String(priceLines.length));
    container.setAttribute("data-order-line-prices", orders.map(function (o) { return o.price; }).join(" "));
  }

  // -- fills ----------------------------------------------------------------------------------
  function activeInterval() {
    var button = document.querySelector(".interval-switch button.active");
    return button ? button.getAttribute("data-interval") : "1m";
  }

  function drawFillMarkers() {
    var chart = container && container.deskChart;
    if (!chart || typeof LightweightCharts.createSeriesMarkers !== "function") return;
    if (!markersApi) markersApi = LightweightCharts.createSeriesMarkers(chart.series, []);
    var size = INTERVAL_S[activeInterval()] || 60;
    var newest = storedFills.length ? storedFills[storedFills.length - 1].time : 0;
    var fills = storedFills.concat(liveFills.filter(function (f) { return f.time > newest; }));
    var markers = fills.map(function (fill) {
      var buy = fill.side === "Bid";
      return {
        time: Math.floor(fill.time / size) * size,
        position: buy ? "belowBar" : "aboveBar",
        color: buy ? cssVar("--bid", "#0f9d58") : cssVar("--ask", "#d93025"),
        shape: buy ? "arrowUp" : "arrowDown",
        text: (buy ? "B " : "S ") + fill.quantity,
      };
    });
    markers.sort(function (a, b) { return a.time - b.time; });
    markersApi.setMarkers(markers);
    container.setAttribute("data-fill-markers", String(markers.length));
  }

  function loadFills() {
    if (!fillsUrl) return;
    fetch(fillsUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (body) {
        storedFills = (body.fills || []).map(function (f) {
          return { time: Number(f.time), side: f.side, quantity: f.quantity };
        });
        drawFillMarkers();
      })
      .catch(function () { /* the chart keeps its candles; marks are a convenience */ });
  }

  function takeLiveFills() {
    var rows = document.querySelectorAll('#account-events .event-row[data-event="orderFill"]');
    var added = false;
    rows.forEach(function (row) {
      if (row.getAttribute("data-marked") || row.getAttribute("data-symbol") !== symbol) return;
      row.setAttribute("data-marked", "1");
      liveFills.push({
        time: Math.floor(Date.now() / 1000),
        side: row.getAttribute("data-side"),
        quantity: row.getAttribute("data-quantity") || "",
      });
      added = true;
    });
    if (added) drawFillMarkers();
  }

  // -- the book: grouping and own levels --------------------------------------------------
  function readSide(side) {
    return Array.prototype.map.call(side.querySelectorAll(".book-row"), function (row) {
      var cells = row.querySelectorAll("span");
      return { price: row.getAttribute("data-price"), quantity: cells[1] ? cells[1].textContent.trim() : "0" };
    });
  }

  function groupSide(levels, tick, pp, qp, asks) {
    // `levels` as shown (asks highest first, bids highest first); returns grouped levels in the
    // same order with exact sizes, or null when a level is not a plain decimal.
    var size = tick * BigInt(grouping);
    var buckets = [];
    var byKey = {};
    for (var i = 0; i < levels.length; i++) {
      var price = units(levels[i].price, pp);
      var quantity = units(levels[i].quantity, qp);
      if (price === null || quantity === null) return null;
      var bucket = asks ? ((price + size - 1n) / size) * size : (price / size) * size;
      var key = bucket.toString();
      if (!byKey[key]) { byKey[key] = { price: bucket, quantity: 0n }; buckets.push(byKey[key]); }
      byKey[key].quantity += quantity;
    }
    // The book shows BOOK_LEVELS a side: the farthest group may miss levels beyond them.
    if (levels.length >= BOOK_LEVELS && buckets.length > 1) {
      if (asks) buckets.shift(); else buckets.pop();
    }
    return buckets;
  }

  function renderSide(side, buckets, pp, qp, asks, maxTotal) {
    var running = 0n;
    var order = asks ? buckets.slice().reverse() : buckets; // totals grow away from the spread
    var rows = order.map(function (b) {
      running += b.quantity;
      var pct = maxTotal > 0n ? Number((running * 1000n) / maxTotal) / 10 : 0;
      return (
        '<div class="book-row ' + (asks ? "ask" : "bid") + ' grouped" data-price="' + text(b.price, pp) +
        '" style="--depth: ' + pct + '%"><span class="px">' + text(b.price, pp) + '</span><span class="num">' +
        text(b.quantity, qp) + '</span><span class="num muted">' + text(running, qp) + "</span></div>"
      );
    });
    if (asks) rows.reverse();
    side.innerHTML = rows.join("");
  }

  function total(buckets) {
    return buckets.reduce(function (sum, b) { return sum + b.quantity; }, 0n);
  }

  function regroup() {
    var book = document.getElementById("book-" + symbol);
    if (!book) return;
    book.setAttribute("data-grouping", String(grouping));
    if (grouping === 1) return;
    var head = book.querySelector("[data-tick]");
    if (!head) return;
    var tickText = head.getAttribute("data-tick");
    var stepText = head.getAttribute("data-step");
    var asksSide = book.querySelector(".book-asks");
    var bidsSide = book.querySelector(".book-bids");
    if (!tickText || !asksSide || !bidsSide) return;
    var sample = book.querySelector(".book-row");
    var pp = sample ? places(sample.getAttribute("data-price")) : places(tickText);
    var qpSample = sample ? sample.querySelectorAll("span")[1] : null;
    var qp = qpSample ? places(qpSample.textContent.trim()) : places(stepText);
    var tick = units(tickText, pp);
    if (!tick) return;
    var asks = groupSide(readSide(asksSide), tick, pp, qp, true);
    var bids = groupSide(readSide(bidsSide), tick, pp, qp, false);
    if (!asks || !bids) return; // something unexpected: show the levels as the server sent them
    var maxTotal = total(asks) > total(bids) ? total(asks) : total(bids);
    renderSide(asksSide, asks, pp, qp, true, maxTotal);
    renderSide(bidsSide, bids, pp, qp, false, maxTotal);
  }

  function markOwnLevels(orders) {
    var book = document.getElementById("book-" + symbol);
    if (!book) return;
    var head = book.querySelector("[data-tick]");
    var tickText = head ? head.getAttribute("data-tick") : "";
    book.querySelectorAll(".book-row").forEach(function (row) {
      var rowPrice = row.getAttribute("data-price");
      var pp = places(rowPrice);
      var tick = units(tickText, pp);
      var rowUnits = units(rowPrice, pp);
      var asks = row.classList.contains("ask");
      var mine = orders.filter(function (order) {
        if ((order.side === "Ask") !== asks) return false;
        var price = units(order.price, pp);
        if (price === null || rowUnits === null) return false;
        if (grouping === 1 || !tick) return price === rowUnits;
        var size = tick * BigInt(grouping);
        var bucket = asks ? ((price + size - 1n) / size) * size : (price / size) * size;
        return bucket === rowUnits;
      });
      row.classList.toggle("own", mine.length > 0);
      if (mine.length) {
        row.setAttribute("title", "Your order" + (mine.length > 1 ? "s" : "") + ": " + mine.map(function (o) {
          return o.quantity + (o.subaccount ? " (" + o.subaccount + ")" : "");
        }).join(", "));
      } else {
        row.removeAttribute("title");
      }
    });
  }

  function refresh() {
    var orders = ownOrders();
    regroup();
    markOwnLevels(orders);
    drawOrderLines(orders);
    takeLiveFills();
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest(".book-grouping button");
    if (!button) return;
    grouping = Number(button.getAttribute("data-group")) || 1;
    document.querySelectorAll(".book-grouping button").forEach(function (b) {
      var on = b === button;
      b.classList.toggle("active", on);
      b.setAttribute("aria-pressed", on ? "true" : "false");
    });
    // back to single levels: the next push brings them; until then ask for the page's regions
    if (grouping === 1) {
      var book = document.getElementById("book-" + symbol);
      if (book && book.querySelector(".book-row.grouped")) {
        book.querySelectorAll(".book-side").forEach(function (side) { side.innerHTML = side.getAttribute("data-single") || side.innerHTML; });
      }
    }
    refresh();
  });

  // Keep the single levels of the last push, so "x1" can put them back at once.
  function keepSingles() {
    var book = document.getElementById("book-" + symbol);
    if (!book || book.querySelector(".book-row.grouped")) return;
    book.querySelectorAll(".book-side").forEach(function (side) { side.setAttribute("data-single", side.innerHTML); });
  }

  function afterSwap() {
    keepSingles();
    refresh();
  }

  document.body.addEventListener("htmx:oobAfterSwap", afterSwap);
  document.body.addEventListener("htmx:wsAfterMessage", afterSwap);
  if (container) {
    // market.js sets data-bars after each load of candles (an interval switch included)
    new MutationObserver(drawFillMarkers).observe(container, { attributes: true, attributeFilter: ["data-bars"] });
  }
  afterSwap();
  loadFills();
})();
