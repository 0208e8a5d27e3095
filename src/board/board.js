// Refreshes the live part of the previews board (totals, chart, tables) every 15 seconds from
// /fragment with the page's own query, without reloading the page; says so when it cannot (a
// sign-in session that expired, preview-tower unreachable) rather than look current. The page
// works without it.
"use strict";
document.documentElement.classList.add("js");
(function () {
  var every = 15000;
  function refresh() {
    var live = document.getElementById("live");
    var stale = document.getElementById("stale");
    if (!live) return;
    // A tab nobody looks at asks nothing; it catches up when shown again.
    if (document.hidden) { setTimeout(refresh, every); return; }
    var query = live.getAttribute("data-query") || "";
    fetch("fragment" + query, { credentials: "same-origin", cache: "no-store", redirect: "error" })
      .then(function (answer) { return answer.ok ? answer.text() : Promise.reject(answer.status); })
      .then(function (html) {
        var scroller = live.querySelector(".scroll");
        var left = scroller ? scroller.scrollLeft : 0;
        live.innerHTML = html;
        scroller = live.querySelector(".scroll");
        if (scroller) scroller.scrollLeft = left;
        if (stale) stale.hidden = true;
      })
      .catch(function () { if (stale) stale.hidden = false; })
      .finally(function () { setTimeout(refresh, every); });
  }
  setTimeout(refresh, every);
})();
