// The team-lead console: phrase table with filters, editor with validation, approve/retire, history with a
// diff per change, import with a dry run, export, and usage charts. Text from the bank is inserted as text.
import { diffChars } from "./diff.js";
import { clear, h, svg } from "./dom.js";

const $ = (id) => document.getElementById(id);
let LANGS = []; // the server's language codes (/api/languages), in its order
const LIMIT = 25;
const KEY = /^[a-z0-9_.-]{1,80}$/;
let token = sessionStorage.getItem("assist-token") || "";
let offset = 0;
let current = null;
let vocab = null;

async function api(path, options = {}) {
  const headers = { ...(options.headers || {}) };
  if (token) headers.authorization = `Bearer ${token}`;
  if (options.json !== undefined) {
    headers["content-type"] = "application/json";
    options.body = JSON.stringify(options.json);
  }
  let r;
  try { r = await fetch(path, { ...options, headers }); } catch (err) {
    return { ok: false, status: 0, body: { detail: `the service did not answer (${err.message})` } };
  }
  if (r.status === 401 && token) { signInAgain(); }
  const type = r.headers.get("content-type") || "";
  const body = r.status === 204 ? null : type.includes("json") ? await r.json() : await r.blob();
  return { ok: r.ok, status: r.status, body };
}

function detailText(body) {
  if (!body) return "";
  if (Array.isArray(body.detail)) return body.detail.map((e) => `${(e.loc || []).slice(1).join(".")}: ${String(e.msg).replace(/^Value error, /, "")}`).join("; ");
  return body.detail || "";
}

function list(value) {
  return value.split(/[,，、]/).map((s) => s.trim()).filter(Boolean);
}

function fill(select, values, names = {}) {
  for (const value of values) select.append(h("option", { value }, names[value] ? `${value} — ${names[value]}` : value));
}

// ---- sign in -----------------------------------------------------------------------------------

function signInAgain() {
  $("signin").hidden = false;
  $("app").hidden = true;
  $("guard-app").hidden = true;
  $("signout").hidden = true;
}

async function start() {
  const probe = await api("/api/phrases/stats");
  if (probe.status === 401 || probe.status === 403) {
    signInAgain();
    $("who").textContent = "";
    if (token) $("signin-error").textContent = probe.status === 403 ? "This token is not a lead's: the console needs a lead token." : "Unknown or revoked token.";
    $("token").focus();
    return;
  }
  $("signin").hidden = true;
  $("app").hidden = false;
  $("signout").hidden = !token;
  $("who").textContent = token ? "signed in with a lead token" : "open access (loopback, no tokens configured)";
  if (!vocab) {
    vocab = (await api("/api/vocabulary")).body;
    langFields((await api("/api/languages")).body.languages);
    const form = $("filters");
    fill(form.elements.lang, vocab.langs);
    fill(form.elements.situation, vocab.situations);
    fill(form.elements.emotion, vocab.emotions);
    fill(form.elements.customer_type, vocab.customer_types);
    fill(form.elements.status, vocab.statuses);
    fill($("f-technique"), Object.keys(vocab.techniques), vocab.techniques);
    fill($("f-status"), vocab.statuses);
    $("h-situations").textContent = `one or more of: ${vocab.situations.join(", ")}`;
    $("h-emotions").textContent = `one or more of: ${vocab.emotions.join(", ")}`;
    $("h-customer_types").textContent = `e.g. ${vocab.customer_types.slice(0, 3).join(", ")} … (${vocab.customer_types.length} in all)`;
  }
  renderOverview(probe.body);
  showSkipped((await api("/api/health")).body);
  await load();
  document.dispatchEvent(new CustomEvent("console:ready"));  // the guard rules section (guard-console.js)
}

// Stored phrases the service could not read are left out of lists and suggestions (GET /api/health).
function showSkipped(health) {
  const skipped = (health && health.skipped_phrases) || [];
  const box = $("skipped");
  box.hidden = skipped.length === 0;
  box.textContent = skipped.length === 0 ? "" : `${skipped.length} stored phrase(s) cannot be read and are left out: ` +
    skipped.map((s) => `#${s.id} ${s.key || ""} (${s.reason})`).join("; ");
}

