// triage report: sort and filter the matches table. Inline, pinned by its SHA-256 in the page's
// Content-Security-Policy; it reads only the page and never loads anything.
(function () {
  "use strict";
  var table = document.getElementById("match-table");
  var filter = document.getElementById("match-filter");
  var count = document.getElementById("match-count");
  if (!table || !filter) { return; }
  var groups = Array.prototype.slice.call(table.tBodies);
  function apply() {
    var q = filter.value.toLowerCase(), shown = 0;
    groups.forEach(function (g) {
      var hit = !q || g.textContent.toLowerCase().indexOf(q) !== -1;
      g.hidden = !hit;
      if (hit) { shown += 1; }
    });
    count.textContent = shown + " of " + groups.length + " shown";
  }
  filter.addEventListener("input", apply);
  Array.prototype.forEach.call(table.querySelectorAll("button[data-key]"), function (b) {
    b.addEventListener("click", function () {
      var key = b.getAttribute("data-key"), numeric = b.hasAttribute("data-numeric");
      var dir = b.getAttribute("aria-sort") === "ascending" ? -1 : 1;
      Array.prototype.forEach.call(table.querySelectorAll("button[data-key]"), function (o) {
        o.removeAttribute("aria-sort");
      });
      b.setAttribute("aria-sort", dir === 1 ? "ascending" : "descending");
      groups.sort(function (x, y) {
        var a = x.getAttribute("data-" + key) || "", c = y.getAttribute("data-" + key) || "";
        var r = numeric ? Number(a) - Number(c) : a.localeCompare(c);
        return r * dir || Number(x.getAttribute("data-n")) - Number(y.getAttribute("data-n"));
      });
      groups.forEach(function (g) { table.appendChild(g); });
    });
  });
  filter.hidden = false;
  apply();
})();
