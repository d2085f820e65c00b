// The unpaid panel's periodic refresh. It asks only while the tab is visible and no CSR is
// typing in the filters, sends the version of the rows it shows so an unchanged panel costs
// no swap (the server answers 204), and announces a changed panel politely.
(function () {
  "use strict";

  var typingPauseMs = 10000;
  var lastTyped = 0;
  var shownVersion = "";

  function panel() {
    return document.getElementById("unpaid-panel");
  }

  function typing() {
    var active = document.activeElement;
    var inFilters = active && active.closest && active.closest("form.filters");
    var typed = Date.now() - lastTyped < typingPauseMs;
    return Boolean(inFilters && active.matches("input[type=search], input[type=text]")) || typed;
  }

  function refresh() {
    var element = panel();
    if (!element || !window.htmx || document.visibilityState !== "visible" || typing()) {
      return;
    }
    window.htmx.trigger(element, "panel-refresh");
  }

  function announce(text) {
    var status = document.getElementById("unpaid-panel-status");
    if (status) {
      status.textContent = text;
    }
  }

  function clock() {
    return new Date().toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  document.addEventListener("input", function (event) {
    if (event.target.closest && event.target.closest("form.filters")) {
      lastTyped = Date.now();
    }
  });

  document.addEventListener("htmx:configRequest", function (event) {
    if (event.detail.elt.id === "unpaid-panel" && shownVersion) {
      event.detail.headers["X-Panel-Version"] = shownVersion;
    }
  });

  // Before the swap, while the panel is still in the page (an event on an element already
  // swapped out would not reach the document); htmx fires it for a 204 too.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var xhr = event.detail.xhr;
    var version = xhr && xhr.getResponseHeader("X-Panel-Version");
    if (!version) {
      return;
    }
    var refreshed = event.detail.requestConfig.elt.id === "unpaid-panel";
    if (refreshed && xhr.status === 200 && shownVersion && version !== shownVersion) {
      announce("Unpaid orders updated at " + clock() + ".");
    }
    shownVersion = version;
  });

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") {
      refresh();
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    var element = panel();
    if (!element) {
      return;
    }
    shownVersion = element.dataset.version || "";
    var seconds = Number(element.dataset.refreshSeconds) || 60;
    typingPauseMs = Math.min(typingPauseMs, seconds * 1000);
    window.setInterval(refresh, seconds * 1000);
  });
})();
