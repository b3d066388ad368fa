// The console's pre-send guard section: rules table with filters, editor (forbidden expressions and must-say
// checks), retire, history, import with a dry run, export. Leads only, like the rest of the console.
import { clear, h } from "./dom.js";

const $ = (id) => document.getElementById(id);
let current = null;

async function api(path, options = {}) {
  const headers = { ...(options.headers || {}) };
  const token = sessionStorage.getItem("assist-token") || "";
  if (token) headers.authorization = `Bearer ${token}`;
  if (options.json !== undefined) {
    headers["content-type"] = "application/json";
    options.body = JSON.stringify(options.json);
  }
  let r;
  try { r = await fetch(path, { ...options, headers }); } catch (err) {
    return { ok: false, status: 0, body: { detail: `the service did not answer (${err.message})` } };
  }
  const type = r.headers.get("content-type") || "";
  return { ok: r.ok, status: r.status, body: type.includes("json") ? await r.json() : await r.blob() };
}

function detailText(body) {
  if (!body) return "";
  if (Array.isArray(body.detail)) return body.detail.map((e) => `${(e.loc || []).slice(1).join(".")}: ${String(e.msg).replace(/^Value error, /, "")}`).join("; ");
  return body.detail || "";
}

const lines = (value) => value.split("\n").map((s) => s.trim()).filter(Boolean);
const commas = (value) => value.split(/[,，、]/).map((s) => s.trim()).filter(Boolean);

async function load() {
  const query = new URLSearchParams();
  for (const [k, v] of new FormData($("g-filters"))) if (v) query.append(k, v);
  const r = await api(`/api/guard/rules?${query}`);
  const rows = clear($("g-rows"));
  if (!r.ok) { $("g-count").textContent = detailText(r.body); return; }
  for (const rule of r.body) {
    const selected = Boolean(current && current.id === rule.id);
    const row = h("tr", { class: selected ? "selected" : "", dataset: { key: rule.key }, "aria-selected": String(selected) },
      h("td", {}, h("button", { type: "button", class: "open", onclick: () => open(rule.id) }, rule.key)),
      h("td", {}, rule.kind === "must_say" ? `must_say (${rule.when})` : "forbidden"), h("td", {}, rule.category),
      h("td", { class: `severity-${rule.severity}` }, rule.severity === "block" ? "⊘ block" : "⚠ warn"),
      h("td", {}, rule.phrases.join(" / ")), h("td", {}, rule.teams.join(", ") || "everyone"),
      h("td", { class: `status-${rule.status}` }, rule.status), h("td", { class: "num" }, rule.version));
    rows.append(row);
  }
  if (!r.body.length) rows.append(h("tr", {}, h("td", { colspan: 8, class: "muted" }, "No rule matches these filters.")));
  $("g-count").textContent = `${r.body.length} rule${r.body.length === 1 ? "" : "s"}`;
}

function kindFields() {
  const kind = $("g-kind").value;
  for (const el of $("g-editor").querySelectorAll("[data-for]")) el.hidden = el.dataset.for !== kind;
}

function show(rule) {
  current = rule;
  const f = $("g-editor");
  f.hidden = false;
  $("g-pick").hidden = true;
  $("g-errors").textContent = "";
  $("g-editor-key").textContent = rule ? `${rule.key} · version ${rule.version} · last changed by ${rule.updated_by}` : "New rule";
  f.elements.key.value = rule ? rule.key : "";
  f.elements.key.disabled = Boolean(rule);
  f.elements.kind.value = rule ? rule.kind : "forbidden";
  f.elements.category.value = rule ? rule.category : "";
  f.elements.severity.value = rule ? rule.severity : "warn";
  f.elements.phrases.value = rule ? rule.phrases.join("\n") : "";
  f.elements.exceptions.value = rule ? rule.exceptions.join("\n") : "";
  f.elements.when.value = rule && rule.when ? rule.when : "first_reply";
  f.elements.triggers.value = rule ? rule.triggers.join("\n") : "";
  f.elements.reply.value = rule && rule.reply ? rule.reply : "";
  f.elements.teams.value = rule ? rule.teams.join(", ") : "";
  f.elements.langs.value = rule ? rule.langs.join(", ") : "";
  f.elements.why.value = rule ? rule.why : "";
  f.elements.status.value = rule ? rule.status : "active";
  $("g-retire").disabled = !rule || rule.status === "retired";
  kindFields();
  renderHistory(rule);
}

async function open(id) {
  const r = await api(`/api/guard/rules/${id}`);
  if (r.ok) { show(r.body); load(); }
}

