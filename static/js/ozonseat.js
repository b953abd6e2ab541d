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
/* Searchable selects (ozonseat/widgets.py): an ARIA combobox whose options are fetched, a page of matches
   at a time, from the seller's endpoint as the person types. Chosen values live in a hidden input (one) or
   ticked checkboxes (several), so the form posts them like any other field. */
(function () {
  "use strict";
  var timers = new WeakMap();
  var sequence = 0;
  function parts(box) {
    return {
      input: box.querySelector(".combo-input"),
      list: box.querySelector(".combo-options"),
      hidden: box.querySelector("input[type='hidden']"),
      chosen: box.querySelector(".combo-chosen")
    };
  }
  function close(box) {
    var p = parts(box);
    p.list.hidden = true;
    p.input.setAttribute("aria-expanded", "false");
    p.input.removeAttribute("aria-activedescendant");
  }
  function render(box, data) {
    var p = parts(box);
    p.list.textContent = "";
    data.results.forEach(function (option, index) {
      var item = document.createElement("li");
      item.setAttribute("role", "option");
      item.id = p.list.id + "-" + index;
      item.dataset.value = option.id;
      item.textContent = option.label;
      var taken = box.hasAttribute("data-multiple")
        ? !!box.querySelector(".combo-chosen input[value='" + option.id + "']")
        : p.hidden && p.hidden.value === String(option.id);
      item.setAttribute("aria-selected", taken ? "true" : "false");
      p.list.appendChild(item);
    });
    if (!data.results.length || data.more) {
      var note = document.createElement("li");
      note.className = "combo-note";
      note.setAttribute("role", "presentation");
      note.textContent = data.results.length ? box.dataset.moreText : box.dataset.noneText;
      p.list.appendChild(note);
    }
    p.list.hidden = false;
    p.input.setAttribute("aria-expanded", "true");
  }
  function load(box) {
    var p = parts(box);
    var ticket = ++sequence;
    box.dataset.ticket = ticket;
    var url = box.dataset.url + (box.dataset.url.indexOf("?") < 0 ? "?" : "&") + "q=" + encodeURIComponent(p.input.value.trim());
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : { results: [] }; })
      .then(function (data) { if (box.dataset.ticket === String(ticket)) render(box, data); })
      .catch(function () {});
  }
  function changed(element) { element.dispatchEvent(new Event("change", { bubbles: true })); }
  function choose(box, item) {
    var p = parts(box);
    clearTimeout(timers.get(box));  // a search still waiting or under way must not reopen the list
    box.dataset.ticket = ++sequence;
    if (box.hasAttribute("data-multiple")) {
      if (!p.chosen.querySelector("input[value='" + item.dataset.value + "']")) {
        var li = document.createElement("li");
        var label = document.createElement("label");
        var box_ = document.createElement("input");
        box_.type = "checkbox";
        box_.name = box.dataset.name;
        box_.value = item.dataset.value;
        box_.checked = true;
        label.appendChild(box_);
        label.appendChild(document.createTextNode(" " + item.textContent));
        li.appendChild(label);
        p.chosen.appendChild(li);
        changed(box_);
      }
      p.input.value = "";
    } else {
      p.hidden.value = item.dataset.value;
      p.input.value = item.textContent;
      changed(p.hidden);
    }
    close(box);
  }
  function move(box, step) {
    var p = parts(box);
    var options = Array.prototype.slice.call(p.list.querySelectorAll("[role='option']"));
    if (!options.length) return;
    var current = options.findIndex(function (o) { return o.classList.contains("active"); });
    var next = (current + step + options.length) % options.length;
    options.forEach(function (o) { o.classList.remove("active"); });
    options[next].classList.add("active");
    options[next].scrollIntoView({ block: "nearest" });
    p.input.setAttribute("aria-activedescendant", options[next].id);
  }
  function boxOf(target) { return target.closest && target.closest("[data-combobox]"); }
  document.addEventListener("input", function (event) {
    var box = boxOf(event.target);
    if (!box || !event.target.classList.contains("combo-input")) return;
    var p = parts(box);
    if (p.hidden && p.input.value === "" && p.hidden.value) {
      p.hidden.value = "";
      changed(p.hidden);
    }
    clearTimeout(timers.get(box));
    timers.set(box, setTimeout(function () { load(box); }, 250));
  });
  // The text box's own change is not a choice: keep it from forms that filter on every change.
  document.addEventListener("change", function (event) {
    if (event.target.classList && event.target.classList.contains("combo-input")) event.stopPropagation();
  }, true);
  document.addEventListener("focusin", function (event) {
    var box = boxOf(event.target);
    if (box && event.target.classList.contains("combo-input") && parts(box).list.hidden) load(box);
  });
  document.addEventListener("focusout", function (event) {
    var box = boxOf(event.target);
    if (box && !box.contains(event.relatedTarget)) close(box);
  });
  document.addEventListener("mousedown", function (event) {
    var item = event.target.closest && event.target.closest(".combo-options [role='option']");
    if (!item) return;
    event.preventDefault();
    choose(boxOf(item), item);
  });
  document.addEventListener("keydown", function (event) {
    var box = boxOf(event.target);
    if (!box || !event.target.classList.contains("combo-input")) return;
    var p = parts(box);
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (p.list.hidden) load(box);
      else move(box, event.key === "ArrowDown" ? 1 : -1);
    } else if (event.key === "Enter") {
      var active = p.list.hidden ? null : p.list.querySelector("[role='option'].active") || (p.list.querySelectorAll("[role='option']").length === 1 ? p.list.querySelector("[role='option']") : null);
      if (!p.list.hidden) event.preventDefault();
      if (active) choose(box, active);
    } else if (event.key === "Escape" && !p.list.hidden) {
      event.preventDefault();
      close(box);
    }
  });
})();
