// The order ticket: Limit/Market fields, click-to-fill price, keyboard shortcuts
// (b = buy, s = sell, Shift+X = cancel all open orders of the selected subaccount here).
// The ticket card comes again when the subaccounts the user may trade change (the account
// socket has it fetched anew): the form is looked up when used, and a new one is set up.
(function () {
  "use strict";

  var page = document.querySelector(".market-page");
  if (!page) return;
  var symbol = page.getAttribute("data-symbol");
  var form = null; // the ticket on the page now, set up by setUp()

  function changed() {
    document.body.dispatchEvent(new CustomEvent("ticket:changed", { bubbles: true }));
  }

  function syncType() {
    if (!form) return;
    var type = form.querySelector("input[name=order_type]:checked");
    var value = type ? type.value : "Limit";
    form.classList.toggle("is-market", value === "Market");
    form.classList.toggle("is-stop", value === "StopMarket" || value === "StopLimit");
    // Each group lists the order types that take it (data-types). Hidden fields are
    // disabled, so they are not sent: the server names any value given in a field the
    // order type does not take instead of dropping it silently.
    form.querySelectorAll("[data-types]").forEach(function (group) {
      var on = group.getAttribute("data-types").split(" ").indexOf(value) >= 0;
      group.hidden = !on;
      group.querySelectorAll("input, select").forEach(function (i) { i.disabled = !on; });
    });
    var side = form.querySelector("input[name=side]:checked");
    form.classList.toggle("is-sell", !!side && side.value === "Ask");
    // The ladder and TWAP links under the ticket: those of the selected subaccount.
    var select = form.querySelector("select[name=subaccount]");
    document.querySelectorAll(".ticket-tools [data-subaccount]").forEach(function (links) {
      links.hidden = !select || links.getAttribute("data-subaccount") !== select.value;
    });
  }

  function setRadio(name, value) {
    if (!form) return;
    var input = form.querySelector("input[name=" + name + "][value=" + value + "]");
    if (input && !input.checked) {
      input.checked = true;
      syncType();
      changed();
    }
  }

  function typing(target) {
    if (!target) return false;
    var tag = target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || target.isContentEditable;
  }

  document.addEventListener("ticket:price", function (event) {
    if (!form) return;
    var price = form.querySelector("input[name=price]");
    if (!price) return;
    var current = form.querySelector("input[name=order_type]:checked");
    if (!current || current.value !== "StopLimit") setRadio("order_type", "Limit");
    price.value = event.detail.price;
    price.focus();
    changed();
  });

  document.addEventListener("keydown", function (event) {
    if (!form || event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    if (!event.shiftKey && event.key === "b") { setRadio("side", "Bid"); event.preventDefault(); }
    else if (!event.shiftKey && event.key === "s") { setRadio("side", "Ask"); event.preventDefault(); }
    else if (event.shiftKey && (event.key === "X" || event.key === "x")) {
      event.preventDefault();
      var select = form.querySelector("select[name=subaccount]");
      if (!select || !select.value) return;
      // Each subaccount's block carries its cancel-all URL, rendered by the server.
      var block = page.querySelector('.account-block[data-subaccount="' + select.value + '"]');
      if (!block) return;
      var name = select.options[select.selectedIndex].text;
      if (!window.confirm("Cancel all open orders of " + name + " in " + symbol + "?")) return;
      var url = block.getAttribute("data-cancel-all-url");
      htmx.ajax("POST", url, { source: page, values: { symbol: symbol }, swap: "none" });
    }
  });

  // The 25/50/75/100 % buttons (in the feedback, computed by the server on the market's
  // grid) fill the quantity, or the quote quantity for a spot market buy, and clear the other.
  function sizeClicked(event) {
    var button = event.target.closest ? event.target.closest(".size-pct") : null;
    if (!button) return;
    event.preventDefault();
    var fill = form.querySelector("input[name=" + button.getAttribute("data-field") + "]");
    if (!fill) return;
    form.querySelectorAll("input[name=quantity], input[name=quote_quantity]").forEach(function (i) {
      if (i !== fill) i.value = "";
    });
    fill.value = button.getAttribute("data-value");
    fill.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function setUp() {
    var current = document.getElementById("ticket-form");
    if (current === form) return;
    form = current;
    if (!form) return;
    form.addEventListener("change", syncType);
    form.addEventListener("click", sizeClicked);
    syncType();
  }
  setUp();
  document.addEventListener("htmx:load", setUp);

  // A fresh result clears the quantity so the next order starts from a clean ticket. The
  // result is swapped outerHTML, so the element to look in is the one now in the page.
  document.body.addEventListener("htmx:afterSwap", function (event) {
    var detail = event.detail || {};
    if (!form) return;
    var fromTicket = detail.elt === form || (detail.target && detail.target.id === "ticket-result");
    if (!fromTicket) return;
    var result = document.getElementById("ticket-result");
    if (result && result.querySelector("[data-result=ok]")) {
      form.querySelectorAll("input[name=quantity], input[name=quote_quantity]").forEach(function (i) { i.value = ""; });
    }
  });
})();