$("signin").addEventListener("submit", (event) => {
  event.preventDefault();
  token = $("token").value.trim();
  sessionStorage.setItem("assist-token", token);
  $("token").value = "";
  start();
});
$("signout").addEventListener("click", () => {
  token = "";
  sessionStorage.removeItem("assist-token");
  $("signin-error").textContent = "";
  start();
});

// ---- table -------------------------------------------------------------------------------------

async function load() {
  const query = new URLSearchParams();
  for (const [k, v] of new FormData($("filters"))) if (v) query.append(k, v);
  query.set("offset", offset);
  query.set("limit", LIMIT);
  const r = await api(`/api/phrases?${query}`);
  const rows = clear($("rows"));
  if (!r.ok) { $("count").textContent = detailText(r.body); return; }
  const lang = $("filters").elements.lang.value;
  for (const p of r.body.data) {
    const shown = lang && p.text[lang] ? lang : LANGS.find((l) => p.text[l]) || Object.keys(p.text)[0];
    const text = p.text[shown] || "";
    const selected = Boolean(current && current.id === p.id);
    const row = h("tr", { class: selected ? "selected" : "", dataset: { key: p.key }, "aria-selected": String(selected) },
      h("td", {}, h("button", { type: "button", class: "open", onclick: () => open(p.id) }, p.key)),
      h("td", { lang: shown }, text),
      h("td", {}, p.situations.join(", ")), h("td", {}, p.emotions.join(", ")),
      h("td", { class: `status-${p.status}` }, p.status), h("td", { class: "num" }, p.version));
    row.addEventListener("click", (e) => { if (e.target.tagName !== "BUTTON") open(p.id); });
    rows.append(row);
  }
  if (!r.body.data.length) rows.append(h("tr", {}, h("td", { colspan: 6, class: "muted" }, "No phrase matches these filters.")));
  const last = Math.min(offset + LIMIT, r.body.count);
  $("count").textContent = `${r.body.count} phrase${r.body.count === 1 ? "" : "s"}${r.body.count ? `, showing ${offset + 1}–${last}` : ""}`;
  $("prev").disabled = offset === 0;
  $("next").disabled = last >= r.body.count;
}

$("filters").addEventListener("submit", (e) => { e.preventDefault(); offset = 0; load(); });
$("filters").addEventListener("change", (e) => { if (e.target.tagName === "SELECT") { offset = 0; load(); } });
$("reset").addEventListener("click", () => { $("filters").reset(); offset = 0; load(); });
$("prev").addEventListener("click", () => { offset = Math.max(0, offset - LIMIT); load(); });
$("next").addEventListener("click", () => { offset += LIMIT; load(); });

// ---- editor ------------------------------------------------------------------------------------

function show(p) {
  current = p;
  const f = $("editor");
  f.hidden = false;
  $("pick").hidden = true;
  setErrors({});
  $("editor-errors").textContent = "";
  $("editor-errors").className = "errors";
  $("editor-key").textContent = p ? `${p.key} · version ${p.version} · ${p.status}${p.derived.length ? ` · derived: ${p.derived.join(", ")}` : ""} · ${Object.values(p.examples || {}).flat().length} examples · last change by ${p.updated_by}` : "New phrase (saved as a draft unless you pick another status)";
  f.elements.key.value = p ? p.key : "";
  f.elements.key.disabled = Boolean(p);
  for (const lang of LANGS) {
    f.elements[lang].value = p && !p.derived.includes(lang) ? (p.text[lang] || "") : "";
    f.elements[lang].placeholder = p && p.derived.includes(lang) ? p.text[lang] || "" : "";
  }
  for (const lang of LANGS) f.elements[`ex-${lang}`].value = p ? ((p.examples || {})[lang] || []).join("\n") : "";
  f.elements.situations.value = p ? p.situations.join(", ") : "";
  f.elements.emotions.value = p ? p.emotions.join(", ") : "";
  f.elements.customer_types.value = p ? p.customer_types.join(", ") : "";
  f.elements.technique.value = p ? (p.technique || "") : "";
  f.elements.teams.value = p ? p.teams.join(", ") : "";
  f.elements.status.value = p ? p.status : "draft";
  $("approve").hidden = !p || p.status === "approved";
  $("retire").hidden = !p || p.status === "retired";
}

