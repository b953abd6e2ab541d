/* Small progressive enhancements; every page works without them. */
(function () {
  "use strict";
  // Menus built on <details>: Escape and a click elsewhere close them, focus returns to the summary.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    document.querySelectorAll("details[open].usermenu").forEach(function (menu) {
      menu.removeAttribute("open");
      menu.querySelector("summary").focus();
    });
  });
  document.addEventListener("click", function (event) {
    document.querySelectorAll("details[open].usermenu").forEach(function (menu) {
      if (!menu.contains(event.target)) menu.removeAttribute("open");
    });
  });
  // A newly shown secret is selected on focus, ready to copy.
  document.addEventListener("focusin", function (event) {
    if (event.target.matches("[data-select-on-focus]")) event.target.select();
  });
  // "Select all" in bulk tables (delegated, so it keeps working after htmx swaps the table).
  document.addEventListener("change", function (event) {
    var all = event.target.closest("[data-select-all]");
    if (!all) return;
    var table = all.closest("table");
    table.querySelectorAll("input[name='" + all.dataset.selectAll + "']").forEach(function (box) {
      box.checked = all.checked;
    });
  });
})();
/* Scope fields: show only the one that fits the chosen scope (market, stores or warehouses). */
(function () {
  "use strict";
  var needs = { market: "market", stores: "stores", warehouses: "warehouses" };
  function sync(form) {
    var select = form.querySelector("[data-field='scope_kind'] select");
    if (!select) return;
    Object.keys(needs).forEach(function (scope) {
      var field = form.querySelector("[data-field='" + needs[scope] + "']");
      if (field) field.hidden = select.value !== scope;
    });
  }
  function all() { document.querySelectorAll("[data-scope-form]").forEach(sync); }
  document.addEventListener("DOMContentLoaded", all);
  document.addEventListener("htmx:afterSwap", all);
  document.addEventListener("change", function (event) {
    var form = event.target.closest("[data-scope-form]");
    if (form && event.target.closest("[data-field='scope_kind']")) sync(form);
  });
})();
/* Sign-up: start the time zone select at the browser's own zone when the list has it. */
document.addEventListener("DOMContentLoaded", function () {
  "use strict";
  var select = document.querySelector("select[data-detect-time-zone]");
  if (!select || !window.Intl) return;
  var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (zone && select.querySelector("option[value='" + zone.replace(/'/g, "") + "']")) select.value = zone;
});
