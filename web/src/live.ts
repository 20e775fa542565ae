// Pages that show changing things (devices, rollouts, alarms) stay current through the tab's one
// events WebSocket (api/events.ts): useEvents listens while the page is shown; useThrottled turns
// a burst of events into at most one reload per interval (a rollout to 10 000 devices reports
// tens of thousands of times).
import { useEffect, useMemo, useRef } from "preact/hooks";
import { type ServerEvent, events } from "./api/events";

// Calls onEvent for each event on `topics` (and onGap when some were lost: reload then) while
// the calling component is mounted. The latest callbacks are used; changing topics resubscribes.
export function useEvents(topics: string[], onEvent: (e: ServerEvent) => void, onGap?: () => void): void {
  const handlers = useRef({ onEvent, onGap });
  handlers.current = { onEvent, onGap };
  const key = topics.join("\n");
  useEffect(() => {
    if (!key) return undefined; // nothing to listen to
    return events.listen(
      key.split("\n"),
      (e) => handlers.current.onEvent(e),
      () => handlers.current.onGap?.(),
    );
  }, [key]);
}

// A function that runs fn at most once per `ms`: the first call runs it after `ms`, calls in
// between are folded into that run. Pending runs are dropped when the component goes.
export function throttle(fn: () => void, ms: number): { call: () => void; cancel: () => void } {
  let timer: ReturnType<typeof setTimeout> | null = null;
  return {
    call: () => {
      if (timer) return;
      timer = setTimeout(() => {
        timer = null;
        fn();
      }, ms);
    },
    cancel: () => {
      if (timer) clearTimeout(timer);
      timer = null;
    },
  };
}

export function useThrottled(fn: () => void, ms = 300): () => void {
  const latest = useRef(fn);
  latest.current = fn;
  const t = useMemo(() => throttle(() => latest.current(), ms), [ms]);
  useEffect(() => t.cancel, [t]);
  return t.call;
}
