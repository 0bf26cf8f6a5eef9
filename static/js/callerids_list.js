// The Authorized CallerIDs page: the header checkbox selects every row of this page.
(function () {
  "use strict";
  var all = document.querySelector("[data-select-all]");
  if (!all) { return; }
  var boxes = function () {
    return Array.prototype.slice.call(document.querySelectorAll('input[name="ids"]'));
  };
  all.addEventListener("change", function () {
    boxes().forEach(function (box) { box.checked = all.checked; });
  });
  document.addEventListener("change", function (event) {
    if (event.target.name !== "ids") { return; }
    var list = boxes();
    var checked = list.filter(function (box) { return box.checked; }).length;
    all.checked = list.length > 0 && checked === list.length;
    all.indeterminate = checked > 0 && checked < list.length;
  });
})();
