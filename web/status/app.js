// Kassa status page: each KKM and printer at a glance, for the people who run the shop.
// Plain browser JavaScript, embedded by the server as it is. The PIN stays in this page's memory only.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { pin: "", timer: 0 };

function message(text, bad) {
  $("message").textContent = text;
  $("message").classList.toggle("bad", !!bad);
}

// A sign-in refusal as a sentence (the envelope's message carries the detail after the code's text).
function refusal(code, detail) {
  if (code === 5 && /too many wrong PINs/.test(detail)) {
    const secs = (detail.match(/(\d+) s/) || [])[1];
    return "Too many wrong PINs from here: wait" + (secs ? " " + secs + " seconds" : " a while") + " and try again.";
  }
  if (code === 5) return "That PIN is not right. Type the administrator's PIN again.";
  if (code === 71) return "That PIN belongs to a cashier: this page is for administrators.";
  return "The server refused (" + code + "): " + detail;
}

async function call(method) {
  const res = await fetch(method, { method: "POST", headers: { Authorization: state.pin }, body: "{}" });
  const env = await res.json();
  if (env.response_code !== 0) throw { code: env.response_code, detail: env.message || String(env.response_data) };
  return env.response_data;
}

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function card(title, stateText, level, rows, todo, meter) {
  const c = el("article", "card " + level);
  const h = el("h3");
  h.append(el("span", "", title), el("span", "state", stateText));
  c.append(h);
  const dl = el("dl");
  for (const [k, v] of rows) dl.append(el("dt", "", k), el("dd", "", v));
  c.append(dl);
  if (meter !== undefined) {
    const m = el("div", "meter");
    const bar = el("span");
    bar.style.width = Math.max(0, Math.min(100, meter)) + "%";
    m.append(bar);
    c.append(m);
  }
  if (todo) c.append(el("p", "todo", todo));
  return c;
}

const when = (iso) => (iso ? iso.replace("T", " ").slice(0, 19) : "—");

function kkmCard(k) {
  let stateText = "online", level = "";
  if (k.blocked) { stateText = "blocked"; level = "bad"; }
  else if (k.invalid_token) { stateText = "token refused"; level = "bad"; }
  else if (!k.can_work) { stateText = "past the limit"; level = "bad"; }
  else if (k.offline) { stateText = "autonomous"; level = "warn"; }
  const oldest = k.oldest_unsent
    ? when(k.oldest_unsent.created_at) + " (shift " + k.oldest_unsent.fr_shift_number + ", № " + k.oldest_unsent.shift_document_number + ")"
    : "none";
  const rows = [
    ["OFD", k.ofd_unreachable_since ? "not answering since " + when(k.ofd_unreachable_since) : k.offline ? "delivering" : "answering"],
    ["Waiting for the OFD", k.queued + " document(s)"],
    ["Oldest unsent", oldest],
    ["Autonomous time left", k.hours_left.toFixed(1) + " h of " + k.limit_hours + " h"],
  ];
  const c = card((k.name || "KKM") + " · " + k.ofd_id, stateText, level, rows, k.advice, (100 * k.hours_left) / k.limit_hours);
  c.dataset.kkm = k.ofd_id;
  return c;
}

function printerCard(p) {
  const level = p.state === "paused" || p.state === "failed" ? (p.state === "failed" ? "bad" : "warn") : "";
  const jobs = Object.entries(p.jobs).map(([s, n]) => n + " " + s).join(", ") || "none";
  const label = p.state === "paused" && p.reason ? "paused: " + p.reason.replace("_", " ") : p.state;
  const rows = [["Jobs", jobs], ["Failed", String(p.failed)], ["Oldest waiting", when(p.oldest_waiting)]];
  const c = card(p.name + " · ID " + p.ID, label, level, rows, p.advice);
  c.dataset.printer = p.ID;
  return c;
}

function show(s) {
  const sum = $("summary");
  sum.className = "summary " + (s.ready ? "ready" : "not-ready");
  sum.textContent = s.ready ? "Ready: every cash register can sell." : "Not ready:";
  if (!s.ready) {
    const ul = el("ul");
    for (const r of s.reasons) ul.append(el("li", "", r));
    sum.append(ul);
  }
  const snap = s.snapshot;
  $("kkms").replaceChildren(...(snap.kkms.length ? snap.kkms.map(kkmCard) : [el("p", "empty", "No cash register yet: SaveKKM registers one.")]));
  // The KKMs' own ledger devices have their cards above.
  const others = snap.devices.filter((d) => d.country !== "kz");
  $("devices-title").hidden = !others.length;
  $("devices").replaceChildren(...others.map((d) =>
    card(d.country.toUpperCase() + " · " + d.serial, d.unsent ? "unsent" : "ok", d.unsent ? "warn" : "",
      [["Unsent documents", String(d.unsent)], ["Oldest unsent", when(d.oldest_unsent)]])));
  $("printers").replaceChildren(...(snap.printers.length ? snap.printers.map(printerCard) : [el("p", "empty", "No printer configured.")]));
  $("updated").textContent = s.now.replace("T", " ");
}

async function refresh() {
  try {
    show(await call("GetStatus"));
  } catch (e) {
    message(e.code ? refusal(e.code, e.detail) : "The server does not answer: " + e, true);
  }
}

async function login(ev) {
  ev.preventDefault();
  state.pin = $("pin").value;
  try {
    const s = await call("GetStatus");
    $("app").hidden = false;
    message("Signed in.");
    show(s);
    clearInterval(state.timer);
    state.timer = setInterval(refresh, 10000);
  } catch (e) {
    $("app").hidden = true;
    message(e.code ? refusal(e.code, e.detail) : "The server does not answer: " + e, true);
  }
}

$("login").addEventListener("submit", login);
