// Small behaviours every page shares; everything else is htmx.
(function () {
  "use strict";
  // Ask before leaving a form with unsaved changes (nothing typed is lost by accident).
  var dirty = new WeakSet();
  document.addEventListener("input", function (e) {
    var form = e.target.closest && e.target.closest("form[data-guard-unsaved]");
    if (form) dirty.add(form);
  });
  document.addEventListener("submit", function (e) { dirty.delete(e.target); });
  window.addEventListener("beforeunload", function (e) {
    var forms = document.querySelectorAll("form[data-guard-unsaved]");
    for (var i = 0; i < forms.length; i++) {
      if (dirty.has(forms[i])) { e.preventDefault(); e.returnValue = ""; return ""; }
    }
  });
  // Picking a person of the customer in a contact input (its datalist) fills
  // what the sheet's definition declares (data-fills="title=title contact=phone":
  // the same row's cell for a table, else the sheet's field) where still blank.
  function fillFromPerson(input) {
    var pairs = (input.getAttribute("data-fills") || "").split(" ");
    var list = document.getElementById(input.getAttribute("list") || "");
    if (!list || !input.form) return;
    var option = null;
    for (var i = 0; i < list.options.length; i++) {
      if (list.options[i].value === input.value.trim()) { option = list.options[i]; break; }
    }
    if (!option) return;
    var row = /^(.*-\d+-)[a-z0-9_]+$/.exec(input.name);
    pairs.forEach(function (pair) {
      var parts = pair.split("=");
      if (parts.length !== 2) return;
      var target = input.form.elements.namedItem((row ? row[1] : "") + parts[0]);
      var value = option.getAttribute("data-" + parts[1]) || "";
      if (target && target.value !== undefined && !target.value.trim() && value) {
        target.value = value;
        target.dispatchEvent(new Event("input", { bubbles: true }));
      }
    });
  }
  document.addEventListener("change", function (e) {
    if (e.target.matches && e.target.matches("input[data-fills]")) fillFromPerson(e.target);
  });
  document.addEventListener("input", function (e) {
    if (e.target.matches && e.target.matches("input[data-fills]")) fillFromPerson(e.target);
  });

  // htmx: show server errors instead of failing silently.
  document.addEventListener("htmx:responseError", function (e) {
    var status = e.detail.xhr.status;
    if (status >= 500) alert("服务器出错（" + status + "），您的输入未丢失，请稍后重试。");
  });
  document.addEventListener("htmx:sendError", function () {
    alert("网络连接失败，您的输入未丢失，请检查网络后重试。");
  });

  // A button that needs an input filled first (data-requires: the input's id;
  // the message goes into the input's error slot) and asks before it acts
  // (data-confirm). Runs before the form is sent, htmx or not.
  document.addEventListener("click", function (e) {
    var button = e.target.closest && e.target.closest("[data-requires], [data-confirm]");
    if (!button || button.disabled) return;
    var needed = button.getAttribute("data-requires");
    var input = needed && document.getElementById(needed);
    var slot = input && document.getElementById(needed + "-error");
    if (input && !input.value.trim()) {
      e.preventDefault();
      e.stopImmediatePropagation();
      if (slot) slot.textContent = button.getAttribute("data-requires-message") || "请先填写";
      input.setAttribute("aria-invalid", "true");
      input.closest(".field") && input.closest(".field").classList.add("has-error");
      input.focus();
      return;
    }
    if (slot) slot.textContent = "";
    var question = button.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      e.preventDefault();
      e.stopImmediatePropagation();
    }
  }, true);

  // One click, one act: while a form's request is on its way its buttons are
  // disabled and the pressed one says so; a second submit is ignored. (The
  // server also acts once per rendered form, whatever arrives.)
  function busy(form, submitter) {
    var buttons = form.querySelectorAll("button, input[type=submit]");
    for (var i = 0; i < buttons.length; i++) buttons[i].disabled = true;
    form.setAttribute("aria-busy", "true");
    if (submitter) submitter.classList.add("is-busy");
  }
  function idle(form) {
    var buttons = form.querySelectorAll("button, input[type=submit]");
    for (var i = 0; i < buttons.length; i++) { buttons[i].disabled = false; buttons[i].classList.remove("is-busy"); }
    form.removeAttribute("aria-busy");
    delete form.dataset.sending;
  }
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (e.defaultPrevented) return;  // e.g. a confirmation answered 取消
    if ((form.getAttribute("method") || "get").toLowerCase() !== "post" || form.hasAttribute("hx-post")) return;
    if (form.dataset.sending) { e.preventDefault(); return; }
    form.dataset.sending = "1";
    var submitter = e.submitter;
    // Disabled after the browser has taken the pressed button's name and value.
    setTimeout(function () { busy(form, submitter); }, 0);
    // A response that is a download leaves the page as it is: give the buttons back.
    setTimeout(function () { idle(form); }, 15000);
  });
  window.addEventListener("pageshow", function () {  // Back to a page kept in memory
    var forms = document.querySelectorAll("form[aria-busy], form[data-sending]");
    for (var i = 0; i < forms.length; i++) idle(forms[i]);
  });
  document.addEventListener("htmx:beforeRequest", function (e) {
    var form = e.detail.elt.closest && e.detail.elt.closest("form");
    var config = e.detail.requestConfig || {};
    var trigger = config.triggeringEvent || {};
    if (form && form.hasAttribute("hx-post") && e.detail.elt === form) busy(form, trigger.submitter);
  });
  document.addEventListener("htmx:afterRequest", function (e) {
    var form = e.detail.elt;
    if (form && form.tagName === "FORM" && form.isConnected) idle(form);
  });
})();
// Attachments: "移除" takes the file off the sheet's list (saved with the sheet).
document.addEventListener("click", function (e) {
  var button = e.target.closest && e.target.closest("[data-remove-file]");
  if (!button) return;
  var input = document.getElementById(button.getAttribute("data-remove-file"));
  var id = button.getAttribute("data-id");
  input.value = input.value.split(",").filter(function (v) { return v.trim() && v.trim() !== id; }).join(",");
  button.closest("li").remove();
  input.dispatchEvent(new Event("input", { bubbles: true }));
});
// No inline script anywhere (Content-Security-Policy script-src 'self'):
// a table row's 删除 and the error page's 返回 are wired here.
document.addEventListener("click", function (e) {
  var remove = e.target.closest && e.target.closest("[data-remove-row]");
  if (remove) { remove.closest("tr").remove(); return; }
  if (e.target.closest && e.target.closest("[data-back]")) history.back();
});