async function open(id, { focus = true } = {}) {
  const r = await api(`/api/phrases/${id}`);
  if (!r.ok) return;
  show(r.body);
  await Promise.all([history(id), usage(id), learnedFor(id), load()]);
  if (focus) $("editor-key").scrollIntoView({ block: "nearest" });
}

function formBody(f) {
  const text = {};
  for (const lang of LANGS) text[lang] = f.elements[lang].value.trim();
  const examples = {};
  for (const lang of LANGS) examples[lang] = f.elements[`ex-${lang}`].value.split("\n").map((x) => x.trim()).filter(Boolean);
  return {
    text, examples, situations: list(f.elements.situations.value), emotions: list(f.elements.emotions.value),
    customer_types: list(f.elements.customer_types.value), technique: f.elements.technique.value || null,
    teams: list(f.elements.teams.value), status: f.elements.status.value,
  };
}

const FIELDS = ["key", "situations", "emotions", "customer_types"];

/** A labelled text field per language code (ids f-<code>, e-<code>), before the placeholder help. */
function langFields(languages) {
  LANGS = languages.map((l) => l.code);
  const box = clear($("lang-fields"));
  for (const l of languages) {
    const notes = [l.label === l.code ? "" : l.label, l.derived_from.length ? `empty: derived from ${l.derived_from.join(" or ")}` : ""];
    const note = notes.filter(Boolean).join("; ");
    box.append(
      h("label", { for: `f-${l.code}` }, `Text ${l.code}${note ? ` (${note})` : ""}`),
      h("textarea", { id: `f-${l.code}`, name: l.code, rows: 2, lang: l.code, "aria-describedby": `e-${l.code}` }),
      h("p", { class: "field-error", id: `e-${l.code}` }));
  }
  const examples = $("example-fields");
  for (const old of examples.querySelectorAll(".example-lang")) old.remove();
  for (const l of languages) {
    examples.append(h("div", { class: "example-lang" },
      h("label", { for: `f-ex-${l.code}` }, `Examples ${l.code}${l.label === l.code ? "" : ` (${l.label})`}`),
      h("textarea", { id: `f-ex-${l.code}`, name: `ex-${l.code}`, rows: 3, lang: l.code, "aria-describedby": `h-examples e-ex-${l.code}` }),
      h("p", { class: "field-error", id: `e-ex-${l.code}` })));
  }
}

const exampleNames = () => LANGS.map((lang) => `ex-${lang}`);

function setErrors(errors) {
  for (const name of [...FIELDS, ...LANGS, ...exampleNames()]) {
    const input = $(`f-${name}`);
    const message = errors[name] || "";
    $(`e-${name}`).textContent = message;
    if (message) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  }
}

/** The checks the server makes too, done here first so a lead sees every problem at once, by its field. */
function validate(f, body) {
  const errors = {};
  const key = f.elements.key.value.trim();
  if (!current && key && !KEY.test(key)) errors.key = "lowercase letters, digits, _ . - only; up to 80 characters";
  const given = LANGS.filter((lang) => body.text[lang]);
  if (!given.length) errors[LANGS[LANGS.length - 1]] = "write the text in at least one language";
  const slots = (s) => new Set(s.match(/\{[A-Za-z_][A-Za-z0-9_]*\}/g) || []);
  const all = new Set(given.flatMap((lang) => [...slots(body.text[lang])]));
  for (const lang of given) {
    const missing = [...all].filter((x) => !slots(body.text[lang]).has(x));
    if ([...body.text[lang]].length > 1000) errors[lang] = "at most 1,000 characters";
    else if (missing.length) errors[lang] = `placeholders differ between languages: this text lacks ${missing.join(" ")}`;
  }
  let count = 0;
  for (const lang of LANGS) {
    count += body.examples[lang].length;
    if (body.examples[lang].some((x) => [...x].length > 500)) errors[`ex-${lang}`] = "each example at most 500 characters";
  }
  if (count > 40) errors[`ex-${LANGS[LANGS.length - 1]}`] = `${count} examples; at most 40 in all`;
  const unknown = (values, allowed, what) => {
    const bad = values.filter((x) => !allowed.includes(x));
    return bad.length ? `unknown ${what} ${bad.map((x) => `'${x}'`).join(", ")}` : "";
  };
  if (vocab) {
    errors.situations = unknown(body.situations, vocab.situations, "situation");
    errors.emotions = unknown(body.emotions, vocab.emotions, "emotion");
    errors.customer_types = unknown(body.customer_types, vocab.customer_types, "customer type");
  }
  for (const k of Object.keys(errors)) if (!errors[k]) delete errors[k];
  return errors;
}

