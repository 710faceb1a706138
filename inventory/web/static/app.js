// Keyboard-wedge scanners in the scan fields: GS typed as Ctrl+], Enter ends a scan.
(function () {
  "use strict";
  var GS = "\u001d";
  var KEY = "inventory.gs-substitute";

  function insertAtCursor(field, text) {
    var start = field.selectionStart, end = field.selectionEnd;
    field.value = field.value.slice(0, start) + text + field.value.slice(end);
    field.selectionStart = field.selectionEnd = start + text.length;
    field.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function cartonIn(text) {
    var match = /^(?:https?:\/\/[^\/]+)?\/cartons\/(\d+)\/?$/.exec((text || "").trim());
    return match ? match[1] : null;
  }

  function nextField(field) {
    var form = field.form;
    if (!form) return null;
    var target = form.querySelector("[data-after-scan]") || form.querySelector("input[name=vials]");
    return target;
  }

  document.addEventListener("keydown", function (event) {
    var field = event.target;
    if (!field.matches || !field.matches("[data-scan]")) return;
    var isGs = event.ctrlKey && !event.altKey && (event.key === "]" || event.code === "BracketRight");
    if (isGs) {
      event.preventDefault();
      insertAtCursor(field, GS);
    } else if (event.key === "Enter" && cartonIn(field.value)) {
      // a carton label's QR code holds the carton's address: open it
      event.preventDefault();
      window.location.assign("/cartons/" + cartonIn(field.value));
    } else if (event.key === "Enter" && field.hasAttribute("data-scan-enter-submits")) {
      return; // this field's form is submitted by the scan itself
    } else if (event.key === "Enter") {
      // the scanner's Enter ends the scan: show what it names, then go on to the next field
      event.preventDefault();
      field.dispatchEvent(new Event("scan-complete", { bubbles: true }));
      var next = nextField(field);
      if (next) { next.focus(); if (next.select) next.select(); }
    }
  });

  function substitute() {
    try { return window.localStorage.getItem(KEY) || ""; } catch (e) { return ""; }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var value = substitute();
    document.querySelectorAll("[data-separator]").forEach(function (el) { el.value = value; });
    document.querySelectorAll("[data-separator-setting]").forEach(function (el) {
      el.value = value;
      el.addEventListener("change", function () {
        try { window.localStorage.setItem(KEY, el.value); } catch (e) { /* private mode */ }
        document.querySelectorAll("[data-separator]").forEach(function (h) { h.value = el.value; });
      });
    });
    // a page that just finished a task sends focus back to its scan field
    var scan = document.querySelector("[data-scan][autofocus]");
    if (scan) scan.focus();
  });
})();
