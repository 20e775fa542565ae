import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { EventStream, type ServerEvent, type SocketLike, topicMatches } from "./events";

class FakeSocket implements SocketLike {
  sent: Record<string, unknown>[] = [];
  closed = false;
  onopen: (() => void) | null = null;
  onmessage: ((m: { data: unknown }) => void) | null = null;
  onclose: (() => void) | null = null;
  send(data: string) {
    this.sent.push(JSON.parse(data));
  }
  close() {
    this.closed = true;
  }
  serverSays(m: object) {
    this.onmessage?.({ data: JSON.stringify(m) });
  }
}

let sockets: FakeSocket[];
const stream = () =>
  new EventStream(
    () => {
      const s = new FakeSocket();
      sockets.push(s);
      return s;
    },
    () => 1, // no jitter: waits are exactly 1 s, 2 s, 4 s …
  );
const event = (seq: number, topic: string): object => ({ type: "event", seq, topic, at: "", event: { kind: "x" } });

beforeEach(() => {
  sockets = [];
  vi.useFakeTimers();
});
afterEach(() => vi.useRealTimers());

describe("EventStream", () => {
  it("subscribes to the listeners' topics and hands each event to those listening", () => {
    const es = stream();
    const alarms: ServerEvent[] = [];
    const sensors: ServerEvent[] = [];
    const states: string[] = [];
    es.onState((s) => states.push(s));
    es.listen(["alarms"], (e) => alarms.push(e));
    es.listen(["sensor:*", "alarms"], (e) => sensors.push(e));
    expect(sockets).toHaveLength(1);
    const s = sockets[0]!;
    s.onopen?.();
    expect(s.sent).toEqual([{ type: "subscribe", topics: ["alarms", "sensor:*"] }]);
    s.serverSays({ type: "subscribed", topics: ["alarms", "sensor:*"], seq: 10 });
    s.serverSays(event(11, "alarms"));
    s.serverSays(event(12, "sensor:Tank-1"));
    s.serverSays(event(13, "devices"));
    expect(alarms.map((e) => e.seq)).toEqual([11]);
    expect(sensors.map((e) => e.seq)).toEqual([11, 12]);
    expect(states).toEqual(["offline", "connecting", "live"]);
  });

  it("reconnects after a drop with since = the last seq, backing off", () => {
    const es = stream();
    const gaps: number[] = [];
    es.listen(["alarms"], () => {}, () => gaps.push(1));
    sockets[0]!.onopen?.();
    sockets[0]!.serverSays({ type: "subscribed", seq: 10 });
    sockets[0]!.serverSays(event(11, "alarms"));
    sockets[0]!.onclose?.();
    expect(es.state).toBe("offline");
    vi.advanceTimersByTime(999);
    expect(sockets).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(sockets).toHaveLength(2);
    sockets[1]!.onopen?.();
    expect(sockets[1]!.sent).toEqual([{ type: "subscribe", topics: ["alarms"], since: 11 }]);
    sockets[1]!.onclose?.(); // refused again: the next wait doubles
    vi.advanceTimersByTime(1999);
    expect(sockets).toHaveLength(2);
    vi.advanceTimersByTime(1);
    expect(sockets).toHaveLength(3);
    sockets[2]!.onopen?.();
    sockets[2]!.serverSays({ type: "gap", from: 12, to: 40 });
    expect(gaps).toEqual([1]);
  });

  it("a listener added after the open but before the server's answer is subscribed too", () => {
    const es = stream();
    es.listen(["system"], () => {});
    const s = sockets[0]!;
    es.listen(["alarms"], () => {}); // not open yet: goes out with the open
    s.onopen?.();
    es.listen(["sensor:alpha"], () => {}); // open, not yet "subscribed"
    expect(s.sent).toEqual([
      { type: "subscribe", topics: ["alarms", "system"] },
      { type: "subscribe", topics: ["alarms", "sensor:alpha", "system"] },
    ]);
    s.serverSays({ type: "subscribed", seq: 3 });
    expect(es.state).toBe("live");
  });

  it("pings while open and closes when the last listener goes", () => {
    const es = stream();
    const stop = es.listen(["system"], () => {});
    const s = sockets[0]!;
    s.onopen?.();
    vi.advanceTimersByTime(20_000);
    expect(s.sent.at(-1)).toEqual({ type: "ping" });
    stop();
    expect(s.closed).toBe(true);
    vi.advanceTimersByTime(60_000);
    expect(sockets).toHaveLength(1); // no reconnect, no more pings
    expect(s.sent.filter((m) => m.type === "ping")).toHaveLength(1);
  });
});

describe("topicMatches", () => {
  it("matches sensors ignoring case, and sensor:* every sensor", () => {
    expect(topicMatches("sensor:tank-1", "sensor:Tank-1")).toBe(true);
    expect(topicMatches("sensor:*", "sensor:x")).toBe(true);
    expect(topicMatches("sensor:*", "alarms")).toBe(false);
    expect(topicMatches("alarms", "Alarms")).toBe(false);
  });
});
