/* The new API token's field selects its whole text when focused, ready to copy. */
(function () {
  "use strict";
  var field = document.getElementById("api-token");
  if (field) {
    field.addEventListener("focus", function () { field.select(); });
  }
})();
