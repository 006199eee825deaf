// The console's forms that start work (the awards run, the certificate batch): say it is
// starting, and keep a form from being sent twice. Without this script the forms and links
// work as they are.
"use strict";
document.querySelectorAll("form[data-busy]").forEach(function (form) {
  form.addEventListener("submit", function () {
    var button = form.querySelector("button[type=submit]");
    var status = form.querySelector("[role=status]");
    if (button) { button.disabled = true; }
    if (status) { status.textContent = form.getAttribute("data-busy"); }
  });
});
document.querySelectorAll("a[data-busy]").forEach(function (link) {
  link.addEventListener("click", function () {
    var status = document.getElementById("busy");
    if (status) { status.textContent = link.getAttribute("data-busy"); }
  });
});
