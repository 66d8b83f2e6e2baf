// Kassa template playground: edit a receipt template and see it rendered as you type.
// Plain browser JavaScript, no build step: the server embeds this file as it is.
"use strict";

const $ = (id) => document.getElementById(id);
const state = {
  pin: "", init: null, seq: 0, shown: 0, timer: 0, diagnostics: [], kkm: null,
  loaded: "", // the source as last loaded or saved: the editor differs from it when there are unsaved edits
  kind: "", target: "", variables: [], history: [], last: null,
};

function status(text, bad) {
  $("status").textContent = text;
  $("status").classList.toggle("bad", !!bad);
}

// One API call in Kassa's envelope; throws {code, message} on an error answer.
async function call(method, body) {
  const res = await fetch(method, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: state.pin },
    body: JSON.stringify(body || {}),
  });
  const env = await res.json();
  if (env.response_code !== 0) {
    const detail = env.message || (typeof env.response_data === "string" ? env.response_data : JSON.stringify(env.response_data));
    throw { code: env.response_code, message: detail };
  }
  return env.response_data;
}

function option(select, value, label) {
  const o = document.createElement("option");
  o.value = value;
  o.textContent = label;
  select.appendChild(o);
}

function fillKinds() {
  $("kind").innerHTML = "";
  for (const k of state.init.kinds) option($("kind"), k.kind, k.kind.replace("_", " ") + " (" + k.template + ")");
}

function fillDocuments() {
  const kind = $("kind").value;
  const sel = $("document");
  sel.innerHTML = "";
  for (const d of state.init.documents.filter((d) => d.kind === kind)) {
    const label = "KKM " + d.kkm_ofd_id + " · shift " + d.fr_shift_number + " № " + d.shift_document_number +
      (d.fiscal_id ? " · " + d.fiscal_id : "") + " · " + d.date;
    option(sel, ["doc", d.kkm_ofd_id, d.fr_shift_number, d.shift_document_number].join(":"), label);
  }
  for (const s of state.init.samples.filter((s) => s.kind === kind)) option(sel, "sample:" + s.name, "sample: " + s.name);
}

function fillTargets() {
  const sel = $("target");
  sel.innerHTML = "";
  option(sel, "shared", "every KKM (shared folder)");
  for (const k of state.init.kkms) option(sel, "kkm:" + k.ofd_id, "KKM " + k.ofd_id + " (" + k.name + ") only");
}

function fillProfiles() {
  const sel = $("profile");
  sel.innerHTML = "";
  for (const p of state.init.profiles) {
    option(sel, p.id, p.id + " · " + p.width_dots + " dots · " + p.columns + " col" + (p.link_baud ? " · " + p.link_baud + " Bd" : ""));
  }
  sel.value = state.init.profiles.some((p) => p.id === "generic-58") ? "generic-58" : sel.options[0]?.value;
  const pr = $("printer");
  pr.innerHTML = "";
  for (const p of state.init.printers) option(pr, p.ID, "printer " + p.ID + ": " + p.name);
}

function documentRef() {
  const v = $("document").value || "";
  if (v.startsWith("doc:")) {
    const [, kkm, shift, num] = v.split(":").map(Number);
    return { kkm_ofd_id: kkm, fr_shift_number: shift, shift_document_number: num };
  }
  return { sample: v.slice("sample:".length) || undefined };
}

function targetKkm() {
  const v = $("target").value;
  return v.startsWith("kkm:") ? Number(v.slice(4)) : undefined;
}

// ---- Unsaved edits ---------------------------------------------------------------------------------

function dirty() {
  return $("editor").value !== state.loaded;
}

function showDirty() {
  $("dirty").hidden = !dirty();
}

// Asks before throwing away unsaved edits; true when there are none or the person agrees.
function mayDiscard(what) {
  if (!dirty()) return true;
  return window.confirm("The template has unsaved changes. " + what + " discards them. Go on?");
}

function showHistory(t) {
  state.history = t.history;
  $("history").textContent = t.history.length
    ? t.history.length + " earlier version(s) kept (newest replaced " + t.history[0].replaced_at + ")"
    : "No earlier versions saved.";
}

