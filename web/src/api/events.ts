// The live events of GET /api/v1/ws/events (docs/http/events.md): one WebSocket per tab, shared by
// every page that listens. It subscribes to the union of the listeners' topics, pings every 20 s,
// and after a drop reconnects (1 s, doubling to 30 s, jittered) with `since` = the last seq it
// saw, so nothing kept by the server is missed; when the server says some events are gone
// (`gap`), each listener's onGap reloads what it shows over the REST API.
// The browser authenticates the socket with the session cookie.

export interface ServerEvent {
  seq: number;
  topic: string;
  at: string;
  event: Record<string, unknown>;
}

export type LinkState = "connecting" | "live" | "offline";

interface Listener {
  topics: string[];
  onEvent: (e: ServerEvent) => void;
  onGap?: (() => void) | undefined;
}

// What EventStream needs of a WebSocket (tests give a fake).
export interface SocketLike {
  send(data: string): void;
  close(): void;
  onopen: (() => void) | null;
  onmessage: ((m: { data: unknown }) => void) | null;
  onclose: (() => void) | null;
}

export function topicMatches(listening: string, topic: string): boolean {
  if (listening === "sensor:*") return topic.toLowerCase().startsWith("sensor:");
  if (listening.startsWith("sensor:")) return listening.toLowerCase() === topic.toLowerCase();
  return listening === topic;
}

export class EventStream {
  private socket: SocketLike | null = null;
  private listeners = new Set<Listener>();
  private stateListeners = new Set<(s: LinkState) => void>();
  private lastSeq: number | null = null;
  private sentTopics = "";
  private opened = false; // the current socket is open (its first subscribe went out)
  private retryMs = 1000;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private pingTimer: ReturnType<typeof setInterval> | null = null;
  state: LinkState = "offline";

  constructor(
    private readonly open: () => SocketLike,
    private readonly random: () => number = Math.random,
  ) {}

  // Listens to `topics` until the returned function is called.
  listen(topics: string[], onEvent: (e: ServerEvent) => void, onGap?: () => void): () => void {
    const l: Listener = { topics, onEvent, onGap };
    this.listeners.add(l);
    if (!this.socket && !this.retryTimer) this.connect();
    else this.sendSubscribe(false);
    return () => {
      this.listeners.delete(l);
      if (this.listeners.size === 0) this.close();
      else this.sendSubscribe(false);
    };
  }

  onState(fn: (s: LinkState) => void): () => void {
    this.stateListeners.add(fn);
    fn(this.state);
    return () => this.stateListeners.delete(fn);
  }

  // Closes the socket and forgets the position (sign-out).
  close(): void {
    this.stopTimers();
    const s = this.socket;
    this.socket = null;
    this.opened = false;
    if (s) {
      s.onclose = null;
      s.close();
    }
    this.lastSeq = null;
    this.sentTopics = "";
    this.setState("offline");
  }

  private topics(): string[] {
    return [...new Set([...this.listeners].flatMap((l) => l.topics))].sort();
  }

  private connect(): void {
    this.retryTimer = null;
    this.setState("connecting");
    const s = this.open();
    this.socket = s;
    this.opened = false;
    s.onopen = () => {
      this.opened = true;
      this.sentTopics = "";
      this.sendSubscribe(true);
      this.pingTimer = setInterval(() => s.send('{"type":"ping"}'), 20_000);
    };
    s.onmessage = (m) => this.receive(m.data);
    s.onclose = () => {
      this.socket = null;
      this.opened = false;
      this.stopTimers();
      this.setState("offline");
      if (this.listeners.size === 0) return;
      const wait = this.retryMs * (0.5 + this.random() / 2);
      this.retryMs = Math.min(this.retryMs * 2, 30_000);
      this.retryTimer = setTimeout(() => this.connect(), wait);
    };
  }

  // Subscribes to the listeners' topics when they changed; `resume` asks for what was missed.
  // Before the socket is open nothing is sent: its open sends the topics of every listener then.
  // (Waiting for "live" instead lost a listener added between the open and the server's answer.)
  private sendSubscribe(resume: boolean): void {
    const topics = this.topics();
    if (!this.socket || !this.opened) return;
    if (!resume && topics.join() === this.sentTopics) return;
    this.sentTopics = topics.join();
    const msg: Record<string, unknown> = { type: "subscribe", topics };
    if (resume && this.lastSeq !== null) msg.since = this.lastSeq;
    this.socket.send(JSON.stringify(msg));
  }

  private receive(data: unknown): void {
    let m: Record<string, unknown>;
    try {
      m = JSON.parse(String(data)) as Record<string, unknown>;
    } catch {
      return;
    }
    if (m.type === "subscribed") {
      this.retryMs = 1000;
      if (this.lastSeq === null && typeof m.seq === "number") this.lastSeq = m.seq;
      this.setState("live");
    } else if (m.type === "event" && typeof m.seq === "number" && typeof m.topic === "string") {
      const e = m as unknown as ServerEvent;
      this.lastSeq = e.seq;
      for (const l of this.listeners) if (l.topics.some((t) => topicMatches(t, e.topic))) l.onEvent(e);
    } else if (m.type === "gap") {
      for (const l of this.listeners) l.onGap?.();
    }
  }

  private setState(s: LinkState): void {
    if (s === this.state) return;
    this.state = s;
    for (const fn of this.stateListeners) fn(s);
  }

  private stopTimers(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.retryTimer = null;
    this.pingTimer = null;
  }
}

// The tab's stream, on this page's origin.
export const events = new EventStream(
  () =>
    new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/api/v1/ws/events`) as unknown as SocketLike,
);
