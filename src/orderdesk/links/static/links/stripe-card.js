// Card payments with Stripe.js: the card is typed into Stripe's own fields (the Payment
// Element) and confirmed by Stripe, so it never reaches orderdesk. On submit: ask orderdesk
// for a PaymentIntent (manual capture), confirm it with Stripe.js, then post only its id;
// orderdesk reads it back from Stripe before recording the authorization. A card declined
// at confirmation is posted too, so that orderdesk records the attempt and its reason.
(function () {
  "use strict";
  function csrfToken(form) {
    var input = form.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function intentFor(fieldset, form) {
    return fetch(fieldset.dataset.intentUrl, {
      method: "POST",
      headers: { "X-CSRFToken": csrfToken(form), "Content-Type": "application/json" },
      body: "{}",
      credentials: "same-origin"
    }).then(function (response) {
      return response.json().then(function (body) {
        if (!response.ok) throw { message: (body.error || {}).reason || "The payment could not be started." };
        return body.client_secret;
      });
    });
  }

  function submitWith(form, fieldset, submitter, intentId) {
    fieldset.querySelector("[data-card-token]").value = intentId;
    if (submitter && submitter.name) {
      var carry = document.createElement("input");
      carry.type = "hidden"; carry.name = submitter.name; carry.value = submitter.value;
      form.appendChild(carry);
    }
    form.submit();
  }

  function setup(fieldset) {
    var form = fieldset.closest("form");
    if (!form || form.dataset.cardFormReady || typeof window.Stripe !== "function") return;
    form.dataset.cardFormReady = "1";
    var stripe = window.Stripe(fieldset.dataset.publishableKey);
    var elements = stripe.elements({
      mode: "payment", amount: Number(fieldset.dataset.amount), currency: fieldset.dataset.currency,
      captureMethod: "manual", paymentMethodTypes: ["card"]
    });
    elements.create("payment", { wallets: { applePay: "never", googlePay: "never" } })
      .mount(fieldset.querySelector("[data-stripe-element]"));
    var errorSlot = fieldset.querySelector("[data-card-error]");
    form.addEventListener("submit", function (event) {
      if (fieldset.querySelector("[data-card-token]").value) return;
      event.preventDefault();
      var submitter = event.submitter;
      if (submitter) submitter.disabled = true;
      errorSlot.textContent = "";
      elements.submit().then(function (checked) {
        if (checked.error) throw checked.error;
        return intentFor(fieldset, form);
      }).then(function (clientSecret) {
        return stripe.confirmPayment({
          elements: elements, clientSecret: clientSecret, redirect: "if_required",
          confirmParams: { return_url: window.location.href }
        });
      }).then(function (result) {
        var declined = result.error && result.error.payment_intent;
        if (result.error && !declined) throw result.error;
        submitWith(form, fieldset, submitter, declined ? result.error.payment_intent.id : result.paymentIntent.id);
      }).catch(function (error) {
        errorSlot.textContent = (error && error.message) || "The card could not be checked. Try again.";
        if (submitter) submitter.disabled = false;
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-stripe-card]").forEach(setup);
  });
})();
