// The agent sidebar: live emotion, cues, customer type, suggestions with slots, and the draft rewriter.
import { clear, h, params } from "./dom.js";
import { currentLang, t, toggleLang } from "./i18n.js";
import { AssistSocket } from "./socket.js";

const $ = (id) => document.getElementById(id);
const EMOTION_ICON = { anger: "▲▲", frustration: "▲", anxiety: "◆", disappointment: "▼", confusion: "?", satisfaction: "✓", neutral: "●" };
const state = { messages: [], analysis: null, suggestions: null, rewrite: null };
const q = params();
let socket = null;
let draftTimer = null;
let lastSeq = 0;

function label() {
  $("title").textContent = t("sidebar");
  $("lang").textContent = t("language");
  $("conversation-label").textContent = t("conversation");
  $("join-button").textContent = t("join");
  $("emotion-title").textContent = t("emotion");
  $("profile-title").textContent = t("profile");
  $("hints-title").textContent = t("hints");
  $("messages-title").textContent = t("messages");
  $("suggestions-title").textContent = t("suggestions");
  $("shortcuts").textContent = t("shortcuts");
  $("draft-title").textContent = t("draft");
  $("draft-help").textContent = t("draftHelp");
  $("accept").textContent = t("accept");
}

function setStatus(kind) {
  $("status").textContent = t(kind);
  $("status").dataset.kind = kind;
}

// ---- emotion and cues ------------------------------------------------------------------------

function renderEmotion() {
  const box = $("emotion");
  clear(box);
  const a = state.analysis;
  if (!a || !a.emotion) {
    box.dataset.label = "none";
    box.append(t("waiting"));
    clear($("trajectory"));
    return;
  }
  const e = a.emotion;
  box.dataset.label = e.label;
  const pct = Math.round((e.intensity || 0) * 100);
  box.append(
    h("span", { class: "icon", "aria-hidden": "true" }, EMOTION_ICON[e.label] || "●"),
    h("strong", { class: "label" }, t(e.label)),
    h("span", { class: "meter", role: "meter", "aria-valuemin": 0, "aria-valuemax": 100, "aria-valuenow": pct,
      "aria-label": t("intensity") }, h("span", { style: `width:${pct}%` })),
    h("span", { class: "pct" }, `${t("intensity")} ${pct}%`),
    h("span", { class: "trend" }, `${t("trend")}: ${t(a.trend || "steady")}`),
  );
  const svg = $("trajectory");
  clear(svg);
  const points = (a.trajectory || []).map((p) => p.intensity || 0);
  if (points.length > 1) {
    const step = 120 / (points.length - 1);
    const d = points.map((v, i) => `${i ? "L" : "M"}${(i * step).toFixed(1)},${(22 - v * 20).toFixed(1)}`).join(" ");
    const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
    path.setAttribute("d", d);
    svg.append(path);
  }
}

function cueSpans(index) {
  const cues = (state.analysis && state.analysis.emotion && state.analysis.emotion.cues) || [];
  return cues.filter((c) => c.message === index && Number.isInteger(c.start) && c.end > c.start);
}

function highlighted(text, cues) {
  const parts = [];
  let at = 0;
  for (const cue of [...cues].sort((a, b) => a.start - b.start)) {
    if (cue.start < at) continue;
    parts.push(text.slice(at, cue.start));
    parts.push(h("mark", { title: cue.kind, class: `cue cue-${cue.kind}` }, text.slice(cue.start, cue.end),
      h("span", { class: "cue-kind" }, ` [${cue.kind}]`)));
    at = cue.end;
  }
  parts.push(text.slice(at));
  return parts;
}

function renderMessages() {
  const list = clear($("messages"));
  // Cues number messages from the start of the conversation; the window holds the latest ones. The analysis
  // belongs to the latest customer message, which anchors the window to those numbers.
  const lastCustomer = state.messages.map((m) => m.role).lastIndexOf("customer");
  const analysed = state.analysis && Number.isInteger(state.analysis.message) ? state.analysis.message : null;
  const offset = analysed !== null && lastCustomer >= 0 ? analysed - lastCustomer : null;
  const from = Math.max(0, state.messages.length - 12);
  state.messages.slice(from).forEach((m, k) => {
    const index = offset === null ? -1 : from + k + offset;
    list.append(h("li", { class: `msg ${m.role}` }, h("span", { class: "who" }, t(m.role)),
      h("span", { class: "text" }, highlighted(m.text, cueSpans(index)))));
  });
}

function renderProfile() {
  const list = clear($("profile"));
  const customer = (state.analysis && state.analysis.customer) || {};
  for (const [dim, v] of Object.entries(customer)) {
    if (!v || v.label === "unknown") continue;
    const evidence = (v.evidence || []).map((e) => `“${e.text}” (${e.signal || dim})`).join("; ");
    list.append(h("li", { class: "badge", tabindex: 0, title: evidence, "aria-label": `${dim}: ${v.label}. ${evidence}` },
      h("span", { class: "dim" }, dim.replace("_", " ")), " ", h("strong", {}, v.label),
      h("span", { class: "conf" }, ` ${Math.round((v.confidence || 0) * 100)}%`)));
  }
  if (!list.children.length) list.append(h("li", { class: "muted" }, t("none")));
  const hints = clear($("hints"));
  for (const hint of (state.analysis && state.analysis.hints) || []) {
    hints.append(h("li", {}, hint.text, h("span", { class: "muted" }, ` — ${hint.technique || ""}`)));
  }
}

// ---- suggestions -----------------------------------------------------------------------------

function filled(card) {
  return [...card.querySelector(".text").childNodes].map((n) => (n.tagName === "INPUT" ? (n.value || `{${n.dataset.slot}}`) : n.textContent)).join("");
}