/** Put the server's 422 list (loc: ["body", "emotions", 0]) under the fields it names. */
function serverErrors(body) {
  const errors = {};
  if (body && Array.isArray(body.detail)) {
    for (const e of body.detail) {
      const loc = (e.loc || []).slice(1);
      const name = loc[0] === "text" ? loc[1] : loc[0] === "examples" ? (loc[1] ? `ex-${loc[1]}` : `ex-${LANGS[LANGS.length - 1]}`) : loc[0];
      if (FIELDS.includes(name) || LANGS.includes(name) || exampleNames().includes(name)) errors[name] = String(e.msg).replace(/^Value error, /, "");
    }
  }
  return errors;
}

$("editor").addEventListener("submit", async (event) => {
  event.preventDefault();
  const f = $("editor");
  const body = formBody(f);
  const problems = validate(f, body);
  setErrors(problems);
  const out = $("editor-errors");
  out.className = "errors";
  if (Object.keys(problems).length) {
    out.textContent = `Not saved: ${Object.values(problems).join("; ")}.`;
    f.querySelector("[aria-invalid=true]").focus();
    return;
  }
  let r;
  if (current) {
    r = await api(`/api/phrases/${current.id}`, { method: "PATCH", json: { ...body, version: current.version } });
  } else {
    body.text = Object.fromEntries(Object.entries(body.text).filter(([, v]) => v));
    body.examples = Object.fromEntries(Object.entries(body.examples).filter(([, v]) => v.length));
    if (f.elements.key.value.trim()) body.key = f.elements.key.value.trim();
    r = await api("/api/phrases", { method: "POST", json: body });
  }
  if (!r.ok) {
    setErrors(serverErrors(r.body));
    const extra = r.status === 409 && r.body.current_version
      ? ` Someone saved version ${r.body.current_version} meanwhile: reopen the phrase to see it, then redo your change.` : "";
    out.textContent = `Not saved (${r.status}): ${detailText(r.body)}.${extra}`;
    return;
  }
  await open(r.body.id, { focus: false });
  out.className = "saved";
  out.textContent = `Saved. Version ${r.body.version}.`;
});

async function changeStatus(status) {
  const r = await api(`/api/phrases/${current.id}/status`, { method: "POST", json: { status, version: current.version } });
  if (!r.ok) { $("editor-errors").textContent = `${r.status}: ${detailText(r.body)}`; return; }
  await open(current.id, { focus: false });
  $("editor-errors").className = "saved";
  $("editor-errors").textContent = status === "approved" ? "Approved: agents see it now." : "Retired: agents no longer see it.";
}
$("approve").addEventListener("click", () => changeStatus("approved"));
$("retire").addEventListener("click", () => changeStatus("retired"));
$("new").addEventListener("click", () => {
  show(null);
  clear($("history"));
  clear($("usage"));
  clear($("learned"));
  load();
  $("f-key").focus();
});

// ---- history -----------------------------------------------------------------------------------

