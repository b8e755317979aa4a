// Disclosure dropdowns (WAI-ARIA Authoring Practices, "disclosure"): a button
// with aria-expanded/aria-controls shows or hides a panel of ordinary links
// and buttons. Enter or Space toggle it (the button's own behaviour);
// ArrowDown from the button opens it on the first item; in the panel the
// arrows, Home and End move between its links and buttons; Escape closes it
// and returns focus to the button; a click or focus outside closes it.
// Opening it dispatches `dropdown-open` on the panel (htmx loads the header's
// list on the first). The button submits a form leading to the same list as
// a page when JavaScript is off. An htmx swap of the dropdown (after
// `tokens-changed`) keeps it open.
(function () {
  var FOCUSABLE = 'a[href], button:not([disabled]), [tabindex="0"]';

  function parts(dropdown) {
    var button = dropdown.querySelector("button[aria-controls]");
    return { button: button, panel: document.getElementById(button.getAttribute("aria-controls")) };
  }

  function items(panel) {
    return Array.prototype.filter.call(panel.querySelectorAll(FOCUSABLE), function (item) {
      return item.offsetParent !== null;
    });
  }

  function setOpen(dropdown, open) {
    var p = parts(dropdown);
    p.panel.hidden = !open;
    p.button.setAttribute("aria-expanded", open ? "true" : "false");
    if (open) p.panel.dispatchEvent(new CustomEvent("dropdown-open"));
  }

  function isOpen(dropdown) {
    return parts(dropdown).button.getAttribute("aria-expanded") === "true";
  }

  function closeOthers(except) {
    document.querySelectorAll("[data-dropdown]").forEach(function (dropdown) {
      if (dropdown !== except && isOpen(dropdown)) setOpen(dropdown, false);
    });
  }

  function init(root) {
    var found = root.matches && root.matches("[data-dropdown]") ? [root] : [];
    found = found.concat(Array.prototype.slice.call(root.querySelectorAll("[data-dropdown]")));
    found.forEach(function (dropdown) {
      if (dropdown.dataset.dropdownReady) return;
      dropdown.dataset.dropdownReady = "1";
      var p = parts(dropdown);
      p.button.addEventListener("click", function (event) {
        event.preventDefault();
        var open = !isOpen(dropdown);
        closeOthers(dropdown);
        setOpen(dropdown, open);
      });
      p.button.addEventListener("keydown", function (event) {
        if (event.key === "ArrowDown" || event.key === "ArrowUp") {
          event.preventDefault();
          setOpen(dropdown, true);
          var all = items(p.panel);
          if (all.length) all[event.key === "ArrowDown" ? 0 : all.length - 1].focus();
          else p.panel.dataset.focusOnLoad = event.key === "ArrowDown" ? "first" : "last";
        } else if (event.key === "Escape" && isOpen(dropdown)) {
          event.preventDefault();
          setOpen(dropdown, false);
        }
      });
      p.panel.addEventListener("keydown", function (event) {
        var all = items(p.panel);
        var index = all.indexOf(document.activeElement);
        var next = null;
        if (event.key === "ArrowDown") next = all[(index + 1) % all.length];
        else if (event.key === "ArrowUp") next = all[(index - 1 + all.length) % all.length];
        else if (event.key === "Home") next = all[0];
        else if (event.key === "End") next = all[all.length - 1];
        else if (event.key === "Escape") {
          event.preventDefault();
          setOpen(dropdown, false);
          p.button.focus();
          return;
        }
        if (next) { event.preventDefault(); next.focus(); }
      });
      dropdown.addEventListener("focusout", function (event) {
        if (event.relatedTarget && !dropdown.contains(event.relatedTarget)) setOpen(dropdown, false);
      });
    });
  }

  // Keep an open dropdown open, and focus where it was, across its own reload.
  var kept = null;
  document.addEventListener("htmx:beforeSwap", function (event) {
    var dropdown = event.detail.target.querySelector && event.detail.target.querySelector("[data-dropdown]");
    if (!dropdown) return;
    kept = { target: event.detail.target, open: isOpen(dropdown), focused: dropdown.contains(document.activeElement) };
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    if (!kept || kept.target !== event.detail.target) return;
    var dropdown = kept.target.querySelector("[data-dropdown]");
    if (dropdown) {
      init(kept.target);
      if (kept.open) setOpen(dropdown, true);
      if (kept.focused) parts(dropdown).button.focus();
    }
    kept = null;
  });

  // A panel loaded after the arrow keys opened it: focus goes where they asked.
  document.addEventListener("htmx:afterSettle", function (event) {
    var panel = event.detail.target;
    if (!panel || !panel.dataset || !panel.dataset.focusOnLoad) return;
    var where = panel.dataset.focusOnLoad;
    delete panel.dataset.focusOnLoad;
    var all = items(panel);
    if (!panel.hidden && all.length) all[where === "first" ? 0 : all.length - 1].focus();
  });

  document.addEventListener("click", function (event) {
    document.querySelectorAll("[data-dropdown]").forEach(function (dropdown) {
      if (!dropdown.contains(event.target) && isOpen(dropdown)) setOpen(dropdown, false);
    });
  });
  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:load", function (event) { init(event.target); });
})();
