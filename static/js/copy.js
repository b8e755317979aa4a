// A Copy button beside a read-only field (data-copy: the field's selector).
// Without JavaScript the button stays hidden and the field can be selected by hand.
(function () {
  function init(root) {
    root.querySelectorAll("button[data-copy]").forEach(function (button) {
      if (button.dataset.copyReady) return;
      button.dataset.copyReady = "1";
      button.hidden = false;
      var label = button.textContent;
      button.addEventListener("click", function () {
        var field = document.querySelector(button.dataset.copy);
        field.select();
        var done = function () {
          button.textContent = button.dataset.copied;
          setTimeout(function () { button.textContent = label; }, 2000);
        };
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(field.value).then(done);
        } else if (document.execCommand("copy")) {
          done();
        }
      });
    });
  }
  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:load", function (event) { init(event.target); });
})();
