// The team-lead console: phrase table with filters, editor, approve/retire, history, import/export, usage.
import { clear, h } from "./dom.js";

const $ = (id) => document.getElementById(id);
const LANGS = ["zh-Hans", "zh-Hant", "en"];
let token = sessionStorage.getItem("assist-token") || "";
let offset = 0;
const LIMIT = 25;
let current = null;

async function api(path, options = {}) {
  const headers = { ...(options.headers || {}) };
  if (token) headers.authorization = `Bearer ${token}`;
  if (options.json !== undefined) {
    headers["content-type"] = "application/json";
    options.body = JSON.stringify(options.json);
  }
  const r = await fetch(path, { ...options, headers });
  const body = r.status === 204 ? null : (r.headers.get("content-type") || "").includes("json") ? await r.json() : await r.blob();
  return { ok: r.ok, status: r.status, body };
}

function detailText(body) {
  if (!body) return "";
  if (Array.isArray(body.detail)) return body.detail.map((e) => `${(e.loc || []).slice(1).join(".")}: ${e.msg.replace(/^Value error, /, "")}`).join("; ");
  return body.detail || "";
}

function list(value) {
  return value.split(",").map((s) => s.trim()).filter(Boolean);
}

function fill(select, values) {
  for (const v of values) select.append(h("option", { value: v }, v));
}

// ---- sign in -----------------------------------------------------------------------------------

async function start() {
  const probe = await api("/api/phrases/stats");
  if (probe.status === 401 || probe.status === 403) {
    $("signin").hidden = false;
    $("app").hidden = true;
    if (token) $("signin-error").textContent = probe.status === 403 ? "This token is not a lead's." : "Unknown or revoked token.";
    return;
  }
  $("signin").hidden = true;
  $("app").hidden = false;
  $("who").textContent = token ? "signed in with a lead token" : "open access (loopback, no tokens configured)";
  const vocab = (await api("/api/vocabulary")).body;
  const form = $("filters");
  fill(form.elements.lang, vocab.langs);
  fill(form.elements.situation, vocab.situations);
  fill(form.elements.emotion, vocab.emotions);
  fill(form.elements.customer_type, vocab.customer_types);
  fill(form.elements.status, vocab.statuses);
  fill($("f-technique"), Object.keys(vocab.techniques));
  fill($("f-status"), vocab.statuses);
  await load();
}

$("signin").addEventListener("submit", (event) => {
  event.preventDefault();
  token = $("token").value.trim();
  sessionStorage.setItem("assist-token", token);
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
    const text = p.text[lang] || p.text["zh-Hans"] || p.text.en || Object.values(p.text)[0];
    const row = h("tr", { tabindex: 0, class: current && current.id === p.id ? "selected" : "", dataset: { key: p.key } },
      h("td", {}, p.key), h("td", {}, text), h("td", {}, p.situations.join(", ")), h("td", {}, p.emotions.join(", ")),
      h("td", { class: `status-${p.status}` }, p.status), h("td", {}, p.version));
    row.addEventListener("click", () => open(p.id));
    row.addEventListener("keydown", (e) => { if (e.key === "Enter") open(p.id); });
    rows.append(row);
  }
  const last = Math.min(offset + LIMIT, r.body.count);
  $("count").textContent = `${r.body.count} phrases${r.body.count ? `, showing ${offset + 1}–${last}` : ""}`;
  $("prev").disabled = offset === 0;
  $("next").disabled = last >= r.body.count;
}

$("filters").addEventListener("submit", (e) => { e.preventDefault(); offset = 0; load(); });
$("prev").addEventListener("click", () => { offset = Math.max(0, offset - LIMIT); load(); });
$("next").addEventListener("click", () => { offset += LIMIT; load(); });

// ---- editor ------------------------------------------------------------------------------------

function show(p) {
  current = p;
  const f = $("editor");
  f.hidden = false;
  $("editor-errors").textContent = "";
  $("editor-key").textContent = p ? `${p.key} · version ${p.version} · ${p.status}${p.derived.length ? ` · derived: ${p.derived.join(", ")}` : ""}` : "New phrase";
  f.elements.key.value = p ? p.key : "";
  f.elements.key.disabled = Boolean(p);
  for (const lang of LANGS) f.elements[lang].value = p && !p.derived.includes(lang) ? (p.text[lang] || "") : "";
  f.elements.situations.value = p ? p.situations.join(", ") : "";
  f.elements.emotions.value = p ? p.emotions.join(", ") : "";
  f.elements.customer_types.value = p ? p.customer_types.join(", ") : "";
  f.elements.technique.value = p ? (p.technique || "") : "";
  f.elements.teams.value = p ? p.teams.join(", ") : "";
  f.elements.status.value = p ? p.status : "draft";
  $("approve").hidden = $("retire").hidden = !p;
}

async function open(id) {
  const r = await api(`/api/phrases/${id}`);
  if (!r.ok) return;
  show(r.body);
  await Promise.all([history(id), usage(id)]);
  load();
}

function formBody(f) {
  const text = {};
  for (const lang of LANGS) text[lang] = f.elements[lang].value.trim();
  return {
    text, situations: list(f.elements.situations.value), emotions: list(f.elements.emotions.value),
    customer_types: list(f.elements.customer_types.value), technique: f.elements.technique.value || null,
    teams: list(f.elements.teams.value), status: f.elements.status.value,
  };
}

