// Default the time-zone choice to the browser's zone, unless the person (or the server) chose one.
(function () {
  "use strict";
  var zone;
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return; }
  if (!zone) { return; }
  document.querySelectorAll("select[name='timezone']").forEach(function (select) {
    if (select.dataset.chosen === "1" || select.value !== "UTC") { return; }
    var option = select.querySelector("option[value='" + zone.replace(/'/g, "") + "']");
    if (option) { select.value = zone; }
  });
})();