function inlineDiff(before, after) {
  const p = h("span", { class: "diff" });
  for (const part of diffChars(before, after)) {
    if (part.op === "=") p.append(part.text);
    else if (part.op === "-") p.append(h("del", {}, h("span", { class: "visually-hidden" }, "[removed: "), part.text, h("span", { class: "visually-hidden" }, "]")));
    else p.append(h("ins", {}, h("span", { class: "visually-hidden" }, "[added: "), part.text, h("span", { class: "visually-hidden" }, "]")));
  }
  return p;
}

function listDiff(before = [], after = []) {
  const out = [];
  for (const x of before) if (!after.includes(x)) out.push(h("del", {}, x), " ");
  for (const x of after) if (!before.includes(x)) out.push(h("ins", {}, x), " ");
  return out;
}

function changes(before, after) {
  const out = [];
  const b = before || {};
  const a = after || {};
  for (const lang of LANGS) {
    const x = (b.text || {})[lang] || "";
    const y = (a.text || {})[lang] || "";
    if (x !== y) out.push(h("div", { class: "field" }, h("strong", {}, `text ${lang}`), " ", x && y ? inlineDiff(x, y) : x ? h("del", {}, x) : h("ins", {}, y)));
  }
  for (const lang of LANGS) {
    const x = (b.examples || {})[lang] || [];
    const y = (a.examples || {})[lang] || [];
    if (JSON.stringify(x) !== JSON.stringify(y)) out.push(h("div", { class: "field" }, h("strong", {}, `examples ${lang}`), " ", listDiff(x, y)));
  }
  for (const key of new Set([...Object.keys(b), ...Object.keys(a)])) {
    if (["version", "text", "examples"].includes(key)) continue;
    const x = b[key];
    const y = a[key];
    if (JSON.stringify(x) === JSON.stringify(y)) continue;
    const body = Array.isArray(x) || Array.isArray(y) ? listDiff(x || [], y || [])
      : [h("del", {}, x == null ? "—" : typeof x === "object" ? JSON.stringify(x) : String(x)), " → ",
        h("ins", {}, y == null ? "—" : typeof y === "object" ? JSON.stringify(y) : String(y))];
    out.push(h("div", { class: "field" }, h("strong", {}, key), " ", body));
  }
  return out;
}

async function history(id) {
  const r = await api(`/api/phrases/${id}/history`);
  const ol = clear($("history"));
  if (!r.ok) { ol.append(h("li", { class: "errors" }, detailText(r.body))); return; }
  for (const e of (r.body || []).slice().reverse()) {
    ol.append(h("li", {}, h("div", {}, h("strong", {}, `v${e.version} ${e.action}`), ` by ${e.actor}, ${new Date(e.at).toLocaleString()}`),
      e.action === "create" ? h("div", { class: "muted" }, "created") : changes(e.before, e.after)));
  }
}

// ---- usage -------------------------------------------------------------------------------------

const KINDS = ["shown", "used", "dismissed"];

function rate(r) {
  return r === null || r === undefined ? "n/a" : `${Math.round(r * 100)}%`;
}

function totalsGrid(t) {
  return h("div", { class: "totals" },
    ...KINDS.map((k) => h("div", {}, h("b", {}, t[k]), h("span", {}, k))),
    h("div", {}, h("b", {}, rate(t.acceptance_rate)), h("span", {}, "acceptance (used ÷ shown)")));
}