$("editor").addEventListener("submit", async (event) => {
  event.preventDefault();
  const f = $("editor");
  const body = formBody(f);
  let r;
  if (current) {
    r = await api(`/api/phrases/${current.id}`, { method: "PATCH", json: { ...body, version: current.version } });
  } else {
    body.text = Object.fromEntries(Object.entries(body.text).filter(([, v]) => v));
    if (f.elements.key.value.trim()) body.key = f.elements.key.value.trim();
    r = await api("/api/phrases", { method: "POST", json: body });
  }
  if (!r.ok) {
    const extra = r.status === 409 && r.body.current_version ? ` (now at version ${r.body.current_version}: reopen it)` : "";
    $("editor-errors").textContent = `${r.status}: ${detailText(r.body)}${extra}`;
    return;
  }
  await open(r.body.id);
  $("editor-errors").textContent = "Saved.";
});

async function setStatus(status) {
  const r = await api(`/api/phrases/${current.id}/status`, { method: "POST", json: { status, version: current.version } });
  if (!r.ok) { $("editor-errors").textContent = `${r.status}: ${detailText(r.body)}`; return; }
  await open(current.id);
}
$("approve").addEventListener("click", () => setStatus("approved"));
$("retire").addEventListener("click", () => setStatus("retired"));
$("new").addEventListener("click", () => { show(null); clear($("history")); clear($("usage")); $("f-key").focus(); });

// ---- history and usage -------------------------------------------------------------------------

function changed(before, after) {
  const out = [];
  for (const key of new Set([...Object.keys(before || {}), ...Object.keys(after || {})])) {
    if (key === "version") continue;
    const a = JSON.stringify((before || {})[key]);
    const b = JSON.stringify((after || {})[key]);
    if (a !== b) out.push(h("div", {}, h("strong", {}, key), ": ", h("del", {}, a ?? "—"), " → ", h("ins", {}, b ?? "—")));
  }
  return out;
}

async function history(id) {
  const r = await api(`/api/phrases/${id}/history`);
  const ol = clear($("history"));
  for (const e of (r.body || []).slice().reverse()) {
    ol.append(h("li", {}, h("div", {}, `v${e.version} ${e.action} by ${e.actor}, ${new Date(e.at).toLocaleString()}`),
      e.action === "create" ? h("div", { class: "muted" }, "created") : changed(e.before, e.after)));
  }
}

async function usage(id) {
  const r = await api(`/api/phrases/${id}/usage?days=30`);
  const box = clear($("usage"));
  if (!r.ok) return;
  const t = r.body.totals;
  const rate = t.acceptance_rate === null ? "n/a" : `${Math.round(t.acceptance_rate * 100)}%`;
  box.append(h("p", {}, `shown ${t.shown} · used ${t.used} · dismissed ${t.dismissed} · acceptance ${rate}`));
  const days = r.body.days;
  if (!days.length) { box.append(h("p", { class: "muted" }, "No usage yet.")); return; }
  const NS = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(NS, "svg");
  const max = Math.max(1, ...days.map((d) => d.shown + d.used + d.dismissed));
  const w = 300, bh = 80, bw = Math.max(4, Math.floor(w / days.length) - 2);
  svg.setAttribute("viewBox", `0 0 ${w} ${bh + 14}`);
  svg.setAttribute("class", "chart");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", `usage per day: ${days.map((d) => `${d.day} shown ${d.shown} used ${d.used} dismissed ${d.dismissed}`).join("; ")}`);
  days.forEach((d, i) => {
    let y = bh;
    for (const kind of ["shown", "used", "dismissed"]) {
      const height = (d[kind] / max) * bh;
      y -= height;
      const rect = document.createElementNS(NS, "rect");
      Object.entries({ x: i * (bw + 2), y, width: bw, height, class: kind }).forEach(([k, v]) => rect.setAttribute(k, v));
      const title = document.createElementNS(NS, "title");
      title.textContent = `${d.day}: ${kind} ${d[kind]}`;
      rect.append(title);
      svg.append(rect);
    }
  });
  box.append(svg, h("p", { class: "muted" }, "bars: shown (grey), used (blue), dismissed (amber)"));
}

// ---- import and export -------------------------------------------------------------------------

$("import").addEventListener("submit", async (event) => {
  event.preventDefault();
  const file = $("import-file").files[0];
  const data = new FormData();
  data.append("file", file);
  const dry = $("dry-run").checked;
  const r = await api(`/api/phrases/import?dry_run=${dry}`, { method: "POST", body: data });
  const box = clear($("import-result"));
  if (r.ok) {
    box.append(h("p", {}, `${dry ? "Dry run: would import" : "Imported"} ${r.body.created} new, ${r.body.updated} updated, ${r.body.unchanged} unchanged (${r.body.format}, ${r.body.encoding}).`));
    if (!dry) load();
    return;
  }
  box.append(h("p", { class: "errors" }, `${r.status}: ${detailText(r.body)}`));
  if (r.body && r.body.errors) {
    const table = h("table", { class: "errors" }, h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Line"), h("th", { scope: "col" }, "Key"), h("th", { scope: "col" }, "Reason"))));
    const body = h("tbody");
    for (const e of r.body.errors) body.append(h("tr", {}, h("td", {}, e.line ?? "—"), h("td", {}, e.key ?? "—"), h("td", {}, e.reason)));
    table.append(body);
    box.append(table);
  }
});

for (const button of document.querySelectorAll("[data-export]")) {
  button.addEventListener("click", async () => {
    const fmt = button.dataset.export;
    const r = await api(`/api/phrases/export?format=${fmt}`);
    if (!r.ok) return;
    const a = h("a", { href: URL.createObjectURL(r.body), download: `phrasebank.${fmt === "yaml" ? "yml" : fmt}` });
    document.body.append(a);
    a.click();
    a.remove();
  });
}

start();
