// On a narrow screen each table row is shown as a card (keepalive.css,
// "small screens"): every cell carries the name of its column in
// data-label, which the stylesheet writes above the cell's value. The
// column headers stay in the table for screen readers.
(function () {
  // A header's words as seen: one that only screen readers hear labels nothing.
  function shown(head) {
    var hidden = head.querySelector(".visually-hidden");
    var text = head.textContent.trim();
    return hidden && hidden.textContent.trim() === text ? "" : text;
  }

  function label(table) {
    var heads = table.tHead ? table.tHead.rows[0] : null;
    if (!heads) return;
    var names = [];
    Array.prototype.forEach.call(heads.cells, function (head) {
      for (var n = 0; n < head.colSpan; n++) names.push(shown(head));
    });
    Array.prototype.forEach.call(table.tBodies, function (body) {
      Array.prototype.forEach.call(body.rows, function (row) {
        var column = 0;
        Array.prototype.forEach.call(row.cells, function (cell) {
          var name = names[column];
          if (name && !cell.hasAttribute("data-label")) cell.setAttribute("data-label", name);
          column += cell.colSpan;
        });
      });
    });
  }

  function init(root) {
    var table = root.closest && root.closest("table");
    if (table) label(table);
    if (root.querySelectorAll) root.querySelectorAll("table").forEach(label);
  }

  document.addEventListener("DOMContentLoaded", function () { init(document.body); });
  document.addEventListener("htmx:load", function (event) { init(event.target); });
})();
