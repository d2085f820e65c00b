// Tokenize card fields with the gateway before the form is submitted, so that the card
// number and security code never reach orderdesk: only the token is posted.
(function () {
  "use strict";
  function setup(fieldset) {
    var form = fieldset.closest("form");
    if (!form || form.dataset.cardFormReady) return;
    form.dataset.cardFormReady = "1";
    form.addEventListener("submit", function (event) {
      var tokenInput = fieldset.querySelector("[data-card-token]");
      if (fieldset.disabled || fieldset.hidden || tokenInput.value) return;
      event.preventDefault();
      var card = {};
      fieldset.querySelectorAll("[data-card]").forEach(function (input) {
        card[input.dataset.card] = input.value.replace(/\s+/g, "");
      });
      fieldset.querySelectorAll("[data-card-error]").forEach(function (p) { p.textContent = ""; });
      var submitter = event.submitter;
      if (submitter) submitter.disabled = true;
      fetch(fieldset.dataset.tokenizeUrl, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(card),
        credentials: "omit"
      }).then(function (response) {
        return response.json().then(function (body) { return { ok: response.ok, body: body }; });
      }).then(function (result) {
        if (!result.ok) {
          var error = result.body.error || { field: "number", reason: "The card could not be checked." };
          var slot = fieldset.querySelector('[data-card-error="' + error.field + '"]') ||
                     fieldset.querySelector('[data-card-error="number"]');
          slot.textContent = error.reason;
          var input = fieldset.querySelector('[data-card="' + error.field + '"]');
          if (input) { input.setAttribute("aria-invalid", "true"); input.focus(); }
          if (submitter) submitter.disabled = false;
          return;
        }
        tokenInput.value = result.body.token;
        fieldset.querySelectorAll("[data-card]").forEach(function (input) { input.value = ""; });
        if (submitter) {
          var carry = document.createElement("input");
          carry.type = "hidden"; carry.name = submitter.name; carry.value = submitter.value;
          if (submitter.name) form.appendChild(carry);
        }
        form.submit();
      }).catch(function () {
        fieldset.querySelector('[data-card-error="number"]').textContent =
          "The payment gateway could not be reached. Try again in a moment.";
        if (submitter) submitter.disabled = false;
      });
    });
  }
  function init(root) {
    (root || document).querySelectorAll("[data-card-form]").forEach(setup);
  }
  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:load", function (event) { init(event.target); });
})();
