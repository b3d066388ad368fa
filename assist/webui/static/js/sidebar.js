// The agent sidebar: live emotion with its cues and trend, customer type with evidence, suggestions with
// editable slots and feedback, and the draft rewriter with an inline diff. Every string from the bank or
// from the customer goes into the page as text (dom.js), never as HTML.
import { clear, h, params, segments, svg } from "./dom.js";
import { currentLang, reasons, setLang, t, toggleLang, v } from "./i18n.js";
import { AssistSocket } from "./socket.js";

const $ = (id) => document.getElementById(id);
const EMOTION_ICON = { anger: "▲▲", frustration: "▲", anxiety: "◆", disappointment: "▼", confusion: "?", satisfaction: "✓", neutral: "●" };
const TREND_ICON = { escalating: "↑", calming: "↓", steady: "→" };
const SHOWN = 5;
const state = {
  messages: [], analysis: null, analysedId: null, suggestions: null, rewrite: null,
  dismissed: new Set(), slots: new Map(), sent: new Set(), pendingSeq: 0, status: "connecting",
};
const q = params();
const host = hostOrigin(q.get("host"));
let socket = null;
let draftTimer = null;
let toastTimer = null;
let alertTimer = null;

function hostOrigin(value) {
  try { return value && new URL(value).origin === value ? value : null; } catch { return null; }
}

/** The token: from the URL fragment (#token=, never sent to the server), ?token=, or this tab's session. */
function takeToken() {
  const hash = new URLSearchParams(location.hash.slice(1));
  let token = hash.get("token") || q.get("token");
  try {
    if (token) sessionStorage.setItem("assist-agent-token", token);
    else token = sessionStorage.getItem("assist-agent-token");
  } catch { /* storage may be blocked in third-party iframes */ }
  if (hash.has("token") || q.has("token")) {  // keep it out of the address bar, history and bookmarks
    const clean = new URLSearchParams(q);
    clean.delete("token");
    history.replaceState(null, "", `${location.pathname}${clean.toString() ? `?${clean}` : ""}`);
  }
  return token;
}

/** Tell the page that embeds the sidebar (widget host, demo) what the agent chose, on its origin only. */
function tellHost(type, text) {
  if (host && window.parent !== window) {
    window.parent.postMessage({ source: "agent-assist", type, text, conversation: socket && socket.conversation }, host);
  }
}

function toast(message) {
  const box = $("toast");
  box.textContent = message;
  box.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { box.textContent = ""; box.hidden = true; }, 4000);
}

function showAlert(message) {
  const box = $("alert");
  box.textContent = message;
  box.hidden = !message;
  clearTimeout(alertTimer);
  if (message) alertTimer = setTimeout(() => showAlert(""), 10000);
}

function label() {
  $("title").textContent = t("sidebar");
  $("lang").textContent = t("language");
  $("lang").setAttribute("aria-label", t("languageName"));
  $("conversation-label").textContent = t("conversation");
  $("join-button").textContent = t("join");
  $("signin-help").textContent = t("tokenHelp");
  $("token-label").textContent = t("token");
  $("signin-button").textContent = t("signIn");
  $("emotion-title").textContent = t("emotion");
  $("profile-title").textContent = t("profile");
  $("hints-title").textContent = t("hints");
  $("messages-title").textContent = t("messages");
  $("suggestions-title").textContent = t("suggestions");
  $("shortcuts").textContent = t("shortcuts");
  $("draft-title").textContent = t("draft");
  $("draft-help").textContent = t("draftHelp");
  $("accept").textContent = `${t("accept")} (Alt+Enter)`;
  setStatus(state.status);
}

function setStatus(kind) {
  state.status = kind;
  $("status").dataset.kind = kind;
  $("status-text").textContent = t(kind);
  const signin = kind === "needToken" || kind === "unauthorized";
  $("signin").hidden = !signin;
  if (kind === "unauthorized") showAlert(t("tokenRefused"));
}

// ---- emotion, trend and cues ------------------------------------------------------------------