function originName(origin) {
  return { builtin: "built-in", shared: "shared override", kkm: "this KKM's override" }[origin] || origin;
}

async function loadTemplate() {
  const t = await call("PlaygroundTemplate", { kind: $("kind").value, kkm_ofd_id: targetKkm() });
  state.builtin = t.builtin;
  state.loaded = t.source;
  state.kind = $("kind").value;
  state.target = $("target").value;
  state.variables = t.variables || [];
  $("editor").value = t.source;
  $("template-name").textContent = t.name;
  $("origin").textContent = originName(t.origin);
  showHistory(t);
  showVariables();
  refresh();
}

// ---- Inserting: snippets, variables, a logo -------------------------------------------------------

// Puts `text` at the cursor, on a line of its own when it is a directive (`@...`).
function insert(text) {
  const ed = $("editor");
  const { selectionStart: a, selectionEnd: b, value } = ed;
  let piece = text;
  if (text.startsWith("@") || text.startsWith("{%")) {
    const lineStart = value.lastIndexOf("\n", a - 1) + 1;
    if (a > lineStart) piece = "\n" + piece;
    if (value[b] !== undefined && value[b] !== "\n") piece += "\n";
  }
  ed.focus();
  ed.setSelectionRange(a, b);
  document.execCommand("insertText", false, piece);
  if (ed.value.slice(a, a + piece.length) !== piece) {
    // execCommand is not available everywhere: set the value ourselves.
    ed.value = value.slice(0, a) + piece + value.slice(b);
    ed.setSelectionRange(a + piece.length, a + piece.length);
  }
  refresh();
}

// What clicking a variable inserts: a filter for money and dates, a loop for a list's elements.
function variableSnippet(v) {
  const filter = v.type === "money" ? " | money" : v.type === "datetime" ? " | dt" : "";
  const at = v.name.indexOf("[]");
  if (at < 0) return "{{ " + v.name + filter + " }}";
  const list = v.name.slice(0, at);
  const rest = v.name.slice(at + 3);
  const inner = rest ? "{{ x." + rest.replace(/\[\]/g, "") + filter + " }}" : "{{ x }}";
  return "{% for x in " + list + " %}\n" + inner + "\n{% endfor %}";
}

function showVariables() {
  const list = $("variables");
  const needle = $("variables-filter").value.trim().toLowerCase();
  list.innerHTML = "";
  for (const v of state.variables.filter((v) => !needle || v.name.toLowerCase().includes(needle))) {
    const li = document.createElement("li");
    li.title = v.example ? "e.g. " + v.example : "";
    const name = document.createElement("code");
    name.textContent = v.name;
    const type = document.createElement("span");
    type.className = "type";
    type.textContent = v.type;
    li.append(name, type);
    li.addEventListener("click", () => insert(variableSnippet(v)));
    list.appendChild(li);
  }
}

async function uploadLogo() {
  const file = $("logo").files[0];
  if (!file) return;
  const name = file.name.replace(/[^A-Za-z0-9._-]/g, "_").replace(/^\.+/, "") || "logo.png";
  const content = await new Promise((ok, fail) => {
    const reader = new FileReader();
    reader.onload = () => ok(String(reader.result).split(",")[1] || "");
    reader.onerror = () => fail(reader.error);
    reader.readAsDataURL(file);
  });
  try {
    const r = await call("PlaygroundUpload", { name, content, kkm_ofd_id: targetKkm() });
    insert("@image " + r.saved + " 50%");
    status("Uploaded " + r.saved + ": printed where @image " + r.saved + " stands.");
  } catch (e) {
    status("Not uploaded: " + e.message, true);
  }
  $("logo").value = "";
}

// ---- History: view, compare, restore ---------------------------------------------------------------

