// Refreshes the live part of the previews board (totals, chart, tables) every 15 seconds from
// /fragment with the page's own query, without reloading the page. The page works without it.
"use strict";
document.documentElement.classList.add("js");
(function () {
  var every = 15000;
  function refresh() {
    var live = document.getElementById("live");
    if (!live) return;
    var query = live.getAttribute("data-query") || "";
    fetch("fragment" + query, { credentials: "same-origin", cache: "no-store" })
      .then(function (answer) { return answer.ok ? answer.text() : Promise.reject(answer.status); })
      .then(function (html) { live.innerHTML = html; })
      .catch(function () { /* keep what is shown; try again later */ })
      .finally(function () { setTimeout(refresh, every); });
  }
  setTimeout(refresh, every);
})();
