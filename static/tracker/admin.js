// The admin's autocomplete boxes (select2) are named after the value they show; while empty
// they have no name for a screen reader (axe-core: aria-input-field-name). Name each after
// its field.
(function () {
  function nameBoxes() {
    document.querySelectorAll(".select2-selection__rendered[role=textbox]").forEach(function (box) {
      const id = box.id.replace(/^select2-/, "").replace(/-container$/, "");
      const select = document.getElementById(id);
      if (!select || box.hasAttribute("aria-label")) return;
      const label = select.getAttribute("aria-label") || (select.labels[0] || {}).textContent || "";
      if (label) box.setAttribute("aria-label", label.replace(/:\s*$/, "").trim());
    });
  }
  document.addEventListener("DOMContentLoaded", function () { window.setTimeout(nameBoxes, 0); });
  document.addEventListener("formset:added", function () { window.setTimeout(nameBoxes, 0); });
})();
