// The demo: a customer pane and an agent pane feeding one conversation, with the sidebar beside them.
import { h, params } from "./dom.js";
import { AssistSocket } from "./socket.js";

const q = params();
const conversation = q.get("conversation") || `demo-${Math.random().toString(36).slice(2, 8)}`;
const token = q.get("token");
document.getElementById("conv").textContent = conversation;
const sidebar = new URLSearchParams({ conversation, lang: q.get("lang") || "zh" });
if (token) sidebar.set("token", token);
document.getElementById("sidebar").src = `/?${sidebar}`;

async function post(role, text) {
  const headers = { "content-type": "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  const r = await fetch(`/api/conversations/${encodeURIComponent(conversation)}/messages`,
    { method: "POST", headers, body: JSON.stringify({ role, text }) });
  if (!r.ok) alert(`${r.status}: ${(await r.json()).detail}`);
}

function show(message) {
  for (const id of ["customer-log", "agent-log"]) {
    const log = document.getElementById(id);
    log.append(h("li", { class: message.role }, message.text));
    log.scrollTop = log.scrollHeight;
  }
}

new AssistSocket({
  conversation, token,
  onFrame: (f) => {
    if (f.type === "message") show(f.message);
    if (f.type === "subscribed") (f.state.messages || []).forEach(show);
  },
}).connect();

for (const role of ["customer", "agent"]) {
  document.getElementById(`${role}-form`).addEventListener("submit", (event) => {
    event.preventDefault();
    const input = document.getElementById(`${role}-input`);
    if (input.value.trim()) post(role, input.value.trim());
    input.value = "";
  });
}
