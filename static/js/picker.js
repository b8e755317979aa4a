// "Choose the profiles to connect" (and to share): "N chosen" counts the boxes
// ticked on the page as they are ticked, with the choices saved on its other
// pages; the new brand's name is asked for only while "A new brand…" is
// chosen. Without JavaScript the count is the saved one and the name shows.
(function () {
  function count(form) {
    var line = form.querySelector("[data-chosen-words]");
    if (!line) return;
    var words = JSON.parse(line.dataset.chosenWords);
    var ticked = form.querySelectorAll('input[type="checkbox"][name="selected"]:checked').length;
    var chosen = String(Number(line.dataset.chosenElsewhere || 0) + ticked);
    var text = words[chosen] || words.other.replace(words.any, chosen);
    if (line.textContent !== text) line.textContent = text;
  }

  function showNewBrand(form) {
    var select = form.querySelector("select[data-new-brand]");
    var field = select && document.getElementById(select.dataset.newBrand);
    if (field) field.hidden = select.value !== "new";
  }

  function init(root) {
    root.querySelectorAll("form.picker").forEach(function (form) {
      if (form.dataset.pickerReady) return;
      form.dataset.pickerReady = "1";
      form.addEventListener("change", function (event) {
        if (event.target.name === "selected") count(form);
        if (event.target.matches("select[data-new-brand]")) showNewBrand(form);
      });
      count(form);
      showNewBrand(form);
    });
  }

  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:load", function (event) { init(event.target); });
})();
