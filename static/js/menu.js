// Menu buttons (WAI-ARIA Authoring Practices, "menu button"): a button with
// aria-haspopup/aria-expanded/aria-controls opens a role=menu list. Enter,
// Space or ArrowDown open on the first item, ArrowUp on the last; arrows,
// Home and End move; Escape and Tab close, Escape returning focus to the button.
// A button with `data-menu-items` (the rows of Manage Accounts) comes without
// its list: an empty one is made for it here, whose items htmx loads from that
// URL when it is first opened; focus goes to the item asked for once they are there.
(function () {
  // An item that cannot be used (aria-disabled) is reached too: its words say why.
  function items(list) {
    return Array.prototype.filter.call(
      list.querySelectorAll('[role="menuitem"]'),
      function (item) { return !item.disabled; }
    );
  }

  function listOf(menu) {
    return menu.querySelector('[role="menu"]');
  }

  function open(menu, focusLast) {
    var button = menu.querySelector(".menu-button");
    var list = listOf(menu);
    if (list.dataset.items) {
      htmx.ajax("GET", list.dataset.items, { source: button, target: list, swap: "innerHTML" });
      delete list.dataset.items;
    }
    closeAll(menu);
    list.hidden = false;
    button.setAttribute("aria-expanded", "true");
    place(list);
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

  // The empty list of a button whose items are loaded on first use (`data-menu-items`).
  function emptyList(menu, button) {
    var list = document.createElement("div");
    list.className = "menu-list";
    list.id = button.id.replace("-button", "");
    list.setAttribute("role", "menu");
    list.setAttribute("aria-labelledby", button.id);
    list.hidden = true;
    list.dataset.items = button.dataset.menuItems;
    button.setAttribute("aria-controls", list.id);
    button.setAttribute("aria-haspopup", "true");
    button.setAttribute("aria-expanded", "false");
    menu.appendChild(list);
  }

  function focusItem(list, last) {
    var all = items(list);
    if (all.length) (last ? all[all.length - 1] : all[0]).focus();
    else list.dataset.focusOnLoad = last ? "last" : "first";
  }

  function close(menu, returnFocus) {
    var button = menu.querySelector(".menu-button");
    var list = listOf(menu);
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

  function listen(menu, list) {
    list.addEventListener("keydown", function (event) {
      var all = items(list);
      var index = all.indexOf(document.activeElement);
      if (event.key === "Escape") { event.preventDefault(); close(menu, true); return; }
      if (event.key === "Tab") { close(menu, false); return; }
      if (!all.length) return;
      if (event.key === "ArrowDown") { event.preventDefault(); all[(index + 1) % all.length].focus(); }
      else if (event.key === "ArrowUp") { event.preventDefault(); all[(index - 1 + all.length) % all.length].focus(); }
      else if (event.key === "Home") { event.preventDefault(); all[0].focus(); }
      else if (event.key === "End") { event.preventDefault(); all[all.length - 1].focus(); }
    });
  }

  function init(root) {
    root.querySelectorAll("[data-menu]").forEach(function (menu) {
      if (menu.dataset.menuReady) return;
      menu.dataset.menuReady = "1";
      var button = menu.querySelector(".menu-button");
      if (!listOf(menu) && button.dataset.menuItems) emptyList(menu, button);
      // A button that submits a form (the header's, to the page of the same items) opens the list instead.
      button.addEventListener("click", function (event) {
        event.preventDefault();
        if (listOf(menu).hidden) open(menu, false); else close(menu, true);
      });
      button.addEventListener("keydown", function (event) {
        if (event.key === "ArrowDown") { event.preventDefault(); open(menu, false); }
        if (event.key === "ArrowUp") { event.preventDefault(); open(menu, true); }
      });
      listen(menu, listOf(menu));
    });
  }

  document.addEventListener("htmx:afterSettle", function (event) {
    var list = event.detail.target;
    if (!list) return;  // an out-of-band part (hx-partial) settles without a target
    if (list.getAttribute && list.getAttribute("role") === "menu" && !list.hidden) place(list);
    if (!list.dataset || !list.dataset.focusOnLoad) return;
    var last = list.dataset.focusOnLoad === "last";
    delete list.dataset.focusOnLoad;
    if (!list.hidden) { place(list); focusItem(list, last); }
  });

  document.addEventListener("click", function (event) {
    document.querySelectorAll("[data-menu]").forEach(function (menu) {
      if (!menu.contains(event.target)) close(menu, false);
    });
  });
  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:load", function (event) { init(event.target); });
})();
