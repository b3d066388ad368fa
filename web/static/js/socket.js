// A websocket to /ws that authenticates, subscribes, and reconnects with backoff (then resyncs).
export class AssistSocket {
  constructor({ conversation, token, onFrame, onStatus }) {
    this.conversation = conversation;
    this.token = token;
    this.onFrame = onFrame;
    this.onStatus = onStatus || (() => {});
    this.delay = 500;
    this.closed = false;
    this.seq = 0;
  }

  url() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    return `${scheme}//${location.host}/ws`;
  }

  connect() {
    this.onStatus("connecting");
    const ws = new WebSocket(this.url());
    this.ws = ws;
    ws.onmessage = (event) => {
      let frame;
      try { frame = JSON.parse(event.data); } catch { return; }
      if (frame.type === "hello") {
        if (frame.auth === "required" && this.token) this.send({ type: "auth", token: this.token });
        if (this.conversation) this.send({ type: "subscribe", conversation_id: this.conversation });
        this.delay = 500;
        this.onStatus("connected");
      }
      this.onFrame(frame);
    };
    ws.onclose = () => {
      if (this.closed) return;
      this.onStatus("disconnected");
      setTimeout(() => this.connect(), this.delay);
      this.delay = Math.min(this.delay * 2, 10000);
    };
  }

  send(frame) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(frame));
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

  feedback(phraseId, action) {
    this.send({ type: "feedback", conversation_id: this.conversation, phrase_id: phraseId, action });
  }

  close() {
    this.closed = true;
    if (this.ws) this.ws.close();
  }
}
