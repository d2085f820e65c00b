// A stand-in of PayPal's JS SDK (https://www.paypal.com/sdk/js) for orderdesk's tests,
// served by the fake PayPal API. It implements the part orderdesk's page uses:
// paypal.Buttons({createOrder, onApprove, onCancel, onError}).render(container). As with
// PayPal, the payer approves in a popup on the gateway's origin, which tells the page.
(function () {
  "use strict";
  var origin = new URL(document.currentScript.src).origin;

  function Buttons(options) {
    return {
      isEligible: function () { return true; },
      render: function (target) {
        var host = typeof target === "string" ? document.querySelector(target) : target;
        var button = document.createElement("button");
        button.type = "button";
        button.className = "paypal";
        button.textContent = "PayPal";
        button.setAttribute("aria-label", "PayPal Checkout");
        button.addEventListener("click", function () { start(options); });
        host.appendChild(button);
        return Promise.resolve();
      }
    };
  }

  function start(options) {
    // Opened at once, within the click, as PayPal does, so no popup blocker stops it.
    var popup = window.open("about:blank", "paypal-checkout", "width=480,height=640");
    Promise.resolve(options.createOrder({}, {})).then(function (orderId) {
      function listen(event) {
        var data = event.data || {};
        if (event.origin !== origin || data.orderID !== orderId) return;
        window.removeEventListener("message", listen);
        if (data.approved) options.onApprove({ orderID: orderId }, {});
        else if (options.onCancel) options.onCancel({ orderID: orderId });
      }
      window.addEventListener("message", listen);
      popup.location.href = origin + "/checkoutnow?token=" + encodeURIComponent(orderId);
    }).catch(function (error) {
      if (popup) popup.close();
      if (options.onError) options.onError(error);
    });
  }

  window.paypal = { Buttons: Buttons, version: "stand-in" };
})();
