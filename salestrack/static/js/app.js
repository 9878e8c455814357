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
// Lists on a phone: each row becomes a card whose cells carry their column's
// header (data-label, shown by the stylesheet below 720 px), so status and
// due dates stay on screen instead of scrolling sideways inside the table.
(function () {
  "use strict";
  function labelCells(root) {
    var tables = root.querySelectorAll ? Array.prototype.slice.call(root.querySelectorAll("table.list")) : [];
    if (root.matches && root.matches("table.list")) tables.push(root);
    tables.forEach(function (table) {
      var head = table.tHead && table.tHead.rows[0];
      if (!head) return;
      var names = [];
      Array.prototype.forEach.call(head.cells, function (th) {
        for (var n = 0; n < (th.colSpan || 1); n++) names.push(th.textContent.replace(/\s+/g, " ").trim());
      });
      Array.prototype.forEach.call(table.tBodies, function (body) {
        Array.prototype.forEach.call(body.rows, function (row) {
          var column = 0;
          Array.prototype.forEach.call(row.cells, function (cell) {
            if (!cell.hasAttribute("data-label")) cell.setAttribute("data-label", names[column] || "");
            column += cell.colSpan || 1;
          });
        });
      });
      table.classList.add("cards");
    });
  }
  document.addEventListener("DOMContentLoaded", function () { labelCells(document); });
  document.addEventListener("htmx:afterSettle", function (e) { labelCells(e.detail.elt || document); });
  document.addEventListener("htmx:historyRestore", function () { labelCells(document); });
})();
// Scoring tables (data-weights): Σ 权重, each party's Σ 权重 × 评分 and its 级别,
// recomputed as the user types. The same steps as formkit/scoring.py, on whole
// hundredths, so the page shows to the last digit what the server stores and
// the PDF prints.
(function () {
  "use strict";
  var WIDE = /[\uFF01-\uFF5E]/g;
  function hundredths(text) {
    text = String(text == null ? "" : text).replace(WIDE, function (c) {
      return String.fromCharCode(c.charCodeAt(0) - 0xFEE0);
    }).replace(/\u3000/g, " ").trim().replace(/%$/, "").trim();
    var m = /^(\d*)(?:\.(\d*))?$/.exec(text);
    if (!m || !(m[1] || m[2])) return null;
    var frac = (m[2] || "").replace(/0+$/, "");
    var whole = (m[1] || "0").replace(/^0+(?=\d)/, "");
    if (frac.length > 2 || whole.length > 9) return null;
    return parseInt(whole, 10) * 100 + parseInt((frac + "00").slice(0, 2), 10);
  }
  function two(n) { return (n < 10 ? "0" : "") + n; }
  function percentText(h) {
    var frac = h % 100;
    return Math.floor(h / 100) + (frac ? ("." + two(frac)).replace(/0$/, "") : "") + "%";
  }
  function scoreText(h) { return h === null ? "" : Math.floor(h / 100) + "." + two(h % 100); }
  function cell(row, key) {
    var input = row.querySelector('[name$="-' + key + '"]');
    return input && /^[a-z][a-z0-9_]*-\d+-[a-z][a-z0-9_]*$/.test(input.name) &&
      input.name.slice(input.name.lastIndexOf("-") + 1) === key ? hundredths(input.value) : null;
  }
  function grade(total, pairs) {
    var best = null;
    if (total === null || !Array.isArray(pairs)) return "";
    pairs.forEach(function (p) {
      if (!Array.isArray(p) || p.length !== 2) return;
      var floor = hundredths(p[0]);
      if (floor !== null && floor <= total && (best === null || floor > best[0])) best = [floor, String(p[1])];
    });
    return best ? best[1] : "";
  }
  function update(table) {
    var weights = table.getAttribute("data-weights");
    var scores = (table.getAttribute("data-scores") || "").split(" ").filter(Boolean);
    var rows = table.querySelectorAll("tbody tr");
    var sum = 0, products = {}, scored = {};
    scores.forEach(function (s) { products[s] = 0; scored[s] = false; });
    for (var i = 0; i < rows.length; i++) {
      var w = cell(rows[i], weights);
      sum += w || 0;
      scores.forEach(function (s) {
        var v = cell(rows[i], s);
        if (v === null) return;
        scored[s] = true;
        products[s] += (w || 0) * v;
      });
    }
    var out = table.querySelector("output[data-sum]");
    if (out) { out.textContent = percentText(sum); out.classList.toggle("off", sum !== 10000); }
    scores.forEach(function (s) {
      var total = scored[s] ? Math.floor((products[s] + 5000) / 10000) : null;
      var t = table.querySelector('output[data-total="' + s + '"]');
      if (t) t.textContent = scoreText(total);
      var g = table.querySelector('output[data-grade="' + s + '"]');
      if (g) {
        var pairs = [];
        try { pairs = JSON.parse(g.getAttribute("data-grades") || "[]"); } catch (e) { pairs = []; }
        g.textContent = grade(total, pairs);
      }
    });
  }
  function updateAll(root) {
    var tables = (root || document).querySelectorAll("table[data-weights]");
    for (var i = 0; i < tables.length; i++) update(tables[i]);
  }
  document.addEventListener("input", function (e) {
    var table = e.target.closest && e.target.closest("table[data-weights]");
    if (table) update(table);
  });
  document.addEventListener("click", function (e) {  // after a row's 删除 (wired above)
    if (e.target.closest && e.target.closest("[data-remove-row]")) updateAll();
  });
  document.addEventListener("htmx:afterSwap", function () { updateAll(); });
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", function () { updateAll(); });
  else updateAll();
})();
