// A record's signal viewer: pick a channel (kept in the URL), and it reads the range shown from
// GET /api/v1/records/{id}/signals/{channel} as about one bucket a pixel of the plot (the server
// answers each bucket's minimum and maximum, so a zoomed-out plot shows every spike); zoom (drag a
// range on the plot, buttons, + and −) and pan (buttons, shift-drag, the arrow keys) read the new
// range, debounced, and an answer to a range no longer wanted is dropped. The chart (uPlot) is
// loaded on its own, with the first viewer shown.
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { type SignalRange, type SleepRecord, api } from "../api/client";
import type { Problem } from "../api/problem";
import { ProblemView, useLazyComponent } from "../components/ui";
import { navigate } from "../router";
import {
  type Range,
  channelBounds,
  dragRange,
  envelopeColumns,
  formatSpan,
  maxPointsFor,
  minSpanMs,
  panRange,
  sameRange,
  selectRange,
  stepText,
  zoomRange,
} from "./record-logic";

// The chart's module (uPlot), loaded with the first viewer shown.
const loadChart = () => import("./SignalChart");

type Answer = { state: "loading" } | { state: "error"; problem: Problem } | { state: "ok"; data: SignalRange; range: Range };

const debounceMs = 150;
const clock = (t: number, seconds: boolean) =>
  new Date(t).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", ...(seconds ? { second: "2-digit" } : {}) });

