// Agent Assist widget: one <script> tag mounts the sidebar (an iframe) into any page.
//   <script src="https://assist.example.com/widget.js" data-conversation="T-1001" data-token="aa_…"></script>
// Options (data-*): conversation, token, lang (zh|en), position (right|left|inline), width (px), height (px),
// open ("false" starts collapsed), mode="chatwoot" to follow the conversation a Chatwoot dashboard app is
// opened on. The agent's choices come back to the host page as DOM events on window:
// "agentassist:insert", "agentassist:accept", "agentassist:copy" with detail {text, conversation}, and the
// pre-send guard's verdict on every draft as "agentassist:guard" with detail {allowed, hits, text, conversation}
// (allowed false: a `block` rule hit, stop the send). AgentAssist.check(text) has the sidebar check the host's
// own reply box; AgentAssist.lastCheck holds the latest verdict. docs/integrations.md, "Stopping a send".
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script) return;
  var origin = new URL(script.src, location.href).origin;
  var opts = script.dataset;
  var position = opts.position || "right";
  var fixed = position !== "inline";
  var width = /^\d+$/.test(opts.width || "") ? opts.width : "380";
  var height = /^\d+$/.test(opts.height || "") ? opts.height : "640";
  var bound = null;
  var loaded = false;

  var frame = document.createElement("iframe");
  frame.title = "Agent Assist";
  frame.id = "agent-assist-frame";
  frame.setAttribute("data-assist-widget", "");
  frame.setAttribute("allow", "clipboard-write");
  frame.style.cssText = "border:1px solid #d5dbe5;background:#f4f6f9;display:block;border-radius:8px;" +
    "width:" + width + "px;max-width:100%;height:" + height + "px;";
  frame.addEventListener("load", function () { loaded = true; });

  var box = frame;
  var toggle = null;
  if (fixed) {
    // A fixed panel in a corner, with a button that collapses it so it never hides the helpdesk for good.
    box = document.createElement("div");
    box.setAttribute("data-assist-widget-box", "");
    box.style.cssText = "position:fixed;bottom:16px;z-index:2147483000;display:flex;flex-direction:column;" +
      "align-items:" + (position === "left" ? "flex-start" : "flex-end") + ";gap:6px;" +
      (position === "left" ? "left:16px;" : "right:16px;");
    frame.style.boxShadow = "0 4px 24px rgba(0,0,0,.18)";
    frame.style.maxHeight = "calc(100vh - 72px)";
    toggle = document.createElement("button");
    toggle.type = "button";
    toggle.setAttribute("aria-controls", frame.id);
    toggle.style.cssText = "font:14px system-ui,sans-serif;border:1px solid #1f4fbf;background:#1f4fbf;color:#fff;" +
      "border-radius:18px;padding:6px 14px;cursor:pointer;box-shadow:0 2px 8px rgba(0,0,0,.2);";
    toggle.addEventListener("click", function () { show(frame.hidden); });
    box.appendChild(frame);
    box.appendChild(toggle);
  }

  function show(open) {
    frame.hidden = !open;
    frame.style.display = open ? "block" : "none";  // the inline style would win over [hidden]
    if (toggle) {
      toggle.setAttribute("aria-expanded", String(open));
      toggle.textContent = open ? "Agent Assist ▾" : "Agent Assist ▴";
      toggle.setAttribute("aria-label", open ? "Hide Agent Assist" : "Show Agent Assist");
    }
  }

  function bind(conversation) {
    if (conversation && conversation === bound) return;
    if (conversation && bound && loaded && frame.contentWindow) {  // move the open sidebar, no reload
      bound = conversation;
      frame.contentWindow.postMessage({ source: "agent-assist-host", type: "bind", conversation: conversation }, origin);
      return;
    }
    bound = conversation;
    loaded = false;
    var q = new URLSearchParams();
    if (conversation) q.set("conversation", conversation);
    if (opts.lang) q.set("lang", opts.lang);
    q.set("embed", "widget");
    q.set("host", location.origin);
    // The token rides in the fragment: never sent to a server, never in a request log.
    frame.src = origin + "/?" + q.toString() + (opts.token ? "#token=" + encodeURIComponent(opts.token) : "");
  }

  // Chatwoot dashboard apps receive the conversation from the Chatwoot window as a postMessage ("appContext").
  function chatwoot(event) {
    if (event.source !== window.parent) return;
    var data = event.data;
    if (typeof data === "string") { try { data = JSON.parse(data); } catch (e) { return; } }
    if (!data || data.event !== "appContext" || !data.data || !data.data.conversation) return;
    var conv = data.data.conversation;
    var account = conv.account_id != null ? conv.account_id : (data.data.account && data.data.account.id);
    if (conv.id == null) return;
    bind(account != null ? "chatwoot:" + account + ":" + conv.id : "chatwoot:" + conv.id);
  }

  // What the agent picks in the sidebar, handed to the host page (to put into its reply box, say).
  var api = null;
  window.addEventListener("message", function (event) {
    var data = event.data;
    if (event.source !== frame.contentWindow || event.origin !== origin || !data || data.source !== "agent-assist") return;
    if (data.type === "guard" && typeof data.text === "string") {
      var verdict = { allowed: data.allowed !== false, hits: Array.isArray(data.hits) ? data.hits : [],
        text: data.text, conversation: data.conversation };
      if (api) api.lastCheck = verdict;
      window.dispatchEvent(new CustomEvent("agentassist:guard", { detail: verdict }));
      return;
    }
    if (["insert", "accept", "copy"].indexOf(data.type) < 0 || typeof data.text !== "string") return;
    window.dispatchEvent(new CustomEvent("agentassist:" + data.type, { detail: { text: data.text, conversation: data.conversation } }));
  });

  if (opts.mode === "chatwoot") {
    window.addEventListener("message", chatwoot);
    if (window.parent !== window) window.parent.postMessage("chatwoot-dashboard-app:fetch-info", "*");
    bind(null);
  } else {
    bind(opts.conversation || null);
  }
  show(opts.open !== "false");
  if (!fixed) script.parentNode.insertBefore(frame, script.nextSibling);
  else if (document.body) document.body.appendChild(box);
  else document.addEventListener("DOMContentLoaded", function () { document.body.appendChild(box); });
  api = window.AgentAssist = {
    frame: frame, bind: bind, lastCheck: null,
    open: function () { show(true); }, close: function () { show(false); },
    // Check the host's own reply box: the verdict comes back as an "agentassist:guard" event.
    check: function (text) {
      if (typeof text !== "string" || !loaded || !frame.contentWindow) return false;
      frame.contentWindow.postMessage({ source: "agent-assist-host", type: "draft", text: text }, origin);
      return true;
    },
  };
})();
