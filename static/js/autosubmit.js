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
  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:load", function (event) { init(event.target); });
})();
