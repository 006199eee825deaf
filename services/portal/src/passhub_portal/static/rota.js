// The rota grid: drag a leader's name onto another session's cell to put them on it. The drop
// opens that session's page with the leader picked from its checked list of candidates, where
// a clash or unavailability shows before anything is saved. Without a mouse (or JavaScript),
// each cell's link opens the same page, where a leader is picked with the keyboard.
(function () {
  "use strict";
  var grid = document.getElementById("rota-grid");
  if (!grid) { return; }
  grid.addEventListener("dragstart", function (event) {
    var item = event.target.closest ? event.target.closest("[data-number]") : null;
    if (!item) { return; }
    event.dataTransfer.setData("text/plain", item.getAttribute("data-number"));
    event.dataTransfer.effectAllowed = "copy";
  });
  grid.addEventListener("dragover", function (event) {
    if (event.target.closest && event.target.closest(".rota-cell[data-href]")) {
      event.preventDefault();
    }
  });
  grid.addEventListener("drop", function (event) {
    var cell = event.target.closest ? event.target.closest(".rota-cell[data-href]") : null;
    var number = event.dataTransfer.getData("text/plain");
    if (!cell || !number) { return; }
    event.preventDefault();
    window.location.href = cell.getAttribute("data-href") + "?pick=" +
      encodeURIComponent(number) + "#pick-form";
  });
}());
