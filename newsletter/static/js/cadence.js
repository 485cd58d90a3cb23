// Show the fields that only matter for one cadence (the weekday for weekly) when that cadence is chosen.
// Without this script the server shows them for the cadence that was saved or submitted.
(function () {
  "use strict";
  document.querySelectorAll("form").forEach(function (form) {
    var dependent = form.querySelectorAll("[data-only-for-cadence]");
    var radios = form.querySelectorAll("input[name='cadence']");
    if (!dependent.length || !radios.length) { return; }
    function update() {
      var checked = form.querySelector("input[name='cadence']:checked");
      var cadence = checked ? checked.value : "";
      dependent.forEach(function (element) {
        element.hidden = element.dataset.onlyForCadence !== cadence;
      });
    }
    radios.forEach(function (radio) { radio.addEventListener("change", update); });
    update();
  });
})();
