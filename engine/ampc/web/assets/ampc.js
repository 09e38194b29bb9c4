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

// The interview: each answer re-decides the product at once. The form is posted as it is (the same
// POST /interview the Decide button makes) and the page's outcome is replaced by the new one; the
// next question and the fields' errors are marked again. Without JavaScript, Decide does the same.
(function () {
  var form = document.getElementById("interview");
  if (!form || !window.fetch || !window.DOMParser) { return; }
  var pending = null;
  function refresh() {
    var body = new FormData(form);
    var asked = pending = {};
    fetch(form.action, {method: "POST", body: body}).then(function (r) { return r.text(); }).then(function (html) {
      if (asked !== pending) { return; }  // a later answer is on its way
      var page = new DOMParser().parseFromString(html, "text/html");
      var fresh = page.querySelector("section.result");
      var shown = document.querySelector("section.result");
      if (!fresh || !shown) { return; }
      shown.replaceWith(fresh);
      form.querySelectorAll(".field[id^='field-']").forEach(function (field) {
        var now = page.getElementById(field.id);
        if (!now) { return; }
        field.classList.toggle("next", now.classList.contains("next"));
        field.classList.toggle("invalid", now.classList.contains("invalid"));
        var old = field.querySelector("p.error");
        var error = now.querySelector("p.error");
        if (old) { old.remove(); }
        if (error) { field.appendChild(document.importNode(error, true)); }
        field.querySelectorAll("input, select").forEach(function (box) {
          if (error) { box.setAttribute("aria-invalid", "true"); } else { box.removeAttribute("aria-invalid"); }
        });
      });
      document.body.dataset.decided = String(Number(document.body.dataset.decided || "0") + 1);
    });
  }
  form.addEventListener("change", refresh);
})();
