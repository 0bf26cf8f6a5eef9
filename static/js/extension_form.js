// Callback extension setup form: a number field is enabled (and required) only while the
// radio choice that uses it is selected. The server enforces the same rule whatever is sent.
(function () {
  "use strict";
  var form = document.getElementById("extension-form");
  if (!form) {
    return;
  }
  var pairs = [
    { radios: "return_mode", value: "fixed", input: "fixed_number" },
    { radios: "outbound_callerid_mode", value: "user", input: "outbound_callerid" },
  ];
  pairs.forEach(function (pair) {
    var input = form.elements[pair.input];
    var radios = form.querySelectorAll('input[name="' + pair.radios + '"]');
    if (!input || radios.length === 0) {
      return;
    }
    function sync() {
      var chosen = form.querySelector('input[name="' + pair.radios + '"]:checked');
      var enabled = chosen !== null && chosen.value === pair.value;
      input.disabled = !enabled;
      input.required = enabled;
    }
    radios.forEach(function (radio) {
      radio.addEventListener("change", sync);
    });
    sync();
  });
})();