function renderEmotion() {
  const box = clear($("emotion"));
  const a = state.analysis;
  const spark = clear($("trajectory"));
  clear($("trend"));
  clear($("latest"));
  if (!a || !a.emotion) {
    box.dataset.label = "none";
    box.append(h("span", { class: "muted" }, state.suggestions || state.messages.length ? t("none") : t("waiting")));
    spark.setAttribute("aria-label", "");
    return;
  }
  const e = a.emotion;
  box.dataset.label = e.label;
  const pct = Math.round((e.intensity || 0) * 100);
  box.append(
    h("span", { class: "icon", "aria-hidden": "true" }, EMOTION_ICON[e.label] || "●"),
    h("strong", { class: "label" }, v(e.label)),
    h("span", { class: "meter", role: "meter", "aria-valuemin": 0, "aria-valuemax": 100, "aria-valuenow": pct,
      "aria-label": t("intensity") }, h("span", { style: `width:${pct}%` })),
    h("span", { class: "pct" }, `${t("intensity")} ${pct}%`),
  );
  const trend = a.trend || "steady";
  $("trend").dataset.trend = trend;
  $("trend").append(h("span", { "aria-hidden": "true" }, `${TREND_ICON[trend] || "→"} `), `${t("trend")}: ${t(trend)}`);
  renderSpark(spark, a.trajectory || []);
  renderLatest();
}

function renderSpark(el, trajectory) {
  const points = trajectory.slice(-30);
  if (!points.length) return;
  const W = 160, H = 28, pad = 4;
  const x = (i) => (points.length === 1 ? W - pad : pad + (i * (W - 2 * pad)) / (points.length - 1));
  const y = (p) => H - pad - (p.intensity || 0) * (H - 2 * pad);
  el.append(svg("line", { x1: 0, x2: W, y1: H - pad, y2: H - pad, class: "base" }));
  if (points.length > 1) el.append(svg("polyline", { points: points.map((p, i) => `${x(i).toFixed(1)},${y(p).toFixed(1)}`).join(" ") }));
  points.forEach((p, i) => el.append(svg("circle", { cx: x(i).toFixed(1), cy: y(p).toFixed(1), r: i === points.length - 1 ? 3 : 2,
    class: `pt ${p.label}` }, svg("title", {}, `${v(p.label)} ${Math.round((p.intensity || 0) * 100)}%`))));
  el.setAttribute("aria-label", `${t("intensity")}: ${points.map((p) => `${v(p.label)} ${Math.round((p.intensity || 0) * 100)}%`).join(", ")}`);
}

/** Index (from the start of the conversation) of the first message in the window, if the analysis tells. */
function windowOffset() {
  const a = state.analysis;
  if (!a || !Number.isInteger(a.message)) return null;
  let at = state.analysedId ? state.messages.findIndex((m) => m.message_id === state.analysedId) : -1;
  if (at < 0) at = state.messages.map((m) => m.role).lastIndexOf("customer");
  return at < 0 ? null : a.message - at;
}

function cuesFor(index) {
  const cues = (state.analysis && state.analysis.emotion && state.analysis.emotion.cues) || [];
  return cues.filter((c) => c.message === index);
}

function highlighted(text, cues) {
  return segments(text, cues).map(({ text: part, span }) => (span
    ? h("mark", { class: "cue", dataset: { kind: span.kind } }, part, h("span", { class: "cue-kind" }, v(`cue:${span.kind}`)))
    : part));
}

function renderLatest() {
  const a = state.analysis;
  const offset = windowOffset();
  const cues = (a.emotion.cues || []);
  const latest = offset === null ? null : state.messages[a.message - offset];
  const box = $("latest");
  if (latest) box.append(h("span", { class: "who" }, t("latest")), h("span", { class: "text" }, highlighted(latest.text, cuesFor(a.message))));
  const counts = new Map();
  for (const c of cues) counts.set(c.kind, (counts.get(c.kind) || 0) + 1);
  if (counts.size) {
    box.append(h("span", { class: "cue-chips" }, [...counts].map(([kind, n]) =>
      h("span", { class: "chip", dataset: { kind } }, `${v(`cue:${kind}`)}${n > 1 ? ` ×${n}` : ""}`))));
  }
}

function renderMessages() {
  const list = clear($("messages"));
  const offset = windowOffset();
  state.messages.forEach((m, k) => {
    const text = highlighted(m.text, offset === null ? [] : cuesFor(offset + k));
    list.append(h("li", { class: `msg ${m.role}` }, h("span", { class: "who" }, t(m.role)),
      h("span", { class: "text" }, text, m.truncated ? ` ${t("truncated")}` : "")));
  });
  if (!state.messages.length) list.append(h("li", { class: "muted" }, state.suggestions ? t("none") : t("joinHelp")));
  list.scrollTop = list.scrollHeight;
}