/** Per-day grouped bars (shown, used, dismissed) with a date axis; the numbers are in a table below it. */
function dayChart(days) {
  const W = 320, H = 110, left = 22, bottom = 16, top = 6;
  const max = Math.max(1, ...days.flatMap((d) => KINDS.map((k) => d[k])));
  const slot = (W - left) / days.length;
  const bw = Math.max(2, Math.min(10, (slot - 2) / 3));
  const y = (v) => top + (H - top - bottom) * (1 - v / max);
  const chart = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img",
    "aria-label": `Usage per day over ${days.length} day(s); the numbers are in the table below.` },
  svg("defs", {}, svg("pattern", { id: "hatch", width: 4, height: 4, patternUnits: "userSpaceOnUse", patternTransform: "rotate(45)" },
    svg("rect", { width: 4, height: 4, fill: "#fff" }), svg("rect", { width: 2, height: 4, fill: "#f59e0b" }))),
  svg("line", { x1: left, x2: W, y1: H - bottom, y2: H - bottom, class: "axis" }),
  svg("line", { x1: left, x2: left, y1: top, y2: H - bottom, class: "axis" }),
  svg("text", { x: left - 3, y: top + 6, "text-anchor": "end" }, max),
  svg("text", { x: left - 3, y: H - bottom, "text-anchor": "end" }, 0));
  days.forEach((d, i) => {
    KINDS.forEach((k, j) => {
      const x = left + i * slot + (slot - 3 * bw) / 2 + j * bw;
      chart.append(svg("rect", { x: x.toFixed(1), y: y(d[k]).toFixed(1), width: (bw - 0.5).toFixed(1), height: (H - bottom - y(d[k])).toFixed(1),
        class: k, stroke: "#64748b", "stroke-width": 0.3 }, svg("title", {}, `${d.day}: ${k} ${d[k]}`)));
    });
  });
  const label = (i, anchor) => svg("text", { x: (left + i * slot + slot / 2).toFixed(1), y: H - 4, "text-anchor": anchor }, days[i].day.slice(5));
  chart.append(label(0, days.length === 1 ? "middle" : "start"));
  if (days.length > 1) chart.append(label(days.length - 1, "end"));
  return chart;
}

function dataTable(days) {
  return h("details", {}, h("summary", {}, "Numbers per day"),
    h("table", {}, h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "day"), ...KINDS.map((k) => h("th", { scope: "col", class: "num" }, k)))),
      h("tbody", {}, days.map((d) => h("tr", {}, h("td", {}, d.day), ...KINDS.map((k) => h("td", { class: "num" }, d[k])))))));
}

function legend() {
  return h("p", { class: "legend", "aria-hidden": "true" }, h("span", { class: "shown" }, "shown"), h("span", { class: "used" }, "used"),
    h("span", { class: "dismissed" }, "dismissed (hatched)"));
}

async function usage(id) {
  const r = await api(`/api/phrases/${id}/usage?days=30`);
  const box = clear($("usage"));
  if (!r.ok) { box.append(h("p", { class: "errors" }, detailText(r.body))); return; }
  box.append(totalsGrid(r.body.totals));
  const days = r.body.days;
  if (!days.length) { box.append(h("p", { class: "muted" }, "Not suggested to an agent in the last 30 days.")); return; }
  box.append(dayChart(days), legend(), dataTable(days));
}

/** What the ranking learned about a phrase from agents' uses and dismissals, per team, and a reset. */
async function learnedFor(id) {
  const r = await api(`/api/phrases/${id}/learned`);
  const box = clear($("learned"));
  if (!r.ok) { box.append(h("p", { class: "errors" }, detailText(r.body))); return; }
  const b = r.body;
  box.append(h("p", { class: "muted" }, b.learning
    ? `Suggestions of this phrase rise for messages like those it was used for and sink where it was dismissed (each event counts half after ${b.half_life_days} days).`
    : "Recorded only: learning is off in this service's settings (ASSIST_FEEDBACK__LEARN)."));
  if (!b.teams.length) { box.append(h("p", { class: "muted" }, "No agent has used or dismissed it since the last reset.")); return; }
  box.append(h("table", {},
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "team"), h("th", { scope: "col", class: "num" }, "used"),
      h("th", { scope: "col", class: "num" }, "dismissed"), h("th", { scope: "col" }, "latest"))),
    h("tbody", {}, b.teams.map((e) => h("tr", {}, h("td", {}, e.team ?? "(no team)"), h("td", { class: "num" }, e.used),
      h("td", { class: "num" }, e.dismissed), h("td", {}, e.last_at ? new Date(e.last_at * 1000).toLocaleString() : "—"))))));
  const status = h("p", { role: "status" });
  let armed = false;  // two clicks: the first says what will be forgotten
  box.append(h("p", {}, h("button", { type: "button", class: "secondary", id: "reset-learned", onclick: async (event) => {
    if (!armed) {
      armed = true;
      event.target.textContent = `Click again to forget ${b.used} use(s) and ${b.dismissed} dismissal(s), every team`;
      return;
    }
    const x = await api(`/api/phrases/${id}/learned`, { method: "DELETE" });
    if (!x.ok) { status.textContent = `${x.status}: ${detailText(x.body)}`; status.className = "errors"; return; }
    await learnedFor(id);
    $("learned").append(h("p", { class: "saved", role: "status" }, `Reset: ${x.body.removed} event(s) forgotten.`));
  } }, "Reset what was learned")), status);
}

