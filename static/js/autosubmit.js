// A <select data-autosubmit> submits its form as soon as it changes; without
// JavaScript the form's own button does it.
(function () {
  function init(root) {
    root.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      if (select.dataset.autosubmitReady) return;
      select.dataset.autosubmitReady = "1";
      select.addEventListener("change", function () { select.form.requestSubmit(); });
    });
  }
  // A search field submits its form as one types (hx-trigger "input changed"), not
  // again when it loses focus: its "change" is not sent (a filter in hx-trigger
  // would need eval, which the Content-Security-Policy forbids).
  document.addEventListener("htmx:confirm", function (event) {
    var trigger = event.detail.triggeringEvent;
    if (trigger && trigger.type === "change" && trigger.target && trigger.target.type === "search") {
      event.preventDefault();
    }
  });
  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:load", function (event) { init(event.target); });
})();
