// Live refresh. An element with data-live-stream (school and zone pages) opens a server-sent
// event stream and patches the rows it is sent (tr[data-child] / tr[data-school]) in place;
// any other element with data-live-src is re-fetched on a timer (answered 304 while nothing
// changed) and replaced when its HTML changed. Same origin only; no third-party code.
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
    var etag = null;
    function tick() {
      if (busy || document.hidden) { return; }
      busy = true;
      var headers = { "X-Requested-With": "live" };
      if (etag) { headers["If-None-Match"] = etag; }
      fetch(src, { credentials: "same-origin", headers: headers })
        .then(function (r) {
          if (r.status === 304) { return null; }
          etag = r.headers.get("ETag");
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
  function patch(el, attr, data) {
    var n = 0;
    Object.keys(data.rows).forEach(function (key) {
      var holder = document.createElement("tbody");
      holder.innerHTML = data.rows[key];
      var row = holder.firstElementChild;
      var old = el.querySelector("tr[" + attr + '="' + key + '"]');
      if (old) {
        // "New since your last visit" is the viewer's own (rows are rendered once for every
        // viewer alike): a row keeps the badge it had when the page was loaded.
        var badge = old.querySelector("th .badge.new-since");
        var head = row.querySelector("th");
        if (badge && head && !head.querySelector(".badge.new-since")) {
          head.appendChild(document.createTextNode(" "));
          head.appendChild(badge);
        }
        old.replaceWith(row);
      } else {
        var body = el.querySelector("tbody");  // a child new to the list: at the end until reload
        var empty = body && body.querySelector("td[colspan]");
        if (empty) { empty.parentNode.remove(); }
        if (body) { body.appendChild(row); }
      }
      n++;
    });
    data.gone.forEach(function (key) {
      var old = el.querySelector("tr[" + attr + '="' + key + '"]');
      if (old) { old.remove(); n++; }
    });
    if (n) { announce("Updated " + n + (n === 1 ? " row" : " rows") + " at " + new Date().toLocaleTimeString()); }
  }
  function stream(el) {
    var source = new EventSource(el.getAttribute("data-live-stream"));
    source.addEventListener("rows", function (e) { patch(el, "data-child", JSON.parse(e.data)); });
    source.addEventListener("schools", function (e) { patch(el, "data-school", JSON.parse(e.data)); });
    source.addEventListener("ended", function () {
      source.close();
      announce("Live updates stopped: your session has ended. Reload the page to sign in.");
    });
    source.onerror = function () {  // it reconnects by itself unless the server refused it
      announce(source.readyState === EventSource.CLOSED
        ? "Live updates stopped: your session has ended. Reload the page to sign in."
        : "Live updates paused: reconnecting to the dashboard.");
    };
  }
  document.addEventListener("DOMContentLoaded", function () {
    var els = document.querySelectorAll("[data-live-stream], [data-live-src]");
    for (var i = 0; i < els.length; i++) {
      if (els[i].hasAttribute("data-live-stream") && window.EventSource) { stream(els[i]); }
      else if (els[i].hasAttribute("data-live-src")) { watch(els[i]); }
    }
  });
})();
