// Menu buttons (WAI-ARIA Authoring Practices, "menu button"): a button with
// aria-haspopup/aria-expanded/aria-controls opens a role=menu list. Enter,
// Space or ArrowDown open on the first item, ArrowUp on the last; arrows,
// Home and End move; Escape and Tab close, Escape returning focus to the button.
// Opening dispatches `menu-open` on the list: htmx fills a list whose items
// are loaded on first use (the rows of Manage Accounts), and focus goes to
// the item asked for once they are there.
(function () {
  // An item that cannot be used (aria-disabled) is reached too: its words say why.
  function items(list) {
    return Array.prototype.filter.call(
      list.querySelectorAll('[role="menuitem"]'),
      function (item) { return !item.disabled; }
    );
  }

  function open(menu, focusLast) {
    var button = menu.querySelector(".menu-button");
    var list = menu.querySelector('[role="menu"]');
    closeAll(menu);
    list.hidden = false;
    button.setAttribute("aria-expanded", "true");
    place(list);
    list.dispatchEvent(new CustomEvent("menu-open"));
    focusItem(list, focusLast);
  }

  // A list that would run past the bottom of the window opens upwards when
  // there is room above it (the last rows of a long page).
  function place(list) {
    list.classList.remove("menu-list-up");
    var box = list.getBoundingClientRect();
    var button = list.parentNode.getBoundingClientRect();
    if (box.bottom > window.innerHeight && button.top - box.height - 6 >= 0) list.classList.add("menu-list-up");
  }

  function focusItem(list, last) {
    var all = items(list);
    if (all.length) (last ? all[all.length - 1] : all[0]).focus();
    else list.dataset.focusOnLoad = last ? "last" : "first";
  }

  function close(menu, returnFocus) {
    var button = menu.querySelector(".menu-button");
    var list = menu.querySelector('[role="menu"]');
    if (list.hidden) return;
    list.hidden = true;
    button.setAttribute("aria-expanded", "false");
    if (returnFocus) button.focus();
  }

  function closeAll(except) {
    document.querySelectorAll("[data-menu]").forEach(function (menu) {
      if (menu !== except) close(menu, false);
    });
  }

  function init(root) {
    root.querySelectorAll("[data-menu]").forEach(function (menu) {
      if (menu.dataset.menuReady) return;
      menu.dataset.menuReady = "1";
      var button = menu.querySelector(".menu-button");
      var list = menu.querySelector('[role="menu"]');
      button.addEventListener("click", function () {
        if (list.hidden) open(menu, false); else close(menu, true);
      });
      button.addEventListener("keydown", function (event) {
        if (event.key === "ArrowDown") { event.preventDefault(); open(menu, false); }
        if (event.key === "ArrowUp") { event.preventDefault(); open(menu, true); }
      });
      list.addEventListener("keydown", function (event) {
        var all = items(list);
        var index = all.indexOf(document.activeElement);
        if (!all.length && event.key !== "Escape" && event.key !== "Tab") return;
        if (event.key === "ArrowDown") { event.preventDefault(); all[(index + 1) % all.length].focus(); }
        else if (event.key === "ArrowUp") { event.preventDefault(); all[(index - 1 + all.length) % all.length].focus(); }
        else if (event.key === "Home") { event.preventDefault(); all[0].focus(); }
        else if (event.key === "End") { event.preventDefault(); all[all.length - 1].focus(); }
        else if (event.key === "Escape") { event.preventDefault(); close(menu, true); }
        else if (event.key === "Tab") { close(menu, false); }
      });
    });
  }

  document.addEventListener("htmx:afterSettle", function (event) {
    var list = event.detail.target;
    if (!list) return;  // an out-of-band part (hx-partial) settles without a target
    if (list.getAttribute && list.getAttribute("role") === "menu" && !list.hidden) place(list);
    if (!list.dataset || !list.dataset.focusOnLoad) return;
    var last = list.dataset.focusOnLoad === "last";
    delete list.dataset.focusOnLoad;
    if (!list.hidden) focusItem(list, last);
  });

  document.addEventListener("click", function (event) {
    document.querySelectorAll("[data-menu]").forEach(function (menu) {
      if (!menu.contains(event.target)) close(menu, false);
    });
  });
  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:load", function (event) { init(event.target); });
})();