// A line diff (longest common subsequence): [" ", line] kept, ["-", line] only in `a`, ["+", line] only in `b`.
function diffLines(a, b) {
  const x = a.split("\n"), y = b.split("\n");
  const n = x.length, m = y.length;
  const len = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--)
    len[i][j] = x[i] === y[j] ? len[i + 1][j + 1] + 1 : Math.max(len[i + 1][j], len[i][j + 1]);
  const out = [];
  let i = 0, j = 0;
  while (i < n && j < m) {
    if (x[i] === y[j]) { out.push([" ", x[i]]); i++; j++; }
    else if (len[i + 1][j] >= len[i][j + 1]) out.push(["-", x[i++]]);
    else out.push(["+", y[j++]]);
  }
  while (i < n) out.push(["-", x[i++]]);
  while (j < m) out.push(["+", y[j++]]);
  return out;
}

async function versionSource(name) {
  const v = await call("PlaygroundTemplate", { kind: $("kind").value, kkm_ofd_id: targetKkm(), version: name });
  return v.source;
}

function openHistory() {
  const list = $("versions");
  list.innerHTML = "";
  $("version-title").textContent = "";
  $("version-view").textContent = "";
  if (!state.history.length) {
    const li = document.createElement("li");
    li.textContent = "No earlier versions: each Save keeps the version it replaces.";
    list.appendChild(li);
  }
  for (const h of state.history) {
    const li = document.createElement("li");
    li.dataset.version = h.name;
    const label = document.createElement("span");
    label.textContent = h.replaced_at + " · " + h.sha256;
    const button = (text, action) => {
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = text;
      b.dataset.action = action;
      b.addEventListener("click", () => versionAction(action, h).catch((e) => status("History: " + e.message, true)));
      return b;
    };
    li.append(label, button("View", "view"), button("Compare", "compare"), button("Restore", "restore"));
    list.appendChild(li);
  }
  $("history-dialog").showModal();
}

async function versionAction(action, h) {
  const source = await versionSource(h.name);
  const view = $("version-view");
  if (action === "view") {
    $("version-title").textContent = "Version replaced " + h.replaced_at;
    view.textContent = source;
  } else if (action === "compare") {
    $("version-title").textContent = "Changes from the version replaced " + h.replaced_at + " to the editor (− removed, + added)";
    view.innerHTML = "";
    for (const [mark, line] of diffLines(source, $("editor").value)) {
      const span = document.createElement("span");
      span.className = mark === "+" ? "add" : mark === "-" ? "del" : "";
      span.textContent = mark + " " + line + (mark === " " ? "\n" : "");
      view.appendChild(span);
    }
  } else if (mayDiscard("Restoring an earlier version")) {
    $("editor").value = source;
    $("history-dialog").close();
    status("Restored the version replaced " + h.replaced_at + " into the editor: Save to put it in force.");
    refresh();
  }
}

// ---- Preview: zoom and download ---------------------------------------------------------------------

function applyZoom() {
  const img = $("preview-png");
  if (img.naturalWidth) img.style.width = img.naturalWidth * Number($("zoom").value) + "px";
}