/** The whole bank: totals and the most used phrases, as bars of acceptance. */
async function renderOverview(stats) {
  const box = clear($("overview"));
  if (!stats || !stats.usage) return;
  const by = stats.phrases.by_status || {};
  box.append(h("p", { class: "muted" }, `${stats.phrases.total} phrases: ${Object.entries(by).map(([k, n]) => `${n} ${k}`).join(", ")}.`));
  box.append(totalsGrid(stats.usage));
  const top = stats.top_used.filter((u) => u.used > 0);
  if (!top.length) { box.append(h("p", { class: "muted" }, "No phrase has been used by an agent yet.")); return; }
  const keys = await Promise.all(top.map((u) => api(`/api/phrases/${u.phrase_id}`).then((r) => (r.ok ? r.body.key : `#${u.phrase_id}`))));
  box.append(h("h3", {}, "Most used"), h("ul", { class: "bars" }, top.map((u, i) => h("li", {},
    h("button", { type: "button", class: "link", onclick: () => open(u.phrase_id) }, keys[i]),
    h("span", { class: "track", role: "img", "aria-label": `acceptance ${rate(u.acceptance_rate)}` },
      h("span", { style: `width:${Math.round((u.acceptance_rate || 0) * 100)}%` })),
    h("span", {}, `${u.used}/${u.shown} · ${rate(u.acceptance_rate)}`)))));
  box.append(h("p", { class: "muted" }, "Bar: acceptance (used ÷ shown). Numbers: used / shown · acceptance."));
}

// ---- import and export -------------------------------------------------------------------------

async function runImport(file, dry) {
  const data = new FormData();
  data.append("file", file);
  const r = await api(`/api/phrases/import?dry_run=${dry}`, { method: "POST", body: data });
  const box = clear($("import-result"));
  if (r.ok) {
    const b = r.body;
    box.append(h("p", { class: dry ? "" : "saved" }, `${dry ? "Dry run, nothing written: would create" : "Imported: created"} ${b.created}, update ${b.updated}, leave ${b.unchanged} unchanged (${b.format}, ${b.encoding}).`));
    if (dry && (b.created || b.updated)) {
      box.append(h("button", { type: "button", onclick: () => runImport(file, false) }, `Import ${file.name} for real`));
    }
    if (!dry) { load(); start(); }
    return;
  }
  box.append(h("p", { class: "errors" }, `${r.status === 422 ? "Nothing imported" : `Error ${r.status}`}: ${detailText(r.body)}`));
  if (r.body && r.body.errors) {
    box.append(h("table", { class: "errors" },
      h("caption", { class: "visually-hidden" }, "Rows with errors"),
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Line"), h("th", { scope: "col" }, "Key"), h("th", { scope: "col" }, "Reason"))),
      h("tbody", {}, r.body.errors.map((e) => h("tr", {}, h("td", {}, e.line ?? "—"), h("td", {}, e.key ?? "—"), h("td", {}, e.reason))))));
  }
}

$("import").addEventListener("submit", (event) => {
  event.preventDefault();
  const file = $("import-file").files[0];
  if (file) runImport(file, $("dry-run").checked);
});

for (const button of document.querySelectorAll("[data-export]")) {
  button.addEventListener("click", async () => {
    const fmt = button.dataset.export;
    const r = await api(`/api/phrases/export?format=${fmt}`);
    if (!r.ok) return;
    const url = URL.createObjectURL(r.body);
    const a = h("a", { href: url, download: `phrasebank.${fmt === "yaml" ? "yml" : fmt}` });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  });
}

start();
