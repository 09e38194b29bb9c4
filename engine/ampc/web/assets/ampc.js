// The catalog page's filters: show the rows of one outcome and one line. Nothing else runs here.
(function () {
  var table = document.getElementById("records");
  if (!table) { return; }
  var selects = document.querySelectorAll("select[data-filter]");
  var count = document.getElementById("shown-count");
  function apply() {
    var want = {};
    selects.forEach(function (s) { want[s.dataset.filter] = s.value; });
    var shown = 0, rows = table.querySelectorAll("tbody tr.row");
    rows.forEach(function (row) {
      var ok = (!want.outcome || row.dataset.outcome === want.outcome) && (!want.line || row.dataset.line === want.line);
      row.hidden = !ok;
      if (ok) { shown += 1; }
    });
    if (count) { count.textContent = shown + " of " + rows.length + " shown"; }
  }
  selects.forEach(function (s) { s.addEventListener("change", apply); });
  apply();
})();
