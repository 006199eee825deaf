// The leader's sign-in screen: poll the portal for the headcount, and for a new code before
// the one shown expires. Without JavaScript the page still works (its Refresh link).
(function () {
  "use strict";
  var live = document.getElementById("live");
  var qr = document.getElementById("qr");
  if (!live) { return; }
  var url = live.getAttribute("data-live");
  var every = parseInt(live.getAttribute("data-poll-ms"), 10) || 5000;
  var expiresAt = 0;
  var margin = 25000;
  if (qr) {
    expiresAt = Date.now() + 1000 * parseInt(qr.getAttribute("data-expires-in"), 10);
    margin = 1000 * parseInt(qr.getAttribute("data-margin"), 10);
  }
  function plural(n) { return n === 1 ? "student" : "students"; }
  function update(body) {
    var count = document.getElementById("headcount");
    if (count && String(body.students) !== count.textContent) {
      count.textContent = String(body.students);
      var label = count.parentNode.querySelector(".count-label");
      if (label) { label.textContent = plural(body.students); }
    }
    var leaders = document.getElementById("leaders");
    if (leaders) { leaders.textContent = String(body.leaders); }
    if (qr && body.svg) {
      var parsed = new DOMParser().parseFromString(body.svg, "text/html");
      var svg = parsed.body.querySelector("svg");
      if (svg) {
        qr.replaceChildren(document.importNode(svg, true));
        qr.setAttribute("data-url", body.url);
        expiresAt = Date.now() + 1000 * body.expires_in;
      }
    }
  }
  function poll() {
    var wantCode = qr && expiresAt - Date.now() < margin;
    fetch(url + (wantCode ? "?code=1" : ""), { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (body) { if (body) { update(body); } })
      .catch(function () { /* try again at the next tick */ })
      .then(function () { window.setTimeout(poll, every); });
  }
  window.setTimeout(poll, every);
})();
