// The ingest job page: polls the job's status and shows each step as it happens.
(function () {
  "use strict";
  var box = document.getElementById("job-status");
  if (!box) { return; }
  var url = box.getAttribute("data-status-url");
  var delay = 700;

  function poll() {
    fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (job) {
        if (job.html) { box.innerHTML = job.html; }
        if (job.finished) {
          box.setAttribute("data-finished", "true");
          return;
        }
        delay = Math.min(delay * 1.3, 5000);
        window.setTimeout(poll, delay);
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }

  if (box.getAttribute("data-finished") !== "true") { window.setTimeout(poll, delay); }
})();
