// refhub: small progressive enhancements; every page works without them.
(function () {
  "use strict";

  // A polite live region to announce what a script did.
  var live;
  function announce(text) {
    if (!live) {
      live = document.createElement("div");
      live.className = "visually-hidden";
      live.setAttribute("aria-live", "polite");
      document.body.appendChild(live);
    }
    live.textContent = "";
    setTimeout(function () { live.textContent = text; }, 50);
  }

  // Copy buttons: data-copy names the field whose value is copied.
  function copy(btn) {
    var field = document.getElementById(btn.getAttribute("data-copy"));
    if (!field) return;
    field.select();
    var original = btn.getAttribute("data-label") || btn.innerHTML;
    btn.setAttribute("data-label", original);
    var done = function () {
      btn.textContent = "Copied";
      announce("Copied to the clipboard");
      setTimeout(function () { btn.innerHTML = original; }, 1500);
    };
    var fallback = function () { try { document.execCommand("copy"); } catch (e) { /* selected for manual copy */ } done(); };
    if (navigator.clipboard && window.isSecureContext) { navigator.clipboard.writeText(field.value).then(done, fallback); }
    else { fallback(); }
  }

  // Editable tables (mapping fields, default values, routes): add and remove
  // rows in place instead of the server round trip the buttons do without
  // JavaScript.
  function renumber(row, n) {
    row.querySelectorAll("[id]").forEach(function (el) { el.id = el.id.replace(/-\d+$/, "-" + n); });
    row.querySelectorAll("label[for]").forEach(function (el) {
      el.htmlFor = el.htmlFor.replace(/-\d+$/, "-" + n);
      el.textContent = el.textContent.replace(/\d+$/, String(n + 1));
    });
    row.querySelectorAll("[data-remove-row]").forEach(function (el) { el.value = String(n); });
    row.querySelectorAll("button .visually-hidden").forEach(function (el) {
      el.textContent = el.textContent.replace(/\d+$/, String(n + 1));
    });
  }

  function addRow(btn) {
    var table = document.querySelector('table[data-rows="' + btn.getAttribute("data-add-row") + '"]');
    if (!table) return;
    var body = table.tBodies[0];
    var last = body.rows[body.rows.length - 1];
    var row = last.cloneNode(true);
    row.classList.remove("has-msg");
    row.querySelectorAll(".msg").forEach(function (el) { el.remove(); });
    row.querySelectorAll("[aria-describedby]").forEach(function (el) { el.removeAttribute("aria-describedby"); });
    row.querySelectorAll("td.sample").forEach(function (el) { el.textContent = ""; });
    row.querySelectorAll("option[data-extra]").forEach(function (el) { el.remove(); });
    row.querySelectorAll("select[data-default-value]").forEach(function (el) { el.replaceWith(valueControl(el, null)); });
    row.querySelectorAll("input").forEach(function (el) { el.value = ""; });
    row.querySelectorAll("select").forEach(function (el) { el.selectedIndex = 0; });
    row.querySelectorAll("td:nth-child(3) a").forEach(function (el) { el.parentNode.textContent = "Starts as a copy of the default mapping"; });
    renumber(row, body.rows.length);
    body.appendChild(row);
    var first = row.querySelector("input:not([type=hidden]), select");
    if (first) first.focus();
    announce("Row added");
  }

  function removeRow(btn) {
    var row = btn.closest("tr");
    var body = row.parentNode;
    if (body.rows.length > 1) {
      var next = row.nextElementSibling || row.previousElementSibling;
      row.remove();
      var target = next.querySelector("input:not([type=hidden]), select");
      if (target) target.focus();
    } else {
      row.querySelectorAll("input").forEach(function (el) { el.value = ""; }); // hidden ones too: a cleared route keeps no old mapping
      row.querySelectorAll("select").forEach(function (el) { el.selectedIndex = 0; });
    }
    announce("Row removed. Save to keep the change.");
  }

  // Default values of enumeration properties are chosen among the options.
  function enumOptions() {
    var el = document.getElementById("enum-options");
    if (!el) return {};
    try { return JSON.parse(el.textContent) || {}; } catch (e) { return {}; }
  }

  function valueControl(old, options) {
    var ctl;
    if (options && options.length) {
      ctl = document.createElement("select");
      var none = document.createElement("option");
      none.value = "";
      none.textContent = "— choose a value —";
      ctl.appendChild(none);
      options.forEach(function (o) {
        var opt = document.createElement("option");
        opt.value = o.value;
        opt.textContent = o.label;
        if (o.value === old.value) opt.selected = true;
        ctl.appendChild(opt);
      });
    } else {
      ctl = document.createElement("input");
      ctl.value = old.tagName === "SELECT" ? "" : old.value;
    }
    ctl.id = old.id;
    ctl.name = old.name;
    ctl.setAttribute("data-default-value", "");
    return ctl;
  }

  document.addEventListener("change", function (e) {
    var sel = e.target.closest("select[data-default-property]");
    if (!sel) return;
    var old = sel.closest("tr").querySelector("[data-default-value]");
    if (!old) return;
    var options = enumOptions()[sel.value];
    if (old.tagName === "SELECT" || options) old.replaceWith(valueControl(old, options));
  });

  document.addEventListener("click", function (e) {
    var btn = e.target.closest("[data-copy]");
    if (btn) { copy(btn); return; }
    btn = e.target.closest("[data-add-row]");
    if (btn) { e.preventDefault(); addRow(btn); return; }
    btn = e.target.closest("[data-remove-row]");
    if (btn) { e.preventDefault(); removeRow(btn); }
  });

  // A stage picker (data-stages on its pipeline's select) offers only the
  // stages of the chosen pipeline; without JavaScript it lists them all
  // under their pipelines, and the server checks the pair.
  function followPipeline(pipe) {
    var stage = document.getElementById(pipe.getAttribute("data-stages"));
    if (!stage || stage.tagName !== "SELECT") return;
    var keep = false, first = null;
    stage.querySelectorAll("optgroup").forEach(function (g) {
      var on = g.getAttribute("data-pipeline") === pipe.value;
      g.hidden = !on;
      g.disabled = !on;
      if (on) {
        first = g.querySelector("option");
        keep = keep || (stage.selectedIndex >= 0 && stage.options[stage.selectedIndex].parentNode === g);
      }
    });
    if (!keep && first) first.selected = true;
  }

  document.addEventListener("change", function (e) {
    var pipe = e.target.closest("select[data-stages]");
    if (pipe) followPipeline(pipe);
  });

  // Live preview: a form with data-preview="id" is sent with
  // action=preview as the admin types, and the server-rendered element id
  // of the answer replaces the page's (nothing is saved).
  var previewTimer = null;
  function preview(form) {
    var data = new URLSearchParams(new FormData(form));
    data.set("action", "preview");
    fetch(form.getAttribute("action"), { method: "POST", body: data, credentials: "same-origin" }) // form.action may be a control named "action"
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (html === null) return;
        var id = form.getAttribute("data-preview");
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById(id), cur = document.getElementById(id);
        if (fresh && cur) cur.innerHTML = fresh.innerHTML;
      })
      .catch(function () {});
  }
  ["input", "change"].forEach(function (type) {
    document.addEventListener(type, function (e) {
      var form = e.target.closest && e.target.closest("form[data-preview]");
      if (!form) return;
      clearTimeout(previewTimer);
      previewTimer = setTimeout(function () { preview(form); }, 250);
    });
  });

  // Result of a test signup: ask the API until the event is no longer
  // queued, then show the server-rendered outcome in the live region.
  function poll(region) {
    var url = region.getAttribute("data-poll");
    var started = Date.now();
    var tick = function () {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (ev) {
          if (ev && ev.status && ev.status !== "queued") { return refresh(region); }
          if (Date.now() - started < 120000) { setTimeout(tick, 1000); }
        })
        .catch(function () { setTimeout(tick, 3000); });
    };
    setTimeout(tick, 700);
  }

  function refresh(region) {
    return fetch(location.href, { credentials: "same-origin" })
      .then(function (r) { return r.text(); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        ["event-result", "event-facts"].forEach(function (id) {
          var fresh = doc.getElementById(id), cur = document.getElementById(id);
          if (fresh && cur) { cur.innerHTML = fresh.innerHTML; cur.removeAttribute("data-poll"); }
        });
      });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-poll]").forEach(poll);
    document.querySelectorAll("select[data-stages]").forEach(followPipeline);
  });

  // Backfill progress: polls the source's backfill while it runs and
  // updates the bar; the page shows the state at load without it.
  var bf = document.querySelector("[data-backfill]");
  function bfPart(name) { return bf.querySelector('[data-bf="' + name + '"]'); }
  function pollBackfill() {
    var req = new XMLHttpRequest();
    req.open("GET", bf.getAttribute("data-backfill"));
    req.onload = function () {
      if (req.status !== 200) return;
      var s = JSON.parse(req.responseText);
      var pct = s.status === "done" ? 100 : (s.total > 0 ? Math.min(100, Math.floor(s.done * 100 / s.total)) : 0);
      bfPart("progress").value = pct;
      bfPart("progress").textContent = pct + "%";
      bfPart("counts").textContent = s.done + " of " + s.total + " users read · " + s.matched + " in the campaign · " + s.queued + " queued" +
        (s.not_sent ? " · " + s.not_sent + " not sent (a kind this source sends nothing for)" : "");
      var w = bfPart("waiting");
      w.hidden = !s.waiting_on;
      w.textContent = s.waiting_on ? "Waiting on: " + s.waiting_on : "";
      if (s.status === "running") { setTimeout(pollBackfill, 2000); return; }
      bfPart("label").textContent = (s.mode === "reconcile" ? "Reconcile " : "Backfill ") + s.status;
      announce(bfPart("label").textContent);
    };
    req.send();
  }
  if (bf && bfPart("label").textContent.indexOf("running") >= 0) setTimeout(pollBackfill, 2000);
})();
