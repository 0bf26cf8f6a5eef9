// Import Check and Confirm run as background tasks: this page polls their progress and
// reloads when the step is over (the report, the result, or the failure). On PostgreSQL
// the Confirm writes its progress on a second connection, so the bar moves while it saves;
// on SQLite the bar stays indeterminate until the end.
(function () {
  "use strict";
  var box = document.getElementById("import-progress");
  if (!box || !window.fetch) {
    return;
  }
  var bar = box.querySelector(".progress-bar");
  var meter = box.querySelector(".progress");
  var text = document.getElementById("import-progress-text");
  var state = box.dataset.state;

  function words(data) {
    if (data.waiting) {
      return "Waiting for a worker…";
    }
    if (data.phase === "reading") {
      return "Reading the file…";
    }
    if (data.phase === "checking") {
      return state === "checking" ? "Checking " + data.total.toLocaleString() + " lines…" : "Checking every line again…";
    }
    if (data.phase === "saving") {
      return "Saved " + data.done.toLocaleString() + " of " + data.total.toLocaleString() + "…";
    }
    return "Working…";
  }

  function show(data) {
    if (!data) {
      return;
    }
    if (data.state !== state) {
      window.location.reload();
      return;
    }
    text.textContent = words(data);
    if (data.phase === "saving" && data.total) {
      var percent = Math.min(100, Math.round((100 * data.done) / data.total));
      bar.classList.remove("progress-bar-animated");
      bar.style.width = percent + "%";
      meter.setAttribute("aria-valuenow", String(percent));
    }
  }

  function poll() {
    fetch(box.dataset.progressUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(show)
      .catch(function () {})
      .finally(function () {
        window.setTimeout(poll, 500);
      });
  }

  window.setTimeout(poll, 300);
})();