// ---- customer type and strategy ---------------------------------------------------------------

function renderProfile() {
  const list = clear($("profile"));
  const customer = (state.analysis && state.analysis.customer) || {};
  for (const [dim, p] of Object.entries(customer)) {
    if (!p || p.label === "unknown") continue;
    const evidence = (p.evidence || []).map((e) => `“${e.text}”${String(e.signal || "").startsWith("cue:") ? ` (${v(e.signal)})` : ""}`).join("  ");
    const id = `evidence-${dim}`;
    list.append(h("li", { class: "badge", tabindex: 0, "aria-describedby": id },
      h("span", { class: "dim" }, v(`dim:${dim}`)), " ", h("strong", {}, v(`${dim}:${p.label}`)),
      h("span", { class: "conf" }, ` ${Math.round((p.confidence || 0) * 100)}%`),
      h("span", { class: "evidence", role: "tooltip", id }, `${t("evidence")}: ${evidence || "—"}`)));
  }
  if (!list.children.length) list.append(h("li", { class: "muted" }, t("noProfile")));
  const hints = clear($("hints"));
  for (const hint of (state.analysis && state.analysis.hints) || []) {
    hints.append(h("li", {}, hint.text, hint.technique ? h("span", { class: "chip tech" }, v(hint.technique)) : null));
  }
  $("hints-title").hidden = !hints.children.length;
}

// ---- suggestions -----------------------------------------------------------------------------

function suggestionKey(item) {
  return `${(state.suggestions && state.suggestions.message_id) || ""}:${item.phrase_id}`;
}

function visibleItems() {
  const items = ((state.suggestions && state.suggestions.items) || []).slice(0, SHOWN);
  return items.filter((item) => !state.dismissed.has(suggestionKey(item)));
}

function filled(card) {
  return [...card.querySelector(".text").childNodes]
    .map((n) => (n.tagName === "INPUT" ? (n.value.trim() || `{${n.dataset.slot}}`) : n.textContent)).join("");
}

function slotInput(name) {
  const input = h("input", { class: "slot", dataset: { slot: name }, placeholder: name, "aria-label": `${t("slot")}: ${name}`,
    size: Math.max(4, name.length), spellcheck: "false", autocomplete: "off" });
  input.value = state.slots.get(name) || "";
  input.addEventListener("input", () => {
    state.slots.set(name, input.value);
    for (const other of document.querySelectorAll(`input.slot[data-slot="${CSS.escape(name)}"]`)) {
      if (other !== input) other.value = input.value;
    }
  });
  return input;
}

function renderSuggestions() {
  const list = clear($("suggestions"));
  const items = visibleItems();
  if (!items.length) list.append(h("li", { class: "muted" }, t("none")));
  items.forEach((item, i) => {
    const n = i + 1;
    const text = h("p", { class: "text", lang: state.suggestions.lang || undefined });
    for (const part of item.text.split(/(\{[A-Za-z_][A-Za-z0-9_]*\})/)) {
      const slot = part.match(/^\{([A-Za-z_][A-Za-z0-9_]*)\}$/);
      text.append(slot ? slotInput(slot[1]) : part);
    }
    const card = h("li", { class: "suggestion", dataset: { phrase: item.phrase_id, n } });
    card.append(
      h("span", { class: "num", "aria-hidden": "true" }, `${n}`),
      item.technique ? h("span", { class: "chip tech" }, v(item.technique)) : null,
      text,
      h("p", { class: "why" }, `${t("why")}: ${reasons(item.reasons)}`),
      h("div", { class: "actions" },
        h("button", { type: "button", "aria-label": `${t("copy")} ${n} (Alt+${n})`, onclick: () => copy(n) },
          t("copy"), h("kbd", { "aria-hidden": "true" }, `Alt+${n}`)),
        h("button", { type: "button", class: "secondary", "aria-label": `${t("insert")} ${n}`, onclick: () => insert(n) }, t("insert")),
        h("button", { type: "button", class: "secondary quiet", "aria-label": `${t("dismiss")} ${n}`, onclick: () => dismiss(n) }, t("dismiss"))));
    list.append(card);
  });
}

function cardOf(n) {
  const card = $("suggestions").querySelector(`li.suggestion[data-n="${n}"]`);
  const item = visibleItems()[n - 1];
  return card && item ? { card, item } : null;
}

