// PayPal's JS SDK buttons on the customer's page: createOrder asks orderdesk to create the
// PayPal order (intent AUTHORIZE, orderdesk's server holds the credentials); onApprove posts
// the approval back, and orderdesk authorizes that order server-side. Without the SDK the
// "Pay with PayPal" form stays: the redirect to PayPal's page does the same.
(function () {
  "use strict";
  function setup(container) {
    var redirectForm = document.querySelector("[data-paypal-redirect]");
    var approveForm = document.getElementById(container.dataset.approveForm);
    var errorSlot = document.querySelector("[data-paypal-error]");
    if (!window.paypal || typeof window.paypal.Buttons !== "function") return;
    var csrf = approveForm.querySelector("input[name=csrfmiddlewaretoken]").value;
    window.paypal.Buttons({
      createOrder: function () {
        errorSlot.textContent = "";
        return fetch(container.dataset.orderUrl, {
          method: "POST", credentials: "same-origin",
          headers: { "X-CSRFToken": csrf, "Content-Type": "application/json" }, body: "{}"
        }).then(function (response) {
          return response.json().then(function (body) {
            if (!response.ok) throw new Error((body.error || {}).reason || "PayPal could not be started.");
            return body.id;
          });
        });
      },
      onApprove: function () { approveForm.submit(); },
      onCancel: function () { errorSlot.textContent = "The PayPal payment was not approved. Nothing was charged."; },
      onError: function (error) { errorSlot.textContent = (error && error.message) || "PayPal could not be reached. Try again in a moment."; }
    }).render(container).then(function () {
      if (redirectForm) redirectForm.hidden = true;
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-paypal-buttons]").forEach(setup);
  });
})();