function download() {
  const r = state.last;
  if (!r) return;
  const tab = document.querySelector("[role=tab][aria-selected=true]").dataset.tab;
  const base = ($("template-name").textContent || "receipt").replace(/\.j2$/, "");
  let blob, name;
  if (tab === "png") {
    const bytes = Uint8Array.from(atob(r.png), (c) => c.charCodeAt(0));
    blob = new Blob([bytes], { type: "image/png" });
    name = base + ".png";
  } else if (tab === "html") {
    blob = new Blob([r.html], { type: "text/html" });
    name = base + ".html";
  } else if (tab === "text") {
    blob = new Blob([r.text], { type: "text/plain" });
    name = base + ".txt";
  } else {
    const bytes = Uint8Array.from(atob(r.escpos.data), (c) => c.charCodeAt(0));
    blob = new Blob([bytes], { type: "application/octet-stream" });
    name = base + ".escpos";
  }
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

// ---- Editor: highlighting, line numbers, problems -------------------------------------------------

function escapeHtml(s) {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

// Per-character classes for one line; `carry` keeps an open tag or comment across lines.
function classify(line, carry) {
  const cls = new Array(line.length).fill("");
  let i = 0;
  // Receipt markup: a directive at the start, its style words up to the colon, cell separators.
  const lead = line.length - line.trimStart().length;
  if (!carry.open && line[lead] === "@") {
    let j = lead;
    while (j < line.length && !/\s|:/.test(line[j])) cls[j++] = "tok-directive";
    let colon = -1;
    for (let k = j, depth = 0; k < line.length; k++) {
      if (line.startsWith("{{", k) || line.startsWith("{%", k)) depth++;
      if (line.startsWith("}}", k) || line.startsWith("%}", k)) depth--;
      if (line[k] === "\\") { k++; continue; }
      if (line[k] === ":" && depth === 0) { colon = k; break; }
    }
    if (colon >= 0) for (let k = j; k <= colon; k++) cls[k] = "tok-style";
    for (let k = Math.max(colon, j); k < line.length; k++) {
      if (line[k] === "\\") { k++; continue; }
      if (line[k] === "|" && !insideTag(line, k)) cls[k] = "tok-sep";
    }
  }
  // Template tags, possibly continued from an earlier line.
  let open = carry.open, quote = null;
  while (i < line.length) {
    if (!open) {
      const two = line.substr(i, 2);
      if (two === "{{") open = "}}"; else if (two === "{%") open = "%}"; else if (two === "{#") open = "#}";
      if (open) { cls[i] = cls[i + 1] = tagClass(open); i += 2; continue; }
      i++;
      continue;
    }
    const c = tagClass(open);
    if (open !== "#}" && !quote && (line[i] === "'" || line[i] === '"')) { quote = line[i]; cls[i++] = "tok-string"; continue; }
    if (quote) { if (line[i] === "\\") cls[i++] = "tok-string"; else if (line[i] === quote) quote = null; cls[i++] = "tok-string"; continue; }
    if (line.substr(i, 2) === open) { cls[i] = cls[i + 1] = c; i += 2; open = null; continue; }
    cls[i++] = c;
  }
  carry.open = open;
  return cls;
}

function insideTag(line, k) {
  const before = line.slice(0, k);
  return before.lastIndexOf("{{") > before.lastIndexOf("}}") || before.lastIndexOf("{%") > before.lastIndexOf("%}");
}

function tagClass(close) {
  return close === "}}" ? "tok-expr" : close === "%}" ? "tok-tag" : "tok-comment";
}

function highlight() {
  const lines = $("editor").value.split("\n");
  const byLine = new Map();
  for (const d of state.diagnostics) if (d.line) byLine.set(d.line, d);
  const carry = { open: null };
  let html = "", gutter = "";
  lines.forEach((line, n) => {
    const no = n + 1;
    const cls = classify(line, carry);
    const d = byLine.get(no);
    const bad = new Array(line.length).fill(false);
    if (d) {
      // Columns count characters; JavaScript strings count UTF-16 units, the same for the letters used here.
      const start = Math.max(0, (d.column || 1) - 1);
      const len = Math.max(1, d.snippet ? d.snippet.split("\n")[0].length : 1);
      for (let k = start; k < Math.min(line.length, start + len); k++) bad[k] = true;
    }
    let out = "", run = "", cur = null;
    const flush = () => {
      if (!run) return;
      const names = [cur.cls, cur.bad ? "bad" : ""].filter(Boolean).join(" ");
      out += names ? '<span class="' + names + '">' + escapeHtml(run) + "</span>" : escapeHtml(run);
      run = "";
    };
    for (let k = 0; k < line.length; k++) {
      const key = { cls: cls[k], bad: bad[k] };
      if (!cur || cur.cls !== key.cls || cur.bad !== key.bad) { flush(); cur = key; }
      run += line[k];
    }
    flush();
    if (d && line.length === 0) out = '<span class="bad"> </span>';
    html += '<span class="line' + (d ? " error" : "") + '" data-line="' + no + '">' + (out || " ") + "</span>";
    gutter += '<span class="ln' + (d ? " error" : "") + '" data-line="' + no + '"' +
      (d ? ' title="' + escapeHtml(d.message) + '"' : "") + ">" + no + "</span>";
  });
  $("highlight").innerHTML = html;
  $("gutter").innerHTML = gutter;
  const ed = $("editor");
  ed.style.height = "0";
  ed.style.height = ed.scrollHeight + "px";
}

function showDiagnostics() {
  const list = $("diagnostics");
  list.innerHTML = "";
  if (!state.diagnostics.length) {
    const li = document.createElement("li");
    li.className = "ok";
    li.textContent = "No problems.";
    list.appendChild(li);
  }
  for (const d of state.diagnostics) {
    const li = document.createElement("li");
    li.dataset.line = d.line || "";
    li.textContent = (d.line ? "line " + d.line + (d.column ? ", column " + d.column : "") + ": " : "") + d.message;
    li.addEventListener("click", () => goTo(d.line, d.column));
    list.appendChild(li);
  }
  $("save").disabled = state.diagnostics.length > 0;
  highlight();
}

function goTo(line, column) {
  if (!line) return;
  const ed = $("editor");
  const lines = ed.value.split("\n");
  let pos = 0;
  for (let i = 0; i < line - 1 && i < lines.length; i++) pos += lines[i].length + 1;
  pos += Math.max(0, (column || 1) - 1);
  ed.focus({ preventScroll: true });
  ed.setSelectionRange(pos, pos);
  // Bring the line into view, a few lines below the top.
  const lineHeight = parseFloat(getComputedStyle(ed).lineHeight) || 19;
  $("editor-box").scrollTop = Math.max(0, (line - 4) * lineHeight);
}

// ---- Rendering ------------------------------------------------------------------------------------

function refresh() {
  highlight();
  showDirty();
  // The preview shows the last answer until the next one comes: greyed, so nobody reads it as current.
  $("preview").classList.add("stale");
  clearTimeout(state.timer);
  state.timer = setTimeout(renderNow, 120);
}

async function renderNow() {
  const seq = ++state.seq;
  $("preview").classList.add("stale");
  const body = {
    kind: $("kind").value, source: $("editor").value, document: documentRef(), profile: $("profile").value,
    kkm_ofd_id: targetKkm(), lang: $("lang").value, copy: $("copy").checked,
    image_scale: Number($("scale").value), image_pixel_draw_threshold: Number($("threshold").value),
  };
  let r;
  try {
    r = await call("PlaygroundRender", body);
  } catch (e) {
    if (seq === state.seq) status("Render failed: " + e.message, true);
    return;
  }
  if (seq < state.shown) return; // an older answer arriving late
  state.shown = seq;
  state.diagnostics = r.diagnostics || [];
  showDiagnostics();
  if (r.png === undefined) {
    status("The template does not compile: the greyed preview is the last good version.", true);
    return;
  }
  if (seq === state.seq) $("preview").classList.remove("stale");
  state.last = r;
  $("preview-png").src = "data:image/png;base64," + r.png;
  $("preview-png").dataset.sha256 = r.sha256;
  $("preview-html").srcdoc = r.html;
  $("preview-text").textContent = r.text;
  const e = r.escpos;
  const link = e.link_baud ? e.link_seconds.toFixed(2) + " s on a " + e.link_baud + " Bd serial link"
    : "link time negligible (USB or network)";
  $("escpos-summary").textContent = e.bytes + " bytes · " + link + " · " + e.paper_mm + " mm of paper ≈ " +
    e.paper_seconds + " s at 150 mm/s · about " + e.seconds + " s to paper";
  $("preview-escpos").textContent = e.listing;
  status(r.ok ? "Rendered." : state.diagnostics.length + " problem(s): faulty lines are left out of the preview.", !r.ok);
}

// ---- Actions --------------------------------------------------------------------------------------

async function save() {
  try {
    const source = $("editor").value;
    const r = await call("PlaygroundSave", { kind: $("kind").value, source, kkm_ofd_id: targetKkm() });
    const file = r.saved.split(/[\\/]/).slice(-3).join("/");
    state.loaded = source;
    showDirty();
    const t = await call("PlaygroundTemplate", { kind: $("kind").value, kkm_ofd_id: targetKkm() });
    $("origin").textContent = originName(t.origin);
    showHistory(t);
    // Said last, once the page shows what was saved (the browser test reads the origin on this word).
    status("Saved …/" + file + " · sha256 " + r.sha256.slice(0, 10) + "… · new receipts use it; reprints keep theirs");
  } catch (e) {
    status("Not saved: " + e.message, true);
  }
}

async function printTest() {
  try {
    const r = await call("PlaygroundPrint", {
      kind: $("kind").value, source: $("editor").value, document: documentRef(), kkm_ofd_id: targetKkm(),
      lang: $("lang").value, printer_id: Number($("printer").value),
    });
    status("Test print queued as job " + r.job_id + ".");
  } catch (e) {
    status("Not printed: " + e.message, true);
  }
}

// A sign-in refusal as a sentence (the envelope's message carries the detail after the code's text).
function refusal(code, detail) {
  if (code === 5 && /too many wrong PINs/.test(detail)) {
    const secs = (detail.match(/(\d+) s/) || [])[1];
    return "Too many wrong PINs from here: wait" + (secs ? " " + secs + " seconds" : " a while") + " and try again.";
  }
  if (code === 5) return "That PIN is not right. Type the administrator's PIN again.";
  if (code === 71) return "That PIN belongs to a cashier: the playground is for administrators.";
  return "The server refused (" + code + "): " + detail;
}

async function login(ev) {
  ev.preventDefault();
  state.pin = $("pin").value;
  try {
    state.init = await call("PlaygroundInit", {});
  } catch (e) {
    status(refusal(e.code, e.message), true);
    return;
  }
  $("app").hidden = false;
  fillKinds();
  fillTargets();
  fillProfiles();
  fillDocuments();
  status("Signed in.");
  await loadTemplate();
}

function setup() {
  $("login").addEventListener("submit", login);
  $("editor").addEventListener("input", refresh);
  $("editor").addEventListener("keydown", (ev) => {
    if (ev.key === "Tab") {
      ev.preventDefault();
      document.execCommand("insertText", false, "  ");
    }
  });
  // Switching the template (kind or folder) asks before unsaved edits are lost, and stays put if not.
  $("kind").addEventListener("change", () => {
    if (!mayDiscard("Switching the document kind")) { $("kind").value = state.kind; return; }
    fillDocuments();
    loadTemplate();
  });
  $("target").addEventListener("change", () => {
    if (!mayDiscard("Switching the folder")) { $("target").value = state.target; return; }
    loadTemplate();
  });
  for (const id of ["document", "profile", "lang", "copy"]) $(id).addEventListener("change", renderNow);
  for (const id of ["scale", "threshold"]) {
    $(id).addEventListener("input", () => { $(id + "-value").textContent = $(id).value; refresh(); });
  }
  $("save").addEventListener("click", save);
  $("print").addEventListener("click", printTest);
  $("revert").addEventListener("click", () => { if (mayDiscard("Reload")) loadTemplate(); });
  $("builtin").addEventListener("click", () => {
    if (!mayDiscard("Starting from the built-in template")) return;
    $("editor").value = state.builtin || "";
    refresh();
  });
  $("history-open").addEventListener("click", openHistory);
  $("history-close").addEventListener("click", () => $("history-dialog").close());
  for (const b of document.querySelectorAll("[data-insert]")) b.addEventListener("click", () => insert(b.dataset.insert));
  $("variables-filter").addEventListener("input", showVariables);
  $("logo").addEventListener("change", uploadLogo);
  $("zoom").addEventListener("change", applyZoom);
  $("preview-png").addEventListener("load", applyZoom);
  $("download").addEventListener("click", download);
  // A reload or a closed tab with unsaved edits: the browser asks first.
  window.addEventListener("beforeunload", (ev) => {
    if (state.pin && dirty()) { ev.preventDefault(); ev.returnValue = ""; }
  });
  for (const tab of document.querySelectorAll("[role=tab]")) {
    tab.addEventListener("click", () => {
      for (const t of document.querySelectorAll("[role=tab]")) t.setAttribute("aria-selected", String(t === tab));
      for (const p of document.querySelectorAll(".tab")) p.hidden = p.dataset.panel !== tab.dataset.tab;
    });
  }
  // The PIN stays in this page's memory only: nothing is stored in the browser.
}

setup();