function renderSuggestions() {
  const list = clear($("suggestions"));
  const items = (state.suggestions && state.suggestions.items) || [];
  if (!items.length) list.append(h("li", { class: "muted" }, t("none")));
  items.slice(0, 5).forEach((item, i) => {
    const text = h("p", { class: "text" });
    for (const part of item.text.split(/(\{[a-z_][a-z0-9_]*\})/)) {
      const slot = part.match(/^\{([a-z_][a-z0-9_]*)\}$/);
      if (slot) text.append(h("input", { class: "slot", "data-slot": slot[1], placeholder: slot[1], "aria-label": `${t("slot")}: ${slot[1]}`, size: Math.max(6, slot[1].length) }));
      else text.append(part);
    }
    const card = h("li", { class: "suggestion", dataset: { phrase: item.phrase_id } },
      h("span", { class: "num", "aria-hidden": "true" }, `${i + 1}`), text,
      h("p", { class: "why" }, `${t("why")}: ${item.why}`),
      h("div", { class: "actions" },
        h("button", { type: "button", onclick: () => copy(card, item) }, `${t("copy")} (Alt+${i + 1})`),
        h("button", { type: "button", onclick: () => insert(card, item) }, t("insert")),
        h("button", { type: "button", class: "secondary", onclick: () => dismiss(card, item) }, t("dismiss"))));
    list.append(card);
  });
}

async function copy(card, item) {
  const text = filled(card);
  try { await navigator.clipboard.writeText(text); } catch { /* clipboard may be denied; the feedback still counts */ }
  card.dataset.done = "copied";
  socket.feedback(item.phrase_id, "used");
  setStatus("copied");
}

function insert(card, item) {
  const draft = $("draft");
  draft.value = (draft.value ? `${draft.value} ` : "") + filled(card);
  socket.feedback(item.phrase_id, "used");
  draft.focus();
  sendDraft();
}

function dismiss(card, item) {
  socket.feedback(item.phrase_id, "dismissed");
  card.remove();
}

// ---- draft and rewrite -------------------------------------------------------------------------

function sendDraft() {
  clearTimeout(draftTimer);
  draftTimer = setTimeout(() => { lastSeq = socket.draft($("draft").value); }, 150);
}

function renderRewrite() {
  const box = clear($("rewrite"));
  const r = state.rewrite;
  $("accept").disabled = !(r && r.changed);
  if (!r || !$("draft").value.trim()) return;
  box.append(h("h3", {}, t("rewrite")));
  if (!r.changed) { box.append(h("p", { class: "muted" }, t("noChange"))); }
  else {
    const diff = h("p", { class: "diff" });
    const notes = h("ol", { class: "notes" });
    let at = 0;
    r.changes.forEach((c, i) => {
      diff.append(r.original.slice(at, c.start),
        h("del", { "aria-label": `removed: ${c.before}` }, c.before),
        h("ins", { "aria-label": `added: ${c.after}` }, c.after),
        h("sup", {}, `${i + 1}`));
      notes.append(h("li", {}, `${c.before} → ${c.after}: ${c.why}`));
      at = c.end;
    });
    diff.append(r.original.slice(at));
    box.append(diff, notes);
  }
  for (const flag of r.flags || []) box.append(h("p", { class: "flag" }, `⚑ ${t("flags")}: ${flag.why || flag.note || flag.rule || ""}`));
}

// ---- frames ----------------------------------------------------------------------------------

function onFrame(frame) {
  switch (frame.type) {
    case "subscribed":
      state.messages = frame.state.messages || [];
      state.analysis = frame.state.analysis;
      state.suggestions = frame.state.suggestions;
      render();
      break;
    case "message":
      state.messages.push(frame.message);
      state.messages = state.messages.slice(-50);
      renderMessages();
      break;
    case "analysis":
      state.analysis = frame.analysis;
      render();
      break;
    case "suggestions":
      state.suggestions = frame;
      renderSuggestions();
      break;
    case "rewrite":
      if (frame.seq >= lastSeq) { state.rewrite = frame.result; renderRewrite(); }
      break;
    case "error":
      $("status").textContent = `${frame.code}: ${frame.detail}`;
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
  $("conversation").value = conversation;
  if (socket) socket.subscribe(conversation);
  else {
    socket = new AssistSocket({ conversation, token: q.get("token"), onFrame, onStatus: setStatus });
    socket.connect();
  }
  window.agentAssist = { socket };  // for support staff poking at a live sidebar from the console
}

$("join").addEventListener("submit", (event) => { event.preventDefault(); join($("conversation").value.trim()); });
$("lang").addEventListener("click", () => { toggleLang(); render(); });
$("draft").addEventListener("input", sendDraft);
$("accept").addEventListener("click", () => {
  if (!state.rewrite) return;
  $("draft").value = state.rewrite.rewritten;
  state.rewrite = null;
  renderRewrite();
  $("draft").focus();
});
document.addEventListener("keydown", (event) => {
  if (event.altKey && /^[1-5]$/.test(event.key)) {
    const card = $("suggestions").children[Number(event.key) - 1];
    const items = (state.suggestions && state.suggestions.items) || [];
    if (card && items[Number(event.key) - 1]) { event.preventDefault(); copy(card, items[Number(event.key) - 1]); }
  }
});

document.documentElement.lang = currentLang() === "zh" ? "zh-Hans" : "en";
render();
if (q.get("conversation")) join(q.get("conversation"));
else {
  socket = new AssistSocket({ conversation: null, token: q.get("token"), onFrame, onStatus: setStatus });
  socket.connect();
  window.agentAssist = { socket };
}
