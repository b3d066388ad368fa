// Agent Assist widget: one <script> tag mounts the sidebar (an iframe) into any page.
//   <script src="https://assist.example.com/widget.js" data-conversation="T-1001" data-token="aa_…"></script>
// Options (data-*): conversation, token, lang (zh|en), position (right|left|inline), width (px), height (px),
// mode="chatwoot" to follow the conversation a Chatwoot dashboard app is opened on.
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script) return;
  var origin = new URL(script.src, location.href).origin;
  var opts = script.dataset;
  var frame = document.createElement("iframe");
  frame.title = "Agent Assist";
  frame.setAttribute("data-assist-widget", "");
  frame.style.border = "1px solid #d8dde6";
  frame.style.background = "#f6f7f9";
  frame.style.width = (opts.width || "380") + "px";
  frame.style.height = (opts.height || "640") + "px";
  if ((opts.position || "right") !== "inline") {
    frame.style.position = "fixed";
    frame.style.bottom = "16px";
    frame.style[opts.position === "left" ? "left" : "right"] = "16px";
    frame.style.zIndex = "2147483000";
    frame.style.borderRadius = "8px";
    frame.style.boxShadow = "0 4px 24px rgba(0,0,0,.15)";
  }

  function bind(conversation) {
    var q = new URLSearchParams();
    if (conversation) q.set("conversation", conversation);
    if (opts.token) q.set("token", opts.token);
    if (opts.lang) q.set("lang", opts.lang);
    frame.src = origin + "/?" + q.toString();
  }

  // Chatwoot dashboard apps receive the conversation as a postMessage (event "appContext").
  function chatwoot(event) {
    var data = event.data;
    if (typeof data === "string") { try { data = JSON.parse(data); } catch (e) { return; } }
    if (!data || data.event !== "appContext" || !data.data || !data.data.conversation) return;
    var conv = data.data.conversation;
    var account = conv.account_id != null ? conv.account_id : (data.data.account && data.data.account.id);
    bind(account != null ? "chatwoot:" + account + ":" + conv.id : "chatwoot:" + conv.id);
  }

  if (opts.mode === "chatwoot") {
    window.addEventListener("message", chatwoot);
    if (window.parent !== window) window.parent.postMessage("chatwoot-dashboard-app:fetch-info", "*");
    bind(null);
  } else {
    bind(opts.conversation || null);
  }
  (script.parentNode && opts.position === "inline" ? script.parentNode : document.body).appendChild(frame);
  window.AgentAssist = { frame: frame, bind: bind };
})();
