// Modal dialogs loaded by htmx (WAI-ARIA Authoring Practices, "dialog
// (modal)"): a <dialog data-dialog> opens with showModal() as soon as it
// arrives, so the browser traps focus and Escape closes it. A menu that
// asked for it closes first; when the dialog closes, focus returns to what
// opened it and the dialog leaves the page.
(function () {
  function open(dialog) {
    if (dialog.dataset.dialogReady) return;
    dialog.dataset.dialogReady = "1";
    var opener = document.activeElement;
    var menu = opener && opener.closest && opener.closest('[role="menu"]');
    if (menu) {
      // Escape in a menu closes it and focuses its button (menu.js).
      menu.dispatchEvent(new KeyboardEvent("keydown", { key: "Escape", bubbles: true }));
      opener = document.activeElement;
    }
    dialog.addEventListener("close", function () {
      dialog.remove();
      if (opener && document.body.contains(opener)) opener.focus();
    });
    dialog.addEventListener("click", function (event) {
      if (event.target === dialog) dialog.close();  // a click on the backdrop
    });
    dialog.showModal();
  }

  function init(root) {
    if (root.matches && root.matches("dialog[data-dialog]")) open(root);
    if (root.querySelectorAll) root.querySelectorAll("dialog[data-dialog]").forEach(open);
  }

  document.addEventListener("htmx:load", function (event) { init(event.target); });
})();
