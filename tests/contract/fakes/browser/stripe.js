// A stand-in of Stripe.js (https://js.stripe.com/v3/) for orderdesk's tests, served by the
// fake Stripe API. It implements the part orderdesk's pages use: Stripe(key),
// stripe.elements({mode: "payment", ...}), elements.create("payment").mount(target),
// elements.submit() and stripe.confirmPayment({elements, clientSecret, redirect}).
// As with Stripe.js, the card fields live in a frame served from the gateway's origin,
// and the card goes from that frame to the gateway's API: the page never sees it.
(function () {
  "use strict";
  var origin = new URL(document.currentScript.src).origin;
  var waiting = {};
  var nextId = 1;

  window.addEventListener("message", function (event) {
    var data = event.data || {};
    if (event.origin !== origin || !waiting[data.id]) return;
    var resolve = waiting[data.id];
    delete waiting[data.id];
    resolve(data);
  });

  function ask(frame, message) {
    return new Promise(function (resolve) {
      if (!frame) {
        resolve({ error: { type: "integration_error", message: "Mount the element first." } });
        return;
      }
      message.id = nextId++;
      waiting[message.id] = resolve;
      frame.contentWindow.postMessage(message, origin);
    });
  }

  function Elements(options) {
    this.options = options || {};
    this.frame = null;
  }

  Elements.prototype.create = function (type) {
    if (type !== "payment" && type !== "card") {
      throw new Error("The Stripe.js stand-in has no " + type + " element");
    }
    var elements = this;
    return {
      mount: function (target) {
        var host = typeof target === "string" ? document.querySelector(target) : target;
        var frame = document.createElement("iframe");
        frame.src = origin + "/elements/payment";
        frame.title = "Secure payment input frame";
        frame.className = "stripe-stand-in-frame";
        host.appendChild(frame);
        elements.frame = frame;
      },
      on: function () {},
      destroy: function () {
        if (elements.frame) elements.frame.remove();
        elements.frame = null;
      }
    };
  };

  Elements.prototype.submit = function () {
    return ask(this.frame, { type: "submit" }).then(function (answer) {
      return answer.error ? { error: answer.error } : {};
    });
  };

  window.Stripe = function (publishableKey) {
    return {
      elements: function (options) { return new Elements(options); },
      confirmPayment: function (params) {
        return ask(params.elements.frame, {
          type: "confirm", key: publishableKey, clientSecret: params.clientSecret
        }).then(function (answer) {
          return answer.error ? { error: answer.error } : { paymentIntent: answer.paymentIntent };
        });
      }
    };
  };
})();
