/* mentor's web app: a few enhancements of our own; every page works without them.
 *
 * - A sign-in link /login#token=... fills in the login form and sends it. The token
 *   is in the fragment, which the browser never sends to the server, and is removed
 *   from the address bar at once.
 * - Forms marked data-enhance are sent with fetch(); the parts of the answer page
 *   marked data-swap replace those of the current page (the feedback lands in an
 *   aria-live region that stays in place, so screen readers announce it), and the
 *   focus moves to the next answer field.
 */
(function () {
  "use strict";

  function signInFromFragment() {
    var form = document.getElementById("login-form");
    if (!form || location.hash.indexOf("#token=") !== 0) return;
    var token = decodeURIComponent(location.hash.slice("#token=".length));
    history.replaceState(null, "", location.pathname + location.search);
    form.elements.token.value = token;
    form.submit();
  }

  function focusFirst(root) {
    var target = root.querySelector("[data-autofocus]");
    if (target) target.focus();
  }

  function enhance(form) {
    if (form.dataset.enhanced) return;
    form.dataset.enhanced = "1";
    form.addEventListener("submit", function (event) {
      if (form.dataset.native || !window.fetch || !window.DOMParser) return;
      event.preventDefault();
      var submitter = event.submitter || null;
      var data = new FormData(form);
      if (submitter && submitter.name) data.append(submitter.name, submitter.value);
      var buttons = form.querySelectorAll("button");
      buttons.forEach(function (b) { b.disabled = true; });
      form.setAttribute("aria-busy", "true");
      function fallBack() {
        buttons.forEach(function (b) { b.disabled = false; });
        form.dataset.native = "1";
        if (form.requestSubmit) form.requestSubmit(submitter); else form.submit();
      }
      fetch(form.action, { method: "POST", body: data, credentials: "same-origin" })
        .then(function (response) {
          var type = response.headers.get("content-type") || "";
          if (type.indexOf("text/html") !== 0) throw new Error("not a page");
          return response.text();
        })
        .then(function (html) {
          var page = new DOMParser().parseFromString(html, "text/html");
          var parts = page.querySelectorAll("[data-swap]");
          var swapped = 0;
          parts.forEach(function (part) {
            var here = document.getElementById(part.id);
            if (here) { here.innerHTML = part.innerHTML; swapped += 1; }
          });
          if (!swapped) { fallBack(); return; }
          document.title = page.title;
          bind(document);
          focusFirst(document);
        })
        .catch(fallBack);
    });
  }

  function bind(root) {
    root.querySelectorAll("form[data-enhance]").forEach(enhance);
  }

  function start() {
    signInFromFragment();
    bind(document);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
