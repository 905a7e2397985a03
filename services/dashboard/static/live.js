// Live refresh: every element with data-live-src is re-fetched on a timer and replaced when
// its HTML changed, so a newly projected mark or outcome shows without a manual reload.
// Same origin only (the session cookie goes along); no third-party code.
(function () {
  "use strict";
  function announce(text) {
    var status = document.getElementById("live-status");
    if (status) { status.textContent = text; }
  }
  function watch(el) {
    var src = el.getAttribute("data-live-src");
    var ms = parseInt(el.getAttribute("data-live-ms") || "3000", 10);
    var busy = false;
    var timer = null;
    function tick() {
      if (busy || document.hidden) { return; }
      busy = true;
      fetch(src, { credentials: "same-origin", headers: { "X-Requested-With": "live" } })
        .then(function (r) {
          if (r.status === 401) {  // Refreshing is not activity: the session may end meanwhile.
            clearInterval(timer);
            announce("Live updates stopped: your session has ended. Reload the page to sign in.");
          }
          return r.ok ? r.text() : null;
        })
        .then(function (html) {
          if (html !== null && html.trim() !== el.innerHTML.trim()) {
            // Keep keyboard focus where it was if the focused link is still in the new HTML.
            var focused = document.activeElement && el.contains(document.activeElement)
              ? document.activeElement.getAttribute("href") : null;
            el.innerHTML = html;
            if (focused) {
              var again = el.querySelector('a[href="' + focused + '"]');
              if (again) { again.focus(); }
            }
            announce("Updated at " + new Date().toLocaleTimeString());
          }
        })
        .catch(function () { announce("Live updates paused: the dashboard is not reachable."); })
        .then(function () { busy = false; });
    }
    timer = setInterval(tick, ms);
  }
  document.addEventListener("DOMContentLoaded", function () {
    var els = document.querySelectorAll("[data-live-src]");
    for (var i = 0; i < els.length; i++) { watch(els[i]); }
  });
})();
