// Filter the arXiv category checkboxes as the person types (a code like "cs.CL" or words of a name).
// Without this script every category is listed, grouped by archive.
(function () {
  "use strict";
  document.querySelectorAll("[data-category-filter]").forEach(function (input) {
    var picker = input.closest(".category-picker");
    if (!picker) { return; }
    input.closest(".category-filter").hidden = false;
    input.addEventListener("input", function () {
      var words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
      picker.querySelectorAll(".category-group").forEach(function (group) {
        var shown = 0;
        group.querySelectorAll("label").forEach(function (label) {
          var text = label.textContent.toLowerCase();
          var match = words.every(function (word) { return text.indexOf(word) !== -1; });
          label.hidden = !match;
          if (match) { shown += 1; }
        });
        group.hidden = shown === 0;
      });
    });
  });
})();
