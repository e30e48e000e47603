// Small behaviours shared by every page. No framework: htmx does the requests.
(function () {
  "use strict";
  function csrfToken() {
    var headers = document.body.getAttribute("hx-headers");
    try { return JSON.parse(headers)["X-CSRFToken"]; } catch (e) { return ""; }
  }
  function rememberInCookie(theme) {
    document.cookie = "theme=" + theme + "; path=/; max-age=31536000; samesite=lax";
  }
  // The page was rendered in the user's saved theme: keep the cookie equal to it, so pages
  // rendered without a database read (and the sign-in page) show the same look.
  var rendered = document.documentElement.getAttribute("data-theme");
  if (rendered && document.cookie.indexOf("theme=" + rendered) === -1) rememberInCookie(rendered);

  function setTheme(theme) {
    document.documentElement.setAttribute("data-theme", theme);
    // The user's saved preference follows them to every browser they sign in from.
    rememberInCookie(theme);
    var body = new URLSearchParams({ theme: theme });
    fetch("/accounts/theme/", {
      method: "POST",
      body: body,
      headers: { "X-CSRFToken": csrfToken() },
      credentials: "same-origin",
    }).catch(function () { /* the look still switched; it is saved next time */ });
  }
  document.addEventListener("click", function (event) {
    var toggle = event.target.closest("[data-theme-toggle]");
    if (!toggle) return;
    var current = document.documentElement.getAttribute("data-theme") || "light";
    setTheme(current === "dark" ? "light" : "dark");
  });
})();