export function SignalViewer({ record, search }: { record: SleepRecord; search: string }) {
  const wanted = new URLSearchParams(search).get("channel");
  const channel = record.channels.find((c) => c.name === wanted) ?? record.channels[0]!;
  const bounds = useMemo(() => channelBounds(record.start_time, channel.duration_s), [record.start_time, channel.duration_s]);
  const [range, setRange] = useState<Range>(bounds);
  useEffect(() => setRange(bounds), [bounds.from, bounds.to, channel.name]);
  const Chart = useLazyComponent(loadChart);

  // The plot's width in pixels (by 50s, so a small resize does not read again).
  const box = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(0);
  useEffect(() => {
    const el = box.current;
    if (!el) return undefined;
    const measure = () => setWidth(Math.max(50, Math.round(el.clientWidth / 50) * 50));
    measure();
    const o = new ResizeObserver(measure);
    o.observe(el);
    return () => o.disconnect();
  }, []);

  // Read the range shown, a moment after it last changed; only the latest request's answer counts.
  const [answer, setAnswer] = useState<Answer>({ state: "loading" });
  const [pending, setPending] = useState(false);
  const [round, setRound] = useState(0); // "Try again"
  const latest = useRef(0);
  useEffect(() => {
    if (!width) return undefined;
    const mine = ++latest.current;
    setPending(true);
    const want = range;
    const timer = setTimeout(async () => {
      const r = await api.get("/api/v1/records/{id}/signals/{channel}", {
        path: { id: String(record.id), channel: channel.name },
        query: { from: String(want.from), to: String(want.to), max_points: maxPointsFor(width) },
      });
      if (mine !== latest.current) return; // a newer range was asked for meanwhile
      setPending(false);
      setAnswer(r.ok ? { state: "ok", data: r.data, range: want } : { state: "error", problem: r.problem });
    }, debounceMs);
    return () => clearTimeout(timer);
  }, [record.id, channel.name, range.from, range.to, width, round]);

  const shown = answer.state === "ok" ? answer.range : range;
  const whole = sameRange(range, bounds);
  const move = (r: Range) => setRange((old) => (sameRange(old, r) ? old : r));
  const zoomIn = () => move(zoomRange(range, 2, bounds));
  const zoomOut = () => move(zoomRange(range, 0.5, bounds));
  const pan = (fraction: number) => move(panRange(range, fraction, bounds));
  const onKey = (e: KeyboardEvent) => {
    const act: Record<string, () => void> = {
      ArrowLeft: () => pan(e.shiftKey ? -1 : -0.25),
      ArrowRight: () => pan(e.shiftKey ? 1 : 0.25),
      "+": zoomIn,
      "=": zoomIn,
      "-": zoomOut,
      Home: () => move(bounds),
    };
    const f = act[e.key];
    if (!f) return;
    e.preventDefault();
    f();
  };
  const pick = (name: string) => {
    const q = new URLSearchParams(search);
    q.set("channel", name);
    navigate(`${location.pathname}?${q.toString()}`);
  };

  const seconds = shown.to - shown.from < 10 * 60_000;
  const data = answer.state === "ok" ? answer.data : null;
  return (
    <section aria-labelledby="signal-heading">
      <h2 id="signal-heading">Signal</h2>
      <form class="inline-form" onSubmit={(e) => e.preventDefault()} aria-label="Signal viewer">
        <div class="field">
          <label for="field-channel">Channel</label>
          <select id="field-channel" value={channel.name} onChange={(e) => pick(e.currentTarget.value)}>
            {record.channels.map((c) => (
              <option key={c.index} value={c.name}>
                {c.name} ({c.modality}, {c.fs} Hz)
              </option>
            ))}
          </select>
        </div>
        <div class="signal-buttons" role="group" aria-label="Zoom and pan">
          <button type="button" onClick={zoomIn} disabled={range.to - range.from <= minSpanMs}>
            Zoom in
          </button>
          <button type="button" onClick={zoomOut} disabled={whole}>
            Zoom out
          </button>
          <button type="button" onClick={() => pan(-0.5)} disabled={range.from <= bounds.from}>
            ← Earlier
          </button>
          <button type="button" onClick={() => pan(0.5)} disabled={range.to >= bounds.to}>
            Later →
          </button>
          <button type="button" onClick={() => move(bounds)} disabled={whole}>
            Whole night
          </button>
        </div>
      </form>
      <p class="signal-status" role="status" aria-live="polite">
        {data ? (
          <>
            {data.channel.name}, {clock(shown.from, seconds)} to {clock(shown.to, seconds)} ({formatSpan(shown.to - shown.from)}
            {sameRange(shown, bounds) ? ", the whole night" : ""}):{" "}
            <strong class="signal-step">{stepText(data.step)}</strong>, {data.points.toLocaleString()} points of{" "}
            {data.samples.toLocaleString()} samples
            {data.step > 1 ? "; the band is each point's minimum to maximum" : ""}.
          </>
        ) : (
          answer.state === "loading" && "Loading the signal…"
        )}
        {pending && data ? " Loading the new range…" : ""}
      </p>
      {answer.state === "error" && <ProblemView problem={answer.problem} retry={() => setRound((n) => n + 1)} />}
      <div class="signal-plot" ref={box} tabIndex={0} role="group" aria-label={`Signal plot of ${channel.name}`}
        aria-describedby="signal-keys" onKeyDown={onKey}>
        {data && Chart ? (
          <Chart
            columns={envelopeColumns(data)}
            envelope={data.step > 1}
            unit={data.channel.unit}
            range={shown}
            description={describeSignal(data.channel.name, data.channel.unit, data, seconds)}
            onSelect={(left, right, w) => move(selectRange(shown, left, right, w, bounds))}
            onDrag={(dx, w) => move(dragRange(shown, dx, w, bounds))}
          />
        ) : (
          data && <p aria-busy="true">Loading the chart…</p>
        )}
      </div>
      <p class="hint" id="signal-keys">
        Drag across the plot to zoom to that stretch, shift-drag to move it; with the plot focused, ← and → move, + and −
        zoom, Home shows the whole night.
      </p>
    </section>
  );
}

// The plot's text alternative: what it shows and the values' extent.
function describeSignal(name: string, unit: string, d: SignalRange, seconds: boolean): string {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of d.min) if (v !== null && v < lo) lo = v;
  for (const v of d.max) if (v !== null && v > hi) hi = v;
  const first = d.at_ms[0];
  const last = d.at_ms[d.at_ms.length - 1];
  const when = first !== undefined && last !== undefined ? ` from ${clock(first, seconds)} to ${clock(last, seconds)}` : "";
  const extent = Number.isFinite(lo) ? `, values from ${lo} to ${hi}${unit ? ` ${unit}` : ""}` : ", no values";
  const what = d.step > 1 ? `the minimum and maximum of each ${d.step} samples` : "every sample";
  return `Signal ${name}${when}: ${what}, ${d.points} points${extent}.`;
}
