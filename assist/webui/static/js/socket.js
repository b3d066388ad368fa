// A websocket to /ws (protocol v1, docs/protocol.md): authenticates when the server asks, subscribes, keeps
// the line alive with pings, and after a drop reconnects with backoff and subscribes again (the `subscribed`
// frame carries the conversation's state, so the page resyncs from it).
const PING_EVERY = 20000;     // ms; proxies drop idle sockets after 30–60 s
const DEAD_AFTER = 50000;     // ms without any frame: treat the socket as gone
const MAX_DELAY = 10000;

export class AssistSocket {
  constructor({ conversation = null, token = null, onFrame = () => {}, onStatus = () => {}, onReady = () => {} }) {
    this.conversation = conversation;
    this.token = token;
    this.onFrame = onFrame;
    this.onStatus = onStatus;
    this.onReady = onReady;
    this.delay = 500;
    this.closed = false;
    this.ready = false;
    this.seq = 0;
    this.outbox = [];          // feedback sent while offline goes out after the next subscribe
    this.timer = null;
    this.lastFrame = Date.now();
    window.addEventListener("online", () => { if (!this.ready && !this.closed) this.reconnectNow(); });
  }

  url() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    return `${scheme}//${location.host}/ws`;
  }

  connect() {
    clearTimeout(this.timer);
    this.ready = false;
    this.onStatus("connecting");
    const ws = new WebSocket(this.url());
    this.ws = ws;
    ws.onmessage = (event) => {
      if (ws !== this.ws) return;
      this.lastFrame = Date.now();
      let frame;
      try { frame = JSON.parse(event.data); } catch { return; }
      if (frame.type === "hello") {
        if (frame.auth !== "required") this.becomeReady();
        else if (this.token) this.send({ type: "auth", token: this.token }, true);
        else this.onStatus("needToken");
      } else if (frame.type === "authenticated") {
        this.becomeReady();
      }
      this.onFrame(frame);
    };
    ws.onclose = (event) => {
      if (ws !== this.ws) return;
      this.ready = false;
      clearInterval(this.pinger);
      if (this.closed) return;
      if (event.code === 1008) { this.onStatus("unauthorized"); return; }       // bad token: ask, don't retry
      if (event.code === 1002) { this.onStatus("unsupported"); return; }
      this.onStatus("disconnected");
      const wait = this.delay * (0.8 + Math.random() * 0.4);
      this.delay = Math.min(this.delay * 2, MAX_DELAY);
      this.timer = setTimeout(() => this.connect(), wait);
    };
  }

  becomeReady() {
    this.ready = true;
    this.delay = 500;
    this.onStatus("connected");
    clearInterval(this.pinger);
    this.pinger = setInterval(() => {
      if (Date.now() - this.lastFrame > DEAD_AFTER) { this.ws.close(); return; }
      this.send({ type: "ping" });
    }, PING_EVERY);
    if (this.conversation) this.send({ type: "subscribe", conversation_id: this.conversation });
    const queued = this.outbox.splice(0);
    for (const frame of queued) this.send(frame);
    this.onReady();
  }

  reconnectNow() {
    this.delay = 500;
    if (this.ws && this.ws.readyState <= WebSocket.OPEN) this.ws.close();
    else this.connect();
  }

  /** Give a token (from a sign-in form) and authenticate with it. */
  setToken(token) {
    this.token = token;
    if (this.ws && this.ws.readyState === WebSocket.OPEN && !this.ready) this.send({ type: "auth", token }, true);
    else this.connect();
  }

  send(frame, beforeReady = false) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN && (this.ready || beforeReady)) {
      this.ws.send(JSON.stringify(frame));
      return true;
    }
    return false;
  }

  subscribe(conversation) {
    if (this.conversation && this.conversation !== conversation) {
      this.send({ type: "unsubscribe", conversation_id: this.conversation });
    }
    this.conversation = conversation;
    this.send({ type: "subscribe", conversation_id: conversation });
  }

  draft(text) {
    this.seq += 1;
    this.send({ type: "draft", conversation_id: this.conversation || "draft", text, seq: this.seq });
    return this.seq;
  }

  /** Tell the service an agent used or dismissed a suggestion; `messageId` is the customer message it answered. */
  feedback(phraseId, action, messageId = null) {
    const frame = { type: "feedback", conversation_id: this.conversation, phrase_id: phraseId, action };
    if (messageId) frame.message_id = messageId;
    if (!this.send(frame)) this.outbox.push(frame);
  }

  close() {
    this.closed = true;
    clearInterval(this.pinger);
    clearTimeout(this.timer);
    if (this.ws) this.ws.close();
  }
}