function feedback(item, action) {
  const key = `${suggestionKey(item)}:${action}`;
  if (state.sent.has(key)) return;  // copying twice is one use
  state.sent.add(key);
  socket.feedback(item.phrase_id, action, (state.suggestions && state.suggestions.message_id) || state.analysedId);
}

async function copy(n) {
  const found = cardOf(n);
  if (!found) return;
  const text = filled(found.card);
  let ok = true;
  try { await navigator.clipboard.writeText(text); } catch { ok = fallbackCopy(text); }
  found.card.dataset.done = "copied";
  feedback(found.item, "used");
  tellHost("copy", text);
  toast(ok ? t("copied", { n }) : t("copyFailed"));
}

function fallbackCopy(text) {
  const area = h("textarea", { "aria-hidden": "true", class: "offscreen" });
  area.value = text;
  document.body.append(area);
  area.select();
  let ok = false;
  try { ok = document.execCommand("copy"); } catch { ok = false; }
  area.remove();
  return ok;
}

function insert(n) {
  const found = cardOf(n);
  if (!found) return;
  const draft = $("draft");
  const text = filled(found.card);
  draft.value = (draft.value.trim() ? `${draft.value.trimEnd()} ` : "") + text;
  found.card.dataset.done = "inserted";
  feedback(found.item, "used");
  tellHost("insert", text);
  toast(t("inserted", { n }));
  draft.focus();
  sendDraft(0);
}

function dismiss(n) {
  const found = cardOf(n);
  if (!found) return;
  state.dismissed.add(suggestionKey(found.item));
  feedback(found.item, "dismissed");
  renderSuggestions();
  toast(t("dismissed"));
  const next = cardOf(n) || cardOf(n - 1);
  (next ? next.card.querySelector("button") : $("draft")).focus();
}

// ---- draft and rewrite -------------------------------------------------------------------------

function sendDraft(wait = 150) {
  clearTimeout(draftTimer);
  $("rewrite").classList.add("stale");  // dim the last result until the new one comes (no re-render: no chatter)
  $("accept").disabled = true;
  draftTimer = setTimeout(() => {
    const text = $("draft").value;
    if (!text.trim()) { state.rewrite = null; renderRewrite(); return; }
    if (socket) state.pendingSeq = socket.draft(text);
  }, wait);
}

function renderRewrite() {
  const box = clear($("rewrite"));
  const text = $("draft").value;
  $("draft-help").hidden = Boolean(text.trim());
  const r = state.rewrite;
  const current = Boolean(r && r.original === text);
  $("accept").disabled = !(current && r.changed);
  $("accept").hidden = !(r && r.changed && text.trim());
  box.classList.toggle("stale", !current);  // while the draft changes, the last result stays, dimmed
  if (!text.trim()) return;
  if (!r) { box.append(h("p", { class: "muted" }, t("updating"))); return; }
  if (!r.changed && !(r.flags || []).length) { box.append(h("p", { class: "ok" }, h("span", { "aria-hidden": "true" }, "✓ "), t("noChange"))); return; }
  box.append(h("h3", {}, t("rewrite"), current ? null : h("span", { class: "muted" }, ` · ${t("updating")}`)));
  const spans = [...r.changes.map((c, i) => ({ ...c, n: i + 1 })), ...(r.flags || []).map((f) => ({ ...f, flag: true }))];
  const diff = h("p", { class: "diff", lang: r.lang || undefined });
  for (const { text: part, span } of segments(r.original, spans)) {
    if (!span) diff.append(part);
    else if (span.flag) diff.append(h("mark", { class: "flagged" }, part), h("sup", { "aria-hidden": "true" }, "⚑"));
    else {
      diff.append(h("del", {}, h("span", { class: "visually-hidden" }, `[${t("removed")}: `), part, h("span", { class: "visually-hidden" }, "]")),
        h("ins", {}, h("span", { class: "visually-hidden" }, `[${t("added")}: `), span.after, h("span", { class: "visually-hidden" }, "]")),
        h("sup", { "aria-hidden": "true" }, `${span.n}`));
    }
  }
  const notes = h("ol", { class: "notes" });
  r.changes.forEach((c) => notes.append(h("li", {}, h("span", { class: "pair" }, `${c.before} → ${c.after}`), ` ${c.why}`)));
  box.append(diff, notes);
  for (const f of r.flags || []) box.append(h("p", { class: "flag" }, h("span", { "aria-hidden": "true" }, "⚑ "), `${t("flags")}: “${f.text || ""}” ${f.why || ""}`));
}

