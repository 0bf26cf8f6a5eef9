// Import Confirm: send the form with fetch and, while the server saves (one transaction),
// show progress. On PostgreSQL the server writes progress on a second connection, so the
// bar moves; on SQLite the bar stays indeterminate. Without JavaScript the form posts
// normally and the page reloads when the import is done.
(function () {
  "use strict";
  var form = document.getElementById("import-confirm");
  if (!form || !window.fetch) {
    return;
  }
  var box = document.getElementById("import-progress");
  var bar = box.querySelector(".progress-bar");
  var meter = box.querySelector(".progress");
  var text = document.getElementById("import-progress-text");
  var polled = form.dataset.progressPolled === "true";
  var timer = null;

  function show(data) {
    if (!data || !data.total || data.phase === "waiting") {
      return;
    }
    var percent = Math.min(100, Math.round((100 * data.done) / data.total));
    bar.classList.remove("progress-bar-animated");
    bar.style.width = percent + "%";
    meter.setAttribute("aria-valuenow", String(percent));
    text.textContent =
      data.phase === "checking"
        ? "Checking every line again…"
        : "Saved " + data.done.toLocaleString() + " of " + data.total.toLocaleString() + "…";
  }

  function poll() {
    fetch(form.dataset.progressUrl, { headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(show)
      .catch(function () {})
      .finally(function () {
        timer = window.setTimeout(poll, 500);
      });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var button = form.querySelector("button[type=submit]");
    button.disabled = true;
    box.hidden = false;
    if (polled) {
      timer = window.setTimeout(poll, 300);
    }
    fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (data) {
        window.location.assign(data.redirect);
      })
      .catch(function () {
        window.clearTimeout(timer);
        text.textContent = "The import did not finish. Reload the page to see where it stands.";
        button.disabled = false;
      });
  });
})();
