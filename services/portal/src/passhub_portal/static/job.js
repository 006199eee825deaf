// A job's page (an awards run, a certificate batch): ask the page again every two seconds
// while the job is under way and show how far it is, then what it ended with. Without this
// script the page's refresh link does the same.
"use strict";
(function () {
  var EVERY = 2000;
  function part() { return document.getElementById("job-progress-part"); }
  if (!part()) { return; }

  function show(fresh) {
    var now = part();
    var next = fresh.getElementById("job-progress-part");
    if (now && next) {
      // still under way: move the bar and its words, keep the rest (and the focus) as it is
      var bar = document.getElementById("job-progress");
      var freshBar = fresh.getElementById("job-progress");
      ["max", "value"].forEach(function (name) {
        if (freshBar.hasAttribute(name)) { bar.setAttribute(name, freshBar.getAttribute(name)); }
        else { bar.removeAttribute(name); }
      });
      bar.textContent = freshBar.textContent;
      document.getElementById("job-progress-text").innerHTML =
        fresh.getElementById("job-progress-text").innerHTML;
      document.getElementById("job-heading").textContent =
        fresh.getElementById("job-heading").textContent;
      return true;
    }
    var job = document.getElementById("job");
    var done = fresh.getElementById("job");
    if (job && done) { job.replaceWith(document.importNode(done, true)); }
    return false;
  }

  function poll() {
    var href = part().getAttribute("data-poll");
    fetch(href, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.text();
      })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html");
        if (show(fresh)) { window.setTimeout(poll, EVERY); }
      })
      .catch(function () { window.setTimeout(poll, EVERY * 3); });
  }
  window.setTimeout(poll, EVERY);
})();