function accept() {
  const r = state.rewrite;
  if (!r || !r.changed || r.original !== $("draft").value) return;
  $("draft").value = r.rewritten;
  tellHost("accept", r.rewritten);
  toast(t("accepted"));
  $("draft").focus();
  sendDraft(0);
}

// ---- frames ----------------------------------------------------------------------------------

function onFrame(frame) {
  switch (frame.type) {
    case "subscribed":
      state.messages = frame.state.messages || [];
      state.analysis = frame.state.analysis;
      state.analysedId = frame.state.suggestions ? frame.state.suggestions.message_id || null : null;
      state.suggestions = frame.state.suggestions;
      render();
      if ($("draft").value.trim()) sendDraft(0);  // a rewrite asked for while offline is asked again
      break;
    case "message":
      if (frame.conversation_id !== socket.conversation) break;
      state.messages = [...state.messages.filter((m) => m.message_id !== frame.message.message_id), frame.message].slice(-50);
      renderMessages();
      break;
    case "analysis":
      if (frame.conversation_id !== socket.conversation) break;
      state.analysis = frame.analysis;
      state.analysedId = frame.message_id;
      renderEmotion();
      renderMessages();
      renderProfile();
      break;
    case "suggestions":
      if (frame.conversation_id !== socket.conversation) break;
      state.suggestions = frame;
      renderSuggestions();
      toast(t("newSuggestions", { n: visibleItems().length }));
      break;
    case "rewrite":
      if (frame.seq === state.pendingSeq) { state.rewrite = frame.result; renderRewrite(); }
      break;
    case "error":
      showAlert(`${t("error")}: ${frame.detail || frame.code}`);
      break;
    default:
      break;
  }
}

function render() {
  label();
  renderEmotion();
  renderMessages();
  renderProfile();
  renderSuggestions();
  renderRewrite();
}

function join(conversation) {
  if (!/^[A-Za-z0-9_.:-]{1,128}$/.test(conversation)) return;
  $("conversation").value = conversation;
  if (socket.conversation !== conversation) {
    Object.assign(state, { messages: [], analysis: null, analysedId: null, suggestions: null });
    state.dismissed.clear();
    state.slots.clear();
    render();
  }
  socket.subscribe(conversation);
}

// ---- wiring ----------------------------------------------------------------------------------

$("join").addEventListener("submit", (event) => { event.preventDefault(); join($("conversation").value.trim()); });
$("signin").addEventListener("submit", (event) => {
  event.preventDefault();
  const token = $("agent-token").value.trim();
  try { sessionStorage.setItem("assist-agent-token", token); } catch { /* ignore */ }
  showAlert("");
  socket.setToken(token);
});
$("lang").addEventListener("click", () => { toggleLang(); render(); });
$("draft").addEventListener("input", () => sendDraft());
$("accept").addEventListener("click", accept);
document.addEventListener("keydown", (event) => {
  if (!event.altKey || event.ctrlKey || event.metaKey) return;
  const digit = /^(?:Digit|Numpad)([1-5])$/.exec(event.code);
  if (digit) {
    event.preventDefault();
    if (event.shiftKey) insert(Number(digit[1]));
    else copy(Number(digit[1]));
  } else if (event.key === "Enter") {
    event.preventDefault();
    accept();
  }
});
window.addEventListener("hashchange", () => {  // a token handed over later, in the fragment
  if (!new URLSearchParams(location.hash.slice(1)).has("token")) return;
  const token = takeToken();
  if (token && token !== socket.token) socket.setToken(token);
});
window.addEventListener("message", (event) => {  // the widget moves an open sidebar to another conversation
  const data = event.data;
  if (event.source !== window.parent || event.origin !== host || !data || data.source !== "agent-assist-host") return;
  if (data.type === "bind" && typeof data.conversation === "string") join(data.conversation);
});

if (q.get("lang")) setLang(q.get("lang"));
else setLang(currentLang());
if (q.get("embed") && q.get("conversation")) $("join").hidden = true;
socket = new AssistSocket({ conversation: q.get("conversation") || null, token: takeToken(), onFrame, onStatus: setStatus });
window.agentAssist = { socket, state };  // for support staff poking at a live sidebar from the devtools console
if (q.get("conversation")) $("conversation").value = q.get("conversation");
render();
socket.connect();
