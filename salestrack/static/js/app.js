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
  // htmx: show server errors instead of failing silently.
  document.addEventListener("htmx:responseError", function (e) {
    var status = e.detail.xhr.status;
    if (status >= 500) alert("服务器出错（" + status + "），您的输入未丢失，请稍后重试。");
  });
  document.addEventListener("htmx:sendError", function () {
    alert("网络连接失败，您的输入未丢失，请检查网络后重试。");
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
