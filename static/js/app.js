// Small behaviours shared by every page. No framework: htmx does the requests.
(function () {
  "use strict";
  function csrfToken() {
    var headers = document.body.getAttribute("hx-headers");
    try { return JSON.parse(headers)["X-CSRFToken"]; } catch (e) { return ""; }
  }
  function setTheme(theme) {
    document.documentElement.setAttribute("data-theme", theme);
    // The cookie keeps the sign-in page in the same look; the user's saved preference
    // follows them to every browser they sign in from.
    document.cookie = "theme=" + theme + "; path=/; max-age=31536000; samesite=lax";
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
