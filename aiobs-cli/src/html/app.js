// aiobs html: the timeline page. Vanilla JS, no network. The data (rows in tree pre-order with
// their aggregates, computed by `aiobs html`) is the JSON in <script id="data">.
// Only the rows in view are in the DOM, so 100,000 calls scroll like 100.
(function () {
  "use strict";
  var T_START = performance.now();
  var D = JSON.parse(document.getElementById("data").textContent);
  var T_PARSED = performance.now();
  var R = D.rows, N = R.length;
  var OWN_ERROR = 1, ERROR_BELOW = 2, CRITICAL = 4;
  var ROW_H = 24, OVERSCAN = 12;

  // ---- derived once -------------------------------------------------------------------
  var hay = new Array(N);          // what search looks in, lower case
  var maxEnd = 0, errors = 0, llmCalls = 0;
  for (var i = 0; i < N; i++) {
    var r = R[i];
    hay[i] = (r.n + "\u0000" + r.a + "\u0000" + (r.m || "")).toLowerCase();
    if (r.e > maxEnd) maxEnd = r.e;
    if (r.f & OWN_ERROR) errors++;
    if (r.k === 1) llmCalls++;
  }
  var span = maxEnd > 0 ? maxEnd : 1;
  var sumIn = 0, sumOut = 0, sumCost = 0, unpriced = 0;
  for (i = 0; i < N; i++) {
    if (R[i].p === -1) {
      sumIn += R[i].Ti || 0; sumOut += R[i].To || 0; sumCost += R[i].C || 0; unpriced += R[i].U || 0;
    }
  }

  // ---- state ---------------------------------------------------------------------------
  var collapsed = new Uint8Array(N);
  var keep = null;                 // Uint8Array when a filter is on: match or ancestor of one
  var matched = null;              // Uint8Array: the row itself matches
  var visible = new Int32Array(0);
  var posOf = new Int32Array(N);   // row -> position in visible, -1 if hidden
  var selected = -1;
  var view = { s: 0, e: span };    // the time window shown (ms after t0)
  var needle = "";
  var showCritical = true;

  var $ = function (id) { return document.getElementById(id); };
  var scroller = $("scroller"), rowsEl = $("rows"), spacer = $("spacer"), detail = $("detail");
  var ticks = $("ticks"), overview = $("overview");

  // ---- formatting ----------------------------------------------------------------------
  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }
  function fmtDur(ms) {
    if (!(ms >= 0)) return "";
    if (ms < 1) return Math.round(ms * 1000) + " µs";
    if (ms < 10) return ms.toFixed(2) + " ms";
    if (ms < 1000) return ms.toFixed(1) + " ms";
    if (ms < 60000) return (ms / 1000).toFixed(2) + " s";
    var m = Math.floor(ms / 60000);
    return m + " min " + ((ms - m * 60000) / 1000).toFixed(1) + " s";
  }
  function fmtTick(ms, step) {
    if (step < 1) return (ms * 1000).toFixed(0) + " µs";
    if (step < 1000) return (ms).toFixed(step < 10 ? 1 : 0) + " ms";
    if (step < 60000) return (ms / 1000).toFixed(step < 10000 ? 1 : 0) + " s";
    return (ms / 60000).toFixed(1) + " min";
  }
  function fmtNum(n) {
    if (n < 1000) return String(n);
    if (n < 1e6) return (n / 1e3).toFixed(n < 1e4 ? 1 : 0) + "k";
    return (n / 1e6).toFixed(n < 1e7 ? 2 : 1) + "M";
  }
  function fmtCost(c) {
    if (c >= 100) return "$" + c.toFixed(0);
    if (c >= 1) return "$" + c.toFixed(2);
    if (c >= 0.01) return "$" + c.toFixed(3);
    if (c > 0) return "$" + c.toPrecision(2);
    return "$0";
  }
  function fmtTime(unix) {
    if (typeof unix !== "number") return "";
    var d = new Date(unix * 1000);
    return d.toISOString().replace("T", " ").replace("Z", " UTC");
  }
  function highlight(text) {
    var t = esc(text);
    if (!needle) return t;
    var lower = text.toLowerCase(), at = lower.indexOf(needle);
    if (at < 0) return t;
    return esc(text.slice(0, at)) + "<mark>" + esc(text.slice(at, at + needle.length)) + "</mark>" +
      esc(text.slice(at + needle.length));
  }
  function prettyJson(value) {
    var text;
    try { text = JSON.stringify(value, null, 2); } catch (e) { text = String(value); }
    if (text === undefined) text = "null";
    var cut = "";
    if (text.length > 200000) { cut = "\n… (" + fmtNum(text.length - 200000) + " more characters)"; text = text.slice(0, 200000); }
    var html = esc(text);
    if (text.length < 60000) {
      html = html.replace(/(&quot;(?:[^&\\]|\\.|&(?!quot;))*&quot;)(\s*:)?|\b(true|false|null)\b|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/g,
        function (m, str, colon, lit, num) {
          if (str) return colon ? '<span class="k">' + str + "</span>" + colon : '<span class="s">' + str + "</span>";
          if (lit) return '<span class="b">' + lit + "</span>";
          return '<span class="n">' + num + "</span>";
        });
    }
    return '<pre class="json">' + html + esc(cut) + "</pre>";
  }

  // ---- header --------------------------------------------------------------------------
  function renderTotals() {
    var t = [
      ["calls", fmtNum(N)],
      ["LLM calls", fmtNum(llmCalls)],
      ["errors", fmtNum(errors), errors ? "bad" : ""],
      ["duration", fmtDur(span)],
      ["tokens in / out", fmtNum(sumIn) + " / " + fmtNum(sumOut)],
      ["cost" + (unpriced ? " (" + unpriced + " unpriced)" : ""), fmtCost(sumCost)],
      ["sessions", String(D.sessions.length)]
    ];
    $("totals").innerHTML = t.map(function (x) {
      return '<div class="t ' + (x[2] || "") + '"><b>' + esc(x[1]) + "</b><span>" + esc(x[0]) + "</span></div>";
    }).join("");
    var sel = $("session");
    var opts = ['<option value="-1">all sessions</option>'];
    D.sessions.forEach(function (s, k) { opts.push('<option value="' + k + '">' + esc(s.name) + "</option>"); });
    sel.innerHTML = opts.join("");
    if (D.sessions.length < 2) sel.hidden = true;
  }

  // ---- filtering and the list of visible rows -------------------------------------------
  function applyFilters() {
    var errOnly = $("errors-only").checked;
    var minDur = parseFloat($("min-dur").value);
    if (!(minDur > 0)) minDur = 0;
    var session = parseInt($("session").value, 10);
    if (!(session >= 0)) session = -1;
    needle = $("search").value.trim().toLowerCase();
    if (!needle && !errOnly && !minDur && session < 0) {
      keep = null; matched = null;
    } else {
      keep = new Uint8Array(N); matched = new Uint8Array(N);
      for (var i = N - 1; i >= 0; i--) {
        var r = R[i];
        if ((!errOnly || (r.f & OWN_ERROR)) && (!minDur || r.e - r.s >= minDur) &&
            (session < 0 || r.S === session) && (!needle || hay[i].indexOf(needle) >= 0)) {
          matched[i] = 1; keep[i] = 1;
        }
        if (keep[i] && r.p >= 0) keep[r.p] = 1;
      }
    }
    rebuild();
  }

  // The axis and the rows share the name column's width and the track's: the axis leaves room
  // for the rows' scrollbar, and the name column is sized in pixels of the rows' width.
  function layout() {
    var bar = scroller.offsetWidth - scroller.clientWidth;
    $("axis").style.paddingRight = bar + "px";
    var w = Math.max(240, Math.round(scroller.clientWidth * 0.44));
    document.documentElement.style.setProperty("--name-w", w + "px");
  }

  function rebuild() {
    var out = new Int32Array(N), n = 0, i = 0;
    posOf.fill(-1);
    while (i < N) {
      if (keep && !keep[i]) { i = R[i].z; continue; }
      posOf[i] = n; out[n++] = i;
      i = collapsed[i] ? R[i].z : i + 1;
    }
    visible = out.subarray(0, n);
    spacer.style.height = (n * ROW_H) + "px";
    layout();
    $("empty").hidden = n > 0;
    $("empty").textContent = N ? "No call matches." : "This trace has no calls.";
    var shown = keep ? countMatches().toLocaleString("en-US") + " match" + (countMatches() === 1 ? "" : "es") + " · " : "";
    $("shown").textContent = shown + n.toLocaleString("en-US") + " of " + N.toLocaleString("en-US") + " rows";
    renderRows();
  }
  var matchCount = -1;
  function countMatches() {
    if (matchCount >= 0) return matchCount;
    var c = 0;
    for (var i = 0; i < N; i++) c += matched[i];
    matchCount = c;
    return c;
  }

  // ---- rows ----------------------------------------------------------------------------
  function x(ms) { return (ms - view.s) / (view.e - view.s) * 100; }

  // Whether row i has a child on show (under a filter, some children may all be filtered out).
  function hasShownKids(i) {
    var r = R[i];
    if (r.z <= i + 1) return false;
    if (!keep) return true;
    for (var j = i + 1; j < r.z; j = R[j].z) if (keep[j]) return true;
    return false;
  }

  function rowHtml(i) {
    var r = R[i], hasKids = r.z > i + 1, shownKids = hasShownKids(i);
    var cls = "row" + (i === selected ? " sel" : "") + (r.f & CRITICAL && r.p >= 0 ? " crit" : "") +
      (showCritical ? " showcrit" : "") + (matched && !matched[i] ? " ctx" : "");
    var indent = Math.min(r.d, 30) * 14 + 4;
    var h = '<div class="' + cls + '" data-i="' + i + '">';
    h += '<div class="name" style="padding-left:' + indent + 'px">';
    h += '<span class="caret">' + (shownKids ? (collapsed[i] ? "▶" : "▼") : "") + "</span>";
    if (r.d > 30) h += '<span class="deep">' + r.d + "</span>";
    h += '<span class="kind ' + (r.k ? "l" : "f") + '">' + (r.k ? "AI" : "ƒ") + "</span>";
    h += '<span class="nm" title="' + esc(r.a) + '">' + highlight(r.n) + "</span>";
    if (r.k && r.m) h += '<span class="badge model">' + highlight(r.m) + "</span>";
    if (r.f & OWN_ERROR) h += '<span class="badge err" title="this call failed">error</span>';
    else if (r.f & ERROR_BELOW) h += '<span class="badge errbelow" title="a call inside failed">● error below</span>';
    if (r.Ti || r.To) {
      var sigma = hasKids ? "Σ " : "";
      h += '<span class="badge tok" title="' + sigma + "tokens in / out" + '">' + sigma + fmtNum(r.Ti || 0) + " / " + fmtNum(r.To || 0) + "</span>";
    }
    if (r.C) h += '<span class="badge cost" title="' + (hasKids ? "Σ " : "") + 'cost">' + (hasKids ? "Σ " : "") + fmtCost(r.C) + "</span>";
    h += "</div><div class=\"track\">";
    var left = x(r.s), right = x(r.e);
    if (right >= 0 && left <= 100) {
      var w = Math.max(right - left, 0);
      h += '<div class="bar ' + (r.f & OWN_ERROR ? "x" : r.k ? "l" : "f") + '" style="left:' + left.toFixed(3) + "%;width:calc(" + w.toFixed(3) + '% + 1px)"></div>';
      var label = fmtDur(r.e - r.s);
      if (right < 82) h += '<span class="dur" style="left:calc(' + Math.max(right, 0).toFixed(3) + '% + 6px)">' + label + "</span>";
      else if (left > 18) h += '<span class="dur" style="right:calc(' + (100 - left).toFixed(3) + '% + 6px)">' + label + "</span>";
    }
    h += "</div></div>";
    return h;
  }

  var framePending = false;
  function renderRows() {
    var top = scroller.scrollTop, height = scroller.clientHeight || 600;
    var first = Math.max(0, Math.floor(top / ROW_H) - OVERSCAN);
    var last = Math.min(visible.length, Math.ceil((top + height) / ROW_H) + OVERSCAN);
    var html = [];
    for (var k = first; k < last; k++) html.push(rowHtml(visible[k]));
    rowsEl.style.top = (first * ROW_H) + "px";
    rowsEl.innerHTML = html.join("");
  }
  function scheduleRows() {
    if (framePending) return;
    framePending = true;
    requestAnimationFrame(function () { framePending = false; renderRows(); });
  }

  // ---- axis and overview ---------------------------------------------------------------
  function niceStep(range, count) {
    var raw = range / Math.max(count, 1), p = Math.pow(10, Math.floor(Math.log10(raw)));
    var m = raw / p;
    return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
  }
  function renderAxis() {
    var w = ticks.clientWidth || 600, range = view.e - view.s;
    var step = niceStep(range, w / 110), html = [];
    for (var t = Math.ceil(view.s / step) * step; t <= view.e; t += step) {
      html.push('<div class="tick" style="left:' + x(t).toFixed(3) + '%">' + fmtTick(t, step) + "</div>");
    }
    if (brush && brush.el === ticks) html.push(brushHtml());
    ticks.innerHTML = html.join("");
  }

  var histogram = null;
  function computeHistogram(buckets) {
    var active = new Float64Array(buckets + 1), errs = new Float64Array(buckets);
    for (var i = 0; i < N; i++) {
      var r = R[i];
      var a = Math.min(buckets - 1, Math.floor(r.s / span * buckets));
      var b = Math.min(buckets - 1, Math.floor(r.e / span * buckets));
      active[a] += 1; active[b + 1] -= 1;
      if (r.f & OWN_ERROR) errs[a] += 1;
    }
    for (var k = 1; k < buckets; k++) active[k] += active[k - 1];
    return { active: active, errs: errs, buckets: buckets };
  }
  function renderOverview() {
    var dpr = window.devicePixelRatio || 1, w = overview.clientWidth || 600, h = 44;
    if (overview.width !== Math.round(w * dpr)) { overview.width = Math.round(w * dpr); overview.height = h * dpr; histogram = null; }
    var ctx = overview.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    var buckets = Math.max(1, Math.floor(w / 2));
    if (!histogram || histogram.buckets !== buckets) histogram = computeHistogram(buckets);
    var max = 1, k;
    for (k = 0; k < buckets; k++) if (histogram.active[k] > max) max = histogram.active[k];
    var bw = w / buckets;
    ctx.fillStyle = "#9cc0e6";
    for (k = 0; k < buckets; k++) {
      var v = histogram.active[k];
      if (v > 0) { var bh = Math.max(1, Math.sqrt(v / max) * (h - 8)); ctx.fillRect(k * bw, h - bh, bw, bh); }
    }
    ctx.fillStyle = "#d93b3b";
    for (k = 0; k < buckets; k++) if (histogram.errs[k] > 0) ctx.fillRect(k * bw, 0, Math.max(bw, 1.5), 4);
    // the window shown
    var x0 = view.s / span * w, x1 = view.e / span * w;
    ctx.fillStyle = "rgba(29,36,48,0.08)";
    ctx.fillRect(0, 0, x0, h); ctx.fillRect(x1, 0, w - x1, h);
    ctx.strokeStyle = "#3b82c4"; ctx.lineWidth = 1.5;
    ctx.strokeRect(x0 + 0.75, 0.75, Math.max(x1 - x0 - 1.5, 1), h - 1.5);
    if (brush && brush.el === overview) {
      ctx.fillStyle = "rgba(59,130,196,0.2)";
      ctx.fillRect(Math.min(brush.a, brush.b), 0, Math.abs(brush.b - brush.a), h);
    }
  }

  function setView(s, e) {
    var min = Math.max(span * 1e-7, 0.001);
    if (e - s < min) { var c = (s + e) / 2; s = c - min / 2; e = c + min / 2; }
    if (s < 0) { e -= s; s = 0; }
    if (e > span) { s -= e - span; e = span; }
    view.s = Math.max(0, s); view.e = Math.min(span, e);
    renderAxis(); renderOverview(); renderRows();
  }
  function zoom(factor, at) {
    var c = at === undefined ? (view.s + view.e) / 2 : at;
    setView(c - (c - view.s) * factor, c + (view.e - c) * factor);
  }

  // brushing: drag on the overview (whole-trace coordinates) or the axis (window coordinates)
  var brush = null;
  function brushHtml() {
    return '<div class="brush" style="left:' + Math.min(brush.a, brush.b) + "px;width:" + Math.abs(brush.b - brush.a) + 'px"></div>';
  }
  function startBrush(el, ev) {
    var rect = el.getBoundingClientRect();
    brush = { el: el, rect: rect, a: ev.clientX - rect.left, b: ev.clientX - rect.left };
    ev.preventDefault();
  }
  function toTime(el, px, rect) {
    var f = Math.min(Math.max(px / rect.width, 0), 1);
    return el === overview ? f * span : view.s + f * (view.e - view.s);
  }
  overview.addEventListener("mousedown", function (ev) { startBrush(overview, ev); });
  ticks.addEventListener("mousedown", function (ev) { startBrush(ticks, ev); });
  window.addEventListener("mousemove", function (ev) {
    if (!brush) return;
    brush.b = Math.min(Math.max(ev.clientX - brush.rect.left, 0), brush.rect.width);
    if (brush.el === overview) renderOverview(); else renderAxis();
  });
  window.addEventListener("mouseup", function () {
    if (!brush) return;
    var b = brush; brush = null;
    if (Math.abs(b.b - b.a) >= 3) {
      var t0 = toTime(b.el, Math.min(b.a, b.b), b.rect), t1 = toTime(b.el, Math.max(b.a, b.b), b.rect);
      setView(t0, t1);
    } else if (b.el === overview) {
      // a click on the overview centres the window there
      var c = toTime(overview, b.a, b.rect), half = (view.e - view.s) / 2;
      setView(c - half, c + half);
    } else {
      renderAxis();
    }
  });
  overview.addEventListener("dblclick", function () { setView(0, span); });
  $("timeline").addEventListener("wheel", function (ev) {
    var overTrack = ev.target.closest && (ev.target.closest(".track") || ev.target.closest(".ticks") || ev.target === overview);
    if (!(ev.ctrlKey || ev.metaKey || (overTrack && ev.altKey) || ev.target === overview || (ev.target.closest && ev.target.closest(".ticks")))) return;
    ev.preventDefault();
    var rect = ticks.getBoundingClientRect(), at;
    if (ev.target === overview) at = (ev.clientX - rect.left) / rect.width * span;
    else at = view.s + Math.min(Math.max((ev.clientX - rect.left) / rect.width, 0), 1) * (view.e - view.s);
    zoom(ev.deltaY > 0 ? 1.25 : 0.8, at);
  }, { passive: false });
  $("zoom-in").onclick = function () { zoom(0.5); };
  $("zoom-out").onclick = function () { zoom(2); };
  $("zoom-fit").onclick = function () { setView(0, span); };

  // ---- the detail pane -----------------------------------------------------------------
  function section(title, body) { return "<h3>" + esc(title) + "</h3>" + body; }
  function facts(list) {
    return '<dl class="facts">' + list.filter(function (f) { return f && f[1] !== undefined && f[1] !== null && f[1] !== ""; })
      .map(function (f) { return "<dt>" + esc(f[0]) + "</dt><dd>" + f[1] + "</dd>"; }).join("") + "</dl>";
  }
  function labelsHtml(labels) {
    var keys = Object.keys(labels || {});
    if (!keys.length) return '<span class="note">no labels</span>';
    return '<div class="labels">' + keys.map(function (k) {
      return '<span class="label"><b>' + esc(k) + "</b>=" + esc(labels[k]) + "</span>";
    }).join("") + "</div>";
  }
  function sessionHtml(s, count) {
    return '<div class="session"><div><span class="sn">' + esc(s.name) + '</span> <span class="note mono">' + esc(s.id) + "</span></div>" +
      '<div class="note">' + esc(fmtTime(s.started_at)) + (s.ended_at ? " → " + esc(fmtTime(s.ended_at)) : " (still open)") +
      (count !== undefined ? " · " + fmtNum(count) + " calls" : "") + "</div>" + labelsHtml(s.labels) + "</div>";
  }

  function text(content) {
    if (content === null || content === undefined) return "";
    if (typeof content === "string") return content;
    if (Array.isArray(content)) {
      return content.map(function (p) {
        if (typeof p === "string") return p;
        if (p && typeof p.text === "string") return p.text;
        if (p && p.type === "tool_result") return text(p.content);
        if (p && p.type) return "[" + p.type + "]";
        return JSON.stringify(p);
      }).join("\n");
    }
    if (typeof content === "object" && typeof content.text === "string") return content.text;
    return JSON.stringify(content);
  }
  function toolCallsOf(m) {
    var calls = [];
    (m.tool_calls || []).forEach(function (tc) {
      var fn = tc.function || {};
      calls.push({ name: fn.name || tc.name || tc.type, args: fn.arguments !== undefined ? fn.arguments : tc.arguments, id: tc.id });
    });
    if (m.function_call) calls.push({ name: m.function_call.name, args: m.function_call.arguments });
    if (Array.isArray(m.content)) {
      m.content.forEach(function (p) { if (p && p.type === "tool_use") calls.push({ name: p.name, args: p.input, id: p.id }); });
    }
    (m.parts || []).forEach(function (p) {
      var fc = p && (p.functionCall || p.function_call);
      if (fc) calls.push({ name: fc.name, args: fc.args });
    });
    return calls;
  }
  function openaiMessage(m, response) {
    if (typeof m === "string") return { role: "user", content: m, calls: [], response: response };
    var content = m.content;
    if (Array.isArray(content)) content = content.filter(function (p) { return !(p && p.type === "tool_use"); });
    return { role: m.role || m.type || "message", content: text(content), calls: toolCallsOf(m), id: m.tool_call_id, response: response };
  }
  function geminiContent(c, response) {
    if (typeof c === "string") return { role: "user", content: c, calls: [], response: response };
    var parts = c.parts || [], texts = [];
    parts.forEach(function (p) {
      if (typeof p === "string") texts.push(p);
      else if (p && typeof p.text === "string") texts.push(p.text);
      else if (p && (p.functionResponse || p.function_response)) texts.push(JSON.stringify(p.functionResponse || p.function_response));
    });
    return { role: c.role || "user", content: texts.join("\n"), calls: toolCallsOf(c), response: response };
  }
  function llmMessages(q, p) {
    var out = [];
    if (q && typeof q === "object") {
      var sys = q.system || q.system_instruction || q.systemInstruction || (q.config && (q.config.system_instruction || q.config.systemInstruction));
      if (sys) out.push({ role: "system", content: typeof sys === "string" ? sys : text(sys.parts || sys), calls: [] });
      if (typeof q.instructions === "string") out.push({ role: "system", content: q.instructions, calls: [] });
      if (Array.isArray(q.messages)) q.messages.forEach(function (m) { out.push(openaiMessage(m, false)); });
      if (Array.isArray(q.contents)) q.contents.forEach(function (c) { out.push(geminiContent(c, false)); });
      else if (q.contents) out.push(geminiContent(q.contents, false));
      if (typeof q.input === "string") out.push({ role: "user", content: q.input, calls: [] });
      else if (Array.isArray(q.input)) q.input.forEach(function (m) { out.push(openaiMessage(m, false)); });
      if (typeof q.prompt === "string") out.push({ role: "user", content: q.prompt, calls: [] });
    }
    if (p && typeof p === "object") {
      var before = out.length;
      if (Array.isArray(p.choices)) p.choices.forEach(function (c) {
        if (c.message) out.push(openaiMessage(c.message, true));
        else if (typeof c.text === "string") out.push({ role: "assistant", content: c.text, calls: [], response: true });
      });
      if (Array.isArray(p.candidates)) p.candidates.forEach(function (c) { if (c.content) out.push(geminiContent(Object.assign({ role: "model" }, c.content), true)); });
      if (p.type === "message" && Array.isArray(p.content)) out.push(openaiMessage({ role: p.role || "assistant", content: p.content }, true));
      if (Array.isArray(p.output)) p.output.forEach(function (o) {
        if (o.type === "message") out.push(openaiMessage({ role: o.role || "assistant", content: o.content }, true));
        else if (o.type === "function_call") out.push({ role: "assistant", content: "", calls: [{ name: o.name, args: o.arguments, id: o.call_id }], response: true });
      });
      if (out.length === before) {
        var t = typeof p.text === "string" ? p.text : typeof p.output_text === "string" ? p.output_text : null;
        if (t !== null) out.push({ role: "assistant", content: t, calls: [], response: true });
      }
    }
    return out;
  }
  function toolsOf(q) {
    if (!q || !Array.isArray(q.tools)) return [];
    var names = [];
    q.tools.forEach(function (t) {
      if (t.function && t.function.name) names.push(t.function.name);
      else if (t.name) names.push(t.name);
      else if (Array.isArray(t.functionDeclarations || t.function_declarations)) {
        (t.functionDeclarations || t.function_declarations).forEach(function (f) { names.push(f.name); });
      } else if (t.type) names.push(t.type);
    });
    return names;
  }
  function llmPanel(r) {
    var h = '<div class="llm"><div class="head">';
    h += '<span class="badge model">' + esc(r.m || "model unknown") + "</span>";
    h += '<span class="badge">' + esc(r.v || "") + "</span>";
    h += '<span class="badge tok">in ' + (r.ti !== undefined ? fmtNum(r.ti) : "?") + " · out " + (r.to !== undefined ? fmtNum(r.to) : "?") + "</span>";
    var price = null;
    for (var k = 0; k < D.models.length; k++) if (D.models[k].model === r.m) price = D.models[k];
    if (r.c !== undefined) h += '<span class="badge cost" title="' + esc(price && price.priced_as ? "priced as " + price.priced_as + ": $" + price.input + " / $" + price.output + " per 1M tokens in / out" : "") + '">' + fmtCost(r.c) + "</span>";
    else h += '<span class="badge" title="no entry in the price table (extend it with --prices)">no price</span>';
    h += "</div>";
    var msgs = llmMessages(r.Q, r.P);
    if (!msgs.length) h += '<div class="note">No messages found in the request or response.</div>';
    msgs.forEach(function (m) {
      var role = String(m.role).toLowerCase();
      var kind = role === "model" ? "assistant" : role === "developer" ? "system" : role === "function" ? "tool" : role;
      h += '<div class="msg ' + esc(kind) + (m.response ? " response" : "") + '"><div class="role">' + esc(m.role) + (m.response ? " · response" : "") + (m.id ? " · " + esc(m.id) : "") + "</div>";
      if (m.content) h += '<div class="content">' + esc(m.content) + "</div>";
      m.calls.forEach(function (c) {
        var args = c.args;
        if (typeof args === "string") { try { args = JSON.parse(args); } catch (e) { /* shown as text */ } }
        h += '<div class="toolcall">→ tool call <span class="fn">' + esc(c.name || "?") + "</span>" + (c.id ? ' <span class="note">' + esc(c.id) + "</span>" : "") + prettyJson(args === undefined ? null : args) + "</div>";
      });
      h += "</div>";
    });
    var tools = toolsOf(r.Q);
    if (tools.length) h += '<div class="note">tools offered: ' + tools.map(esc).join(", ") + "</div>";
    return h + "</div>";
  }

  function argsValue(r) {
    if (Array.isArray(r.A) && Array.isArray(r.N) && r.N.length === r.A.length) {
      var o = {};
      r.N.forEach(function (name, k) { o[name] = r.A[k]; });
      return o;
    }
    return r.A;
  }

  function showDetail(i) {
    if (i < 0) { showOverview(); return; }
    var r = R[i], h = "";
    var chain = [], p = r.p;
    while (p >= 0 && chain.length < 12) { chain.push(p); p = R[p].p; }
    if (chain.length) {
      h += '<div class="crumbs">' + (p >= 0 ? "… › " : "") + chain.reverse().map(function (a) {
        return '<a data-go="' + a + '">' + esc(R[a].n) + "</a>";
      }).join(" › ") + " ›</div>";
    } else {
      h += '<div class="crumbs"><a data-go="-1">overview</a> › root</div>';
    }
    h += "<h2>" + '<span class="badge ' + (r.k ? "model" : "") + '">' + (r.k ? "LLM" : "function") + "</span>" + esc(r.n) +
      (r.f & OWN_ERROR ? ' <span class="badge err">error</span>' : "") + "</h2>";
    var s = r.S !== undefined ? D.sessions[r.S] : null;
    var kids = r.z - i - 1;
    h += facts([
      ["api", '<span class="mono">' + esc(r.a) + "</span>"],
      ["duration", esc(fmtDur(r.e - r.s))],
      ["start", esc("+" + fmtDur(r.s)) + ' <span class="note">' + esc(fmtTime(D.t0 + r.s / 1000)) + "</span>"],
      ["callsite", r.l ? '<span class="mono">' + esc(r.l) + "</span>" : '<span class="note">not recorded</span>'],
      ["span", r.i ? '<span class="mono">' + esc(r.i) + "</span>" : ""],
      ["depth", String(r.d)],
      ["below", kids ? fmtNum(kids) + " call" + (kids === 1 ? "" : "s") : "none"],
      (r.Ti || r.To) ? ["Σ tokens", fmtNum(r.Ti || 0) + " in / " + fmtNum(r.To || 0) + " out"] : null,
      r.C ? ["Σ cost", fmtCost(r.C) + (r.U ? ' <span class="note">(' + r.U + " unpriced LLM call" + (r.U === 1 ? "" : "s") + ")</span>" : "")] : (r.U ? ["Σ cost", '<span class="note">' + r.U + " unpriced LLM call" + (r.U === 1 ? "" : "s") + "</span>"] : null),
      (r.f & CRITICAL) ? ["critical path", "yes: this call decides when its root ends"] : null
    ]);
    if (r.x) h += section("error", '<div class="errbox">' + esc(r.x) + "</div>");
    else if (r.f & ERROR_BELOW) {
      var firstErr = -1;
      for (var j = i + 1; j < r.z; j++) if (R[j].f & OWN_ERROR) { firstErr = j; break; }
      h += section("error below", '<div class="errbox below">A call inside failed' + (firstErr >= 0 ? ': <a class="link" data-go="' + firstErr + '">' + esc(R[firstErr].n) + "</a> — " + esc(R[firstErr].x) : "") + "</div>");
    }
    if (r.k) {
      h += llmPanel(r);
      h += "<details open><summary>request</summary>" + prettyJson(r.Q) + "</details>";
      h += "<details open><summary>response</summary>" + (r.P !== undefined ? prettyJson(r.P) : '<span class="note">none</span>') + "</details>";
    } else {
      h += section("arguments", r.A !== undefined ? prettyJson(argsValue(r)) : '<span class="note">not captured</span>');
      if (r.K !== undefined) h += section("keyword arguments", prettyJson(r.K));
      h += section("result", r.R !== undefined ? prettyJson(r.R) : '<span class="note">' + (r.x ? "none (the call failed)" : "null or not captured") + "</span>");
    }
    if (s) h += section("session", sessionHtml(s));
    detail.innerHTML = h;
    detail.scrollTop = 0;
  }

  function showOverview() {
    var perSession = new Array(D.sessions.length).fill(0);
    for (var i = 0; i < N; i++) if (R[i].S !== undefined) perSession[R[i].S]++;
    var h = "<h2>" + esc(D.title) + "</h2>";
    h += facts([
      ["file", '<span class="mono">' + esc(D.source) + "</span>"],
      ["written", esc(fmtTime(D.generated_at))],
      ["first call", esc(fmtTime(D.t0))],
      ["calls", fmtNum(N) + " (" + fmtNum(llmCalls) + " LLM)"],
      ["errors", String(errors)]
    ]);
    h += '<div class="note">Click a call to see its arguments, result, error and, for an LLM call, its messages.</div>';
    h += section("sessions (" + D.sessions.length + ")", D.sessions.slice(0, 200).map(function (s, k) { return sessionHtml(s, perSession[k]); }).join("") +
      (D.sessions.length > 200 ? '<div class="note">… and ' + (D.sessions.length - 200) + " more</div>" : ""));
    if (D.models.length) {
      h += section("models", '<table class="models"><tr><th>model</th><th class="num">calls</th><th class="num">in</th><th class="num">cached</th><th class="num">out</th><th class="num">reasoning</th><th class="num">cost</th><th>price (in / cached / out per 1M)</th></tr>' +
        D.models.map(function (m) {
          return "<tr><td>" + esc(m.model) + '</td><td class="num">' + fmtNum(m.calls) + '</td><td class="num">' + fmtNum(m.tokens_in) + '</td><td class="num">' + fmtNum(m.tokens_cached) + '</td><td class="num">' + fmtNum(m.tokens_out) +
            '</td><td class="num">' + fmtNum(m.tokens_reasoning) + '</td><td class="num">' + (m.cost !== null ? fmtCost(m.cost) : "—") + "</td><td>" + (m.priced_as ? esc(m.priced_as) + ": $" + m.input + " / $" + (m.cached_input !== null ? m.cached_input : m.input) + " / $" + m.output : '<span class="note">no price</span>') + "</td></tr>";
        }).join("") + "</table>");
    }
    h += '<div class="note" style="margin-top:6px">Prices: USD per 1M tokens' + (D.prices.date ? ", as of " + esc(D.prices.date) : "") + ". " + esc(D.prices.note || "") + "</div>";
    h += section("legend", '<div class="legend"><span><i style="background:var(--fn)"></i>function</span><span><i style="background:var(--llm)"></i>LLM call</span>' +
      '<span><i style="background:var(--err)"></i>failed</span><span><i style="background:#fff;box-shadow:0 0 0 2px var(--crit)"></i>critical path</span>' +
      '<span><span class="badge tok">Σ</span> tokens and <span class="badge cost">Σ $</span> cost of a call and everything below it</span></div>');
    h += section("keys", '<div class="keys"><kbd>↑</kbd> <kbd>↓</kbd> select · <kbd>←</kbd> <kbd>→</kbd> collapse / expand · <kbd>/</kbd> search · <kbd>Esc</kbd> overview · ' +
      "<kbd>Ctrl</kbd> + wheel zoom · drag on the overview or the axis to zoom into a range · double-click the overview to see it all</div>");
    detail.innerHTML = h;
  }

  // ---- interaction ---------------------------------------------------------------------
  function select(i, reveal) {
    selected = i;
    if (i >= 0 && reveal) {
      // open the ancestors, and clear filters that hide it
      var p = R[i].p, opened = false;
      while (p >= 0) { if (collapsed[p]) { collapsed[p] = 0; opened = true; } p = R[p].p; }
      if (keep && !keep[i]) { $("search").value = ""; $("errors-only").checked = false; $("min-dur").value = ""; $("session").value = "-1"; applyFilters(); }
      else if (opened) rebuild();
      var pos = posOf[i];
      if (pos >= 0) {
        var top = pos * ROW_H, h = scroller.clientHeight;
        if (top < scroller.scrollTop || top + ROW_H > scroller.scrollTop + h) scroller.scrollTop = Math.max(0, top - h / 3);
      }
    }
    renderRows();
    showDetail(i);
  }
  function toggle(i) {
    if (!hasShownKids(i)) return;
    collapsed[i] = collapsed[i] ? 0 : 1;
    rebuild();
  }
  rowsEl.addEventListener("click", function (ev) {
    var row = ev.target.closest(".row");
    if (!row) return;
    var i = parseInt(row.getAttribute("data-i"), 10);
    if (ev.target.closest(".caret")) { toggle(i); return; }
    select(i, false);
    scroller.focus({ preventScroll: true });
  });
  rowsEl.addEventListener("dblclick", function (ev) {
    var row = ev.target.closest(".row");
    if (!row) return;
    var r = R[parseInt(row.getAttribute("data-i"), 10)];
    var pad = (r.e - r.s) * 0.05 || 0.01;
    setView(r.s - pad, r.e + pad);
  });
  detail.addEventListener("click", function (ev) {
    var a = ev.target.closest("[data-go]");
    if (a) select(parseInt(a.getAttribute("data-go"), 10), true);
  });
  scroller.addEventListener("scroll", scheduleRows);
  document.addEventListener("keydown", function (ev) {
    var inInput = ev.target.tagName === "INPUT" || ev.target.tagName === "SELECT";
    if (ev.key === "/" && !inInput) { ev.preventDefault(); $("search").focus(); return; }
    if (ev.key === "Escape") { if (inInput) ev.target.blur(); select(-1, false); return; }
    if (inInput || selected < 0) return;
    var pos = posOf[selected];
    if (ev.key === "ArrowDown" && pos + 1 < visible.length) { ev.preventDefault(); select(visible[pos + 1], true); }
    else if (ev.key === "ArrowUp" && pos > 0) { ev.preventDefault(); select(visible[pos - 1], true); }
    else if (ev.key === "ArrowLeft") {
      ev.preventDefault();
      if (hasShownKids(selected) && !collapsed[selected]) toggle(selected);
      else if (R[selected].p >= 0) select(R[selected].p, true);
    } else if (ev.key === "ArrowRight") {
      ev.preventDefault();
      if (collapsed[selected]) toggle(selected);
    }
  });
  var filterTimer = 0;
  function filterSoon() {
    clearTimeout(filterTimer);
    filterTimer = setTimeout(function () { matchCount = -1; applyFilters(); scroller.scrollTop = 0; renderRows(); }, N > 20000 ? 150 : 40);
  }
  $("search").addEventListener("input", filterSoon);
  $("min-dur").addEventListener("input", filterSoon);
  $("errors-only").addEventListener("change", filterSoon);
  $("session").addEventListener("change", filterSoon);
  $("show-critical").addEventListener("change", function () { showCritical = this.checked; renderRows(); });
  $("expand-all").onclick = function () { collapsed.fill(0); rebuild(); };
  $("collapse-all").onclick = function () {
    for (var i = 0; i < N; i++) collapsed[i] = R[i].z > i + 1 ? 1 : 0;
    scroller.scrollTop = 0;
    rebuild();
  };
  var resizeTimer = 0;
  window.addEventListener("resize", function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(function () { layout(); renderAxis(); renderOverview(); renderRows(); }, 50);
  });

  // ---- start ---------------------------------------------------------------------------
  renderTotals();
  applyFilters();
  renderAxis();
  renderOverview();
  showOverview();
  var T_DONE = performance.now();
  $("status").textContent = fmtNum(N) + " calls · data parsed in " + (T_PARSED - T_START).toFixed(0) + " ms, page ready in " +
    (T_DONE - T_START).toFixed(0) + " ms · " + D.source + (D.prices.date ? " · prices as of " + D.prices.date : "");
  document.body.setAttribute("data-ready", "1");
  document.body.setAttribute("data-ready-ms", (T_DONE - T_START).toFixed(1));
})();
