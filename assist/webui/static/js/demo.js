// The demo: a customer pane and an agent pane feeding one conversation, with the sidebar beside them.
// The sidebar's Insert / Accept fill the agent's reply box (postMessage, this origin only).
import { h, params } from "./dom.js";
import { AssistSocket } from "./socket.js";

const $ = (id) => document.getElementById(id);
const q = params();
const conversation = /^[A-Za-z0-9_.:-]{1,128}$/.test(q.get("conversation") || "")
  ? q.get("conversation") : `demo-${Math.random().toString(36).slice(2, 8)}`;
const token = new URLSearchParams(location.hash.slice(1)).get("token") || q.get("token");
const SAMPLES = [
  "你们这是什么垃圾服务！！！我要投诉到12315，马上给我退款！！",
  "我的包裹怎麼還沒到？都等了一個星期了",
  "I was charged TWICE for my subscription!! Fix it today or I'm filing a chargeback.",
  "How do I change the email on my account? I'm not very good with computers.",
  "好的，谢谢你，问题解决了",
];

$("conv").textContent = conversation;
const sidebar = new URLSearchParams({ conversation, lang: q.get("lang") || "zh", embed: "demo", host: location.origin });
$("sidebar").src = `/?${sidebar}${token ? `#token=${encodeURIComponent(token)}` : ""}`;

async function post(role, text) {
  const headers = { "content-type": "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  $("demo-error").hidden = true;
  try {
    const r = await fetch(`/api/conversations/${encodeURIComponent(conversation)}/messages`,
      { method: "POST", headers, body: JSON.stringify({ role, text }) });
    if (!r.ok) throw new Error(`${r.status}: ${((await r.json().catch(() => ({}))).detail) || r.statusText}`);
  } catch (err) {
    $("demo-error").textContent = `未发送 Not sent — ${err.message}`;
    $("demo-error").hidden = false;
  }
}

const seen = new Set();
function show(message) {
  if (seen.has(message.message_id)) return;  // a resync after a reconnect repeats the window
  seen.add(message.message_id);
  for (const id of ["customer-log", "agent-log"]) {
    const log = $(id);
    log.append(h("li", { class: message.role }, h("span", { class: "who" }, message.role === "customer" ? "客户 Customer" : "坐席 Agent"), message.text));
    log.scrollTop = log.scrollHeight;
  }
}

new AssistSocket({
  conversation, token,
  onFrame: (f) => {
    if (f.type === "message" && f.conversation_id === conversation) show(f.message);
    if (f.type === "subscribed") (f.state.messages || []).forEach(show);
  },
}).connect();

for (const role of ["customer", "agent"]) {
  $(`${role}-form`).addEventListener("submit", (event) => {
    event.preventDefault();
    const input = $(`${role}-input`);
    if (input.value.trim()) post(role, input.value.trim());
    input.value = "";
    input.focus();
  });
}
$("agent-input").addEventListener("keydown", (event) => {  // Enter sends, Shift+Enter is a new line
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) { event.preventDefault(); $("agent-form").requestSubmit(); }
});

for (const text of SAMPLES) {
  $("customer-form").previousElementSibling.append(h("button", { type: "button", class: "secondary", title: text,
    onclick: () => { $("customer-input").value = text; $("customer-input").focus(); } }, text.length > 16 ? `${text.slice(0, 15)}…` : text));
}

window.addEventListener("message", (event) => {
  const data = event.data;
  if (event.origin !== location.origin || event.source !== $("sidebar").contentWindow || !data || data.source !== "agent-assist") return;
  if (data.type === "insert" || data.type === "accept") {
    const box = $("agent-input");
    box.value = data.type === "accept" || !box.value.trim() ? data.text : `${box.value.trimEnd()} ${data.text}`;
  }
});