async function renderHistory(rule) {
  const list = clear($("g-history"));
  if (!rule) return;
  const r = await api(`/api/guard/rules/${rule.id}/history`);
  if (!r.ok) return;
  for (const entry of [...r.body].reverse()) {
    const changed = [];
    const before = entry.before || {};
    const after = entry.after || {};
    for (const key of Object.keys(after)) {
      if (key === "version" || JSON.stringify(before[key]) === JSON.stringify(after[key])) continue;
      const show = (v) => (Array.isArray(v) ? v.join(" / ") || "—" : v === null || v === undefined ? "—" : String(v));
      changed.push(h("li", {}, h("code", {}, key), `: ${entry.before ? `${show(before[key])} → ` : ""}${show(after[key])}`));
    }
    list.append(h("li", {}, h("strong", {}, entry.action), ` v${entry.version} · ${entry.actor} · ${new Date(entry.at).toLocaleString()}`,
      entry.action === "create" ? null : h("ul", {}, changed)));
  }
}

function body() {
  const f = $("g-editor").elements;
  const kind = f.kind.value;
  const out = {
    kind, category: f.category.value.trim(), severity: f.severity.value, phrases: lines(f.phrases.value),
    teams: commas(f.teams.value), langs: commas(f.langs.value), why: f.why.value.trim(), status: f.status.value,
    exceptions: kind === "forbidden" ? lines(f.exceptions.value) : [],
    when: kind === "must_say" ? f.when.value : null,
    triggers: kind === "must_say" && f.when.value === "closing" ? lines(f.triggers.value) : [],
    reply: kind === "must_say" && f.when.value === "by_reply" && f.reply.value ? Number(f.reply.value) : null,
  };
  return out;
}

async function save(event) {
  event.preventDefault();
  const data = body();
  const problems = [];
  if (!data.category) problems.push("category: required");
  if (!data.phrases.length) problems.push("phrases: at least one");
  if (!data.why) problems.push("why: required (the agent reads it)");
  if (problems.length) { $("g-errors").textContent = problems.join("; "); return; }
  const key = $("g-editor").elements.key.value.trim();
  const r = current
    ? await api(`/api/guard/rules/${current.id}`, { method: "PATCH", json: { ...data, version: current.version } })
    : await api("/api/guard/rules", { method: "POST", json: key ? { ...data, key } : data });
  if (!r.ok) {
    $("g-errors").textContent = r.status === 409 && r.body.current_version
      ? `Someone saved this rule meanwhile (now version ${r.body.current_version}); reopen it and apply your change again.`
      : detailText(r.body);
    return;
  }
  show(r.body);
  load();
}

async function retire() {
  if (!current) return;
  const r = await api(`/api/guard/rules/${current.id}?version=${current.version}`, { method: "DELETE" });
  if (!r.ok) { $("g-errors").textContent = detailText(r.body); return; }
  show(r.body);
  load();
}

async function importFile(event) {
  event.preventDefault();
  const file = $("g-import-file").files[0];
  if (!file) return;
  const form = new FormData();
  form.append("file", file);
  const dry = $("g-dry-run").checked;
  const r = await api(`/api/guard/import?dry_run=${dry}`, { method: "POST", body: form });
  const box = clear($("g-import-result"));
  if (!r.ok) {
    box.append(h("p", { class: "errors" }, detailText(r.body)));
    const list = h("ul", { class: "errors" });
    for (const e of r.body.errors || []) list.append(h("li", {}, `line ${e.line ?? "?"}${e.key ? ` (${e.key})` : ""}: ${e.reason}`));
    box.append(list);
    return;
  }
  box.append(h("p", { class: "ok" }, `${dry ? "Dry run: would create" : "Created"} ${r.body.created}, ${dry ? "update" : "updated"} ${r.body.updated}, unchanged ${r.body.unchanged}.`));
  if (!dry) load();
}

async function exportRules(format) {
  const r = await api(`/api/guard/export?format=${format}`);
  if (!r.ok) return;
  const url = URL.createObjectURL(r.body);
  const a = h("a", { href: url, download: `guard.${format === "yaml" ? "yml" : format}` });
  document.body.append(a);
  a.click();
  a.remove();
  URL.revokeObjectURL(url);
}

$("g-filters").addEventListener("submit", (e) => { e.preventDefault(); load(); });
$("g-filters").addEventListener("change", (e) => { if (e.target.tagName === "SELECT") load(); });
$("g-new").addEventListener("click", () => show(null));
$("g-kind").addEventListener("change", kindFields);
$("g-editor").addEventListener("submit", save);
$("g-retire").addEventListener("click", retire);
$("g-import").addEventListener("submit", importFile);
for (const b of document.querySelectorAll("[data-gexport]")) b.addEventListener("click", () => exportRules(b.dataset.gexport));
document.addEventListener("console:ready", () => { $("guard-app").hidden = false; load(); });
