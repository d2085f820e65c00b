// The price-increase form's lines: add one, remove one. Rows are renumbered after each change so
// the formset's indexes stay contiguous and each label says which line it belongs to. Without
// JavaScript the buttons stay hidden and the form keeps its blank rows.
(function () {
  "use strict";
  const form = document.querySelector("[data-line-editor]");
  if (!form) return;
  const body = form.querySelector(".links-lines tbody");
  const template = document.getElementById("line-template");
  const total = form.querySelector('input[name$="-TOTAL_FORMS"]');
  const prefix = total.name.replace(/-TOTAL_FORMS$/, "");
  const maximum = parseInt(form.querySelector('input[name$="-MAX_NUM_FORMS"]').value, 10);
  const addButton = form.querySelector("[data-line-add]");
  const index = new RegExp("^(" + prefix + "-|id_" + prefix + "-)(\\d+|__prefix__)-");

  function renumber() {
    const rows = body.querySelectorAll("tr[data-line]");
    rows.forEach(function (row, position) {
      row.querySelectorAll("[name], [id], [for]").forEach(function (element) {
        ["name", "id", "for"].forEach(function (attribute) {
          const value = element.getAttribute(attribute);
          if (value) element.setAttribute(attribute, value.replace(index, "$1" + position + "-"));
        });
      });
      row.querySelectorAll("[data-line-number]").forEach(function (number) {
        number.textContent = String(position + 1);
      });
      const remove = row.querySelector("[data-line-remove]");
      remove.hidden = false;
      remove.disabled = rows.length === 1;
    });
    total.value = String(rows.length);
    addButton.hidden = false;
    addButton.disabled = rows.length >= maximum;
  }

  addButton.addEventListener("click", function () {
    body.appendChild(template.content.cloneNode(true));
    renumber();
    body.lastElementChild.querySelector("input").focus();
  });
  body.addEventListener("click", function (event) {
    const remove = event.target.closest("[data-line-remove]");
    if (!remove) return;
    remove.closest("tr").remove();
    renumber();
    addButton.focus();
  });
  renumber();
})();
