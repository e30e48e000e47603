// Small behaviours shared by every page. No framework: htmx does the requests.
(function () {
  "use strict";
  function rememberInCookie(theme) {
    document.cookie = "theme=" + theme + "; path=/; max-age=31536000; samesite=lax";
  }
  // The page was rendered in the user's saved theme: keep the cookie equal to it, so pages
  // rendered without a database read (and the sign-in page) show the same look.
  var rendered = document.documentElement.getAttribute("data-theme");
  if (rendered && document.cookie.indexOf("theme=" + rendered) === -1) rememberInCookie(rendered);

  function setTheme(toggle, theme) {
    document.documentElement.setAttribute("data-theme", theme);
    // The user's saved preference follows them to every browser they sign in from. htmx
    // sends it with the CSRF header of <body hx-headers>; the look switched whatever the answer.
    rememberInCookie(theme);
    var url = toggle.getAttribute("data-theme-url");
    if (url && window.htmx) {
      htmx.ajax("POST", url, { source: toggle, values: { theme: theme }, swap: "none" });
    }
  }
  // At phone width the header is a menu: the button opens and closes it.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-menu-toggle]");
    if (!button) return;
    var bar = button.closest(".topbar");
    var open = !bar.classList.contains("is-open");
    bar.classList.toggle("is-open", open);
    button.setAttribute("aria-expanded", open ? "true" : "false");
  });

  document.addEventListener("click", function (event) {
    var toggle = event.target.closest("[data-theme-toggle]");
    if (!toggle) return;
    var current = document.documentElement.getAttribute("data-theme") || "light";
    setTheme(toggle, current === "dark" ? "light" : "dark");
  });

  // The alerts bell is pushed over the account socket; open it on the bell's holder only when
  // the page does not open the same socket itself (one socket per page, so account events
  // never arrive twice). Runs before htmx processes the page (both are deferred, htmx first,
  // and htmx starts on DOMContentLoaded).
  var alertsSocket = document.getElementById("alerts-socket");
  var accountSocket = alertsSocket && alertsSocket.getAttribute("data-ws-url");
  if (accountSocket && !document.querySelector('[ws-connect="' + accountSocket + '"]')) {
    alertsSocket.setAttribute("hx-ext", "ws");
    alertsSocket.setAttribute("ws-connect", accountSocket);
  }

  // Live updates: a socket that closes shows why in one banner until it is open again.
  // htmx's ws extension reconnects by itself, with growing, jittered delays, after 1006 (the
  // connection was lost), 1011, 1012 and 1013. The desk closes a socket whose live updates it
  // could not set up with 4013 (1013 "try again later" in the range daphne may send), which the
  // extension is handed as 1013 so that it reconnects the same way.
  var TRY_AGAIN = 4013;
  var CLOSE_REASONS = {
    1006: "the connection to the desk was lost",
    1011: "the desk hit an error",
    1012: "the desk is restarting",
    4013: "the desk could not set them up",
    4401: "you are signed out; sign in again to resume them",
  };
  var RECONNECTING = [1006, 1011, 1012, 1013, TRY_AGAIN];
  if (window.htmx) {
    htmx.createWebSocket = function (url) {
      var socket = new WebSocket(url, []);
      socket.binaryType = htmx.config.wsBinaryType;
      var onclose = null;
      Object.defineProperty(socket, "onclose", {
        get: function () { return onclose; },
        set: function (handler) { onclose = handler; },
      });
      socket.addEventListener("close", function (event) {
        if (!onclose) return;
        onclose(event.code !== TRY_AGAIN ? event : {
          type: "close", code: 1013, reason: event.reason, wasClean: event.wasClean, desk: event,
        });
      });
      return socket;
    };
  }
  // A socket carries every region of the member's subaccounts; a page shows some of them
  // (most pages only the bell). A pushed piece whose region is not on this page is dropped
  // before htmx swaps it, where htmx logged an error for each (htmx:oobErrorNoTarget).
  // <body hx-ext="live-regions"> applies it to every socket; a request's own answer is left.
  function regionOnPage(piece) {
    var swap = piece.getAttribute("hx-swap-oob") || "true";
    var colon = swap.indexOf(":");
    if (colon < 0) return !!(piece.id && document.getElementById(piece.id));
    try {
      return !!document.querySelector(swap.slice(colon + 1));
    } catch (error) {
      return true; // a selector this code cannot read: htmx says what is wrong with it
    }
  }
  if (window.htmx) {
    htmx.defineExtension("live-regions", {
      transformResponse: function (text, xhr) {
        if (xhr) return text;
        var holder = document.createElement("template");
        holder.innerHTML = text;
        var pieces = Array.from(holder.content.children);
        var missing = pieces.filter(function (piece) {
          return piece.hasAttribute("hx-swap-oob") && !regionOnPage(piece);
        });
        if (!missing.length) return text;
        missing.forEach(function (piece) { piece.remove(); });
        return holder.innerHTML;
      },
    });
  }
  var closed = new Map(); // socket element -> the code it closed with, until it opens again
  function showLiveState() {
    var banner = document.getElementById("live-banner");
    if (!banner) return;
    if (!closed.size) {
      banner.hidden = true;
      banner.textContent = "";
      banner.removeAttribute("data-close-code");
      return;
    }
    var code = Array.from(closed.values()).pop();
    var why = CLOSE_REASONS[code] || "the connection closed (code " + code + ")";
    banner.textContent = "Live updates stopped: " + why + "." +
      (RECONNECTING.indexOf(code) >= 0 ? " Reconnecting\u2026" : "");
    banner.setAttribute("data-close-code", String(code));
    banner.hidden = false;
  }
  document.addEventListener("htmx:wsClose", function (event) {
    var closeEvent = event.detail && event.detail.event;
    var code = closeEvent ? (closeEvent.desk || closeEvent).code : 0;
    if (code === 1000 || code === 1001) return; // closed on purpose (page left)
    closed.delete(event.target);
    closed.set(event.target, code);
    var status = event.target.querySelector ? event.target.querySelector("#live-status") : null;
    if (status) { // the presence socket's badge: no longer live until it reconnects
      status.classList.remove("is-live");
      status.textContent = "Reconnecting\u2026";
    }
    showLiveState();
  });
  // A form whose values were used up (an exit set from a position card) empties when its
  // answer arrives, before the card is swapped (its inputs are kept across live swaps).
  document.addEventListener("deskFormDone", function (event) {
    var ids = (event.detail && event.detail.inputs) || [];
    ids.forEach(function (id) {
      var input = document.getElementById(id);
      if (input) input.value = "";
    });
  });
  document.addEventListener("htmx:wsOpen", function (event) {
    closed.delete(event.target);
    showLiveState();
  });
})();
