// The overview: the team region is pushed over /ws/overview/ when a subaccount's figures
// change; its 5 s poll (hx-trigger on #overview-team) runs only while that socket is down.
(function () {
  "use strict";
  var live = false;
  function ours(event) {
    var elt = event.detail && event.detail.elt;
    return elt && elt.id === "overview-live";
  }
  document.addEventListener("htmx:wsOpen", function (event) {
    if (ours(event)) { live = true; document.body.dataset.overviewPush = "live"; }
  });
  ["htmx:wsClose", "htmx:wsError"].forEach(function (name) {
    document.addEventListener(name, function (event) {
      if (ours(event)) { live = false; document.body.dataset.overviewPush = "down"; }
    });
  });
  document.addEventListener("htmx:confirm", function (event) {
    var elt = event.detail && event.detail.elt;
    if (live && elt && elt.id === "overview-team") { event.preventDefault(); }
  });
})();
