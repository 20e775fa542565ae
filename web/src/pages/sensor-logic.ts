// The sensor pages' logic, pure: the list's order, the live events of a `sensor:<name>` topic,
// merging points by time, which read (raw points with levels, or buckets) a range takes, and
// the arrays, bands and markers the chart draws.

export type Level = "undefined" | "ok" | "warning" | "critical";
export const levels: readonly Level[] = ["undefined", "ok", "warning", "critical"];

// A point as the chart keeps it: its time in epoch ms, its value, and its level and percent of
// the baseline when known (a bucket of a series has no level: "undefined", percent null).
export interface LevelPoint {
  t: number;
  value: number;
  level: Level;
  percent: number | null;
}

// Pinned sensors first, then by name (ignoring case, as the server compares names).
export function sortSensors<S extends { name: string; pinned: boolean }>(list: readonly S[]): S[] {
  return [...list].sort(
    (a, b) =>
      Number(b.pinned) - Number(a.pinned) ||
      a.name.localeCompare(b.name, "en", { sensitivity: "base" }) ||
      (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
  );
}

// The list's filters, as the URL's query and as the API's.
export interface SensorFilter {
  pinned: "" | "true" | "false";
  device: string;
}

export function sensorFilterFrom(search: string): SensorFilter {
  const q = new URLSearchParams(search);
  const p = q.get("pinned");
  return { pinned: p === "true" || p === "false" ? p : "", device: q.get("device")?.trim() ?? "" };
}

export function sensorsPath(f: SensorFilter): string {
  const q = new URLSearchParams();
  if (f.pinned) q.set("pinned", f.pinned);
  if (f.device.trim()) q.set("device", f.device.trim());
  const s = q.toString();
  return s ? `/sensors?${s}` : "/sensors";
}

const isLevel = (v: unknown): v is Level => typeof v === "string" && (levels as readonly string[]).includes(v);

// A point of the API ({at, value, level?, percent?}) or of an event; null when malformed.
export function pointFrom(p: unknown): LevelPoint | null {
  if (typeof p !== "object" || p === null) return null;
  const r = p as Record<string, unknown>;
  const t = typeof r.at === "number" ? r.at : typeof r.at === "string" ? Date.parse(r.at) : NaN;
  if (!Number.isFinite(t) || typeof r.value !== "number" || !Number.isFinite(r.value)) return null;
  const level = isLevel(r.level) ? r.level : "undefined";
  const percent = typeof r.percent === "number" && Number.isFinite(r.percent) && level !== "undefined" ? r.percent : null;
  return { t, value: r.value, level, percent };
}

// Points of the API, in time order, malformed ones left out.
export function pointsFrom(list: readonly unknown[]): LevelPoint[] {
  const out: LevelPoint[] = [];
  for (const p of list) {
    const x = pointFrom(p);
    if (x) out.push(x);
  }
  return mergePoints([], out);
}

export type SensorEvent =
  | { kind: "points"; history: boolean; points: LevelPoint[] }
  | { kind: "level"; point: LevelPoint; previous: Level | null };

// The body of an event on `sensor:<name>` (docs/http/events.md), or null for one this console
// does not know (it ignores those).
export function sensorEventFrom(body: Record<string, unknown>): SensorEvent | null {
  if (body.kind === "points" && Array.isArray(body.points)) {
    return { kind: "points", history: body.history === true, points: pointsFrom(body.points) };
  }
  if (body.kind === "level") {
    const point = pointFrom(body);
    if (!point) return null;
    return { kind: "level", point, previous: isLevel(body.previous) ? body.previous : null };
  }
  return null;
}

// `base` and `more` as one list in time order, one point per time: where both have a time,
// the one of `more` (the newer news). Appending points newer than all of `base` costs a copy.
export function mergePoints(base: readonly LevelPoint[], more: readonly LevelPoint[]): LevelPoint[] {
  if (more.length === 0) return base as LevelPoint[];
  const sortedMore = isSorted(more) ? more : [...more].sort((a, b) => a.t - b.t);
  const last = base.length ? base[base.length - 1]!.t : -Infinity;
  if (sortedMore[0]!.t > last && distinct(sortedMore)) return [...base, ...sortedMore];
  const byTime = new Map<number, LevelPoint>();
  for (const p of base) byTime.set(p.t, p);
  for (const p of sortedMore) byTime.set(p.t, p);
  return [...byTime.values()].sort((a, b) => a.t - b.t);
}

function isSorted(ps: readonly LevelPoint[]): boolean {
  for (let i = 1; i < ps.length; i++) if (ps[i]!.t < ps[i - 1]!.t) return false;
  return true;
}

function distinct(sorted: readonly LevelPoint[]): boolean {
  for (let i = 1; i < sorted.length; i++) if (sorted[i]!.t === sorted[i - 1]!.t) return false;
  return true;
}

// The points from `from` on (ms), for a range that live points reach back beyond.
export function since(points: readonly LevelPoint[], from: number): LevelPoint[] {
  let lo = 0;
  let hi = points.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (points[mid]!.t < from) lo = mid + 1;
    else hi = mid;
  }
  return lo === 0 ? (points as LevelPoint[]) : points.slice(lo);
}

// The sensor's level now: that of the newest level event or point, whichever is later.
export function currentLevel(points: readonly LevelPoint[], lastEvent: LevelPoint | null): LevelPoint | null {
  const last = points.length ? points[points.length - 1]! : null;
  if (!last) return lastEvent;
  if (!lastEvent) return last;
  return lastEvent.t > last.t ? lastEvent : last;
}

// Ranges the page offers, up to now.
export const ranges = [
  { key: "6h", label: "Last 6 hours", ms: 6 * 3_600_000 },
  { key: "24h", label: "Last 24 hours", ms: 24 * 3_600_000 },
  { key: "7d", label: "Last 7 days", ms: 7 * 86_400_000 },
  { key: "all", label: "All", ms: null },
] as const;
export type RangeKey = (typeof ranges)[number]["key"];

export function rangeKey(v: string | null): RangeKey {
  return ranges.some((r) => r.key === v) ? (v as RangeKey) : "24h";
}

// The server answers at most this many points with their levels (…/anomalies) or raw (…/series).
export const serverPointCap = 100_000;
// Above this many points a range is drawn from buckets (…/series?step=): fewer bytes and a chart
// that stays quick; levels are then not shown.
export const rawPointBudget = 50_000;
// About how many buckets a bucketed range draws.
export const targetBuckets = 1_000;

export interface Window {
  from: number;
  to: number;
}

export function windowOf(key: RangeKey, now: number): Window {
  const r = ranges.find((x) => x.key === key)!;
  return { from: r.ms === null ? 0 : now - r.ms, to: now };
}

// What a range reads: each point with its level, or buckets of `step` (the API's text, "10m").
export type Plan =
  | { kind: "anomalies"; from: number; to: number }
  | { kind: "series"; from: number; to: number; step: string; stepMs: number; agg: "avg" | "max" };

// Before a long range (7 d, all) the page counts its points by bucket of `countStep(key)` (one
// cheap ?agg=count read); short ranges go for the levels at once.
export function needsCount(key: RangeKey): boolean {
  return key === "7d" || key === "all";
}

export function countStep(key: RangeKey): string {
  return key === "all" ? "1d" : "1h";
}

const steps: [number, string][] = [
  [1_000, "1s"],
  [5_000, "5s"],
  [10_000, "10s"],
  [30_000, "30s"],
  [60_000, "1m"],
  [300_000, "5m"],
  [600_000, "10m"],
  [1_800_000, "30m"],
  [3_600_000, "1h"],
  [3 * 3_600_000, "3h"],
  [6 * 3_600_000, "6h"],
  [12 * 3_600_000, "12h"],
  [86_400_000, "1d"],
  [7 * 86_400_000, "7d"],
  [30 * 86_400_000, "30d"],
  [365 * 86_400_000, "365d"],
];

// The smallest of the round steps that cuts `spanMs` into at most `buckets` buckets.
export function niceStep(spanMs: number, buckets = targetBuckets): { step: string; stepMs: number } {
  for (const [ms, text] of steps) if (spanMs / ms <= buckets) return { step: text, stepMs: ms };
  const last = steps[steps.length - 1]!;
  const n = Math.ceil(spanMs / buckets / last[0]);
  return { step: `${n * 365}d`, stepMs: n * last[0] };
}

export function seriesPlan(w: Window, agg: "avg" | "max" = "avg"): Plan {
  return { kind: "series", from: w.from, to: w.to, agg, ...niceStep(w.to - w.from) };
}

// The plan of a range from its count buckets ({at, value: count}): levels when it holds at most
// `rawPointBudget` points, else buckets over the span that has points (for "all", from the
// first bucket that has any).
export function planFromCounts(w: Window, counts: readonly { at: string; value: number }[], agg: "avg" | "max" = "avg"): Plan {
  const total = counts.reduce((n, b) => n + b.value, 0);
  const first = counts.length ? Date.parse(counts[0]!.at) : NaN;
  const from = Number.isFinite(first) ? Math.max(w.from, first) : w.from;
  if (total <= rawPointBudget) return { kind: "anomalies", from, to: w.to };
  return seriesPlan({ from, to: w.to }, agg);
}

// A problem that says a range holds more points than the server answers at once (422 naming
// `from` or `step`): read buckets instead.
export function tooManyPoints(p: { status: number; errors: { field: string }[]; detail: string }): boolean {
  return p.status === 422 && (p.errors.some((e) => e.field === "from" || e.field === "step") || /100 000|too many/i.test(p.detail));
}

// uPlot's aligned data: times in seconds, values, percents (null: none, a gap in the line).
export function chartData(points: readonly LevelPoint[]): [number[], (number | null)[], (number | null)[]] {
  const xs = new Array<number>(points.length);
  const values = new Array<number | null>(points.length);
  const percents = new Array<number | null>(points.length);
  points.forEach((p, i) => {
    xs[i] = p.t / 1000;
    values[i] = p.value;
    percents[i] = p.percent;
  });
  return [xs, values, percents];
}

export interface Band {
  level: "warning" | "critical";
  from: number; // percent
  to: number; // percent; the top of the axis for critical
}

// The warning band (warn_percent to critical_percent) and the critical one (from
// critical_percent to the top of the percent axis), for the percent axis from 0 to `top`.
export function thresholdBands(d: { warn_percent: number; critical_percent: number }, top: number): Band[] {
  const warn = Math.min(d.warn_percent, d.critical_percent);
  return [
    { level: "warning" as const, from: warn, to: Math.min(d.critical_percent, top) },
    { level: "critical" as const, from: d.critical_percent, to: top },
  ].filter((b) => b.to > b.from);
}

// The percent axis: from 0 to a little above the larger of the highest percent and the
// critical threshold, so both bands always show, but at most 3 × critical: a leak at 4 000 %
// would flatten everything else (the line leaves the top; the badge and legend give its value).
export function percentTop(points: readonly LevelPoint[], d: { critical_percent: number }): number {
  let max = 0;
  for (const p of points) if (p.percent !== null && p.percent > max) max = p.percent;
  return Math.ceil(Math.min(Math.max(max, d.critical_percent) * 1.15, d.critical_percent * 3));
}

export interface Marker {
  t: number; // ms
  id: number;
  severity: string;
  state: string;
}

// Detector alarms of `sensor` that opened within [from, to], oldest first. The list is filtered
// here too, in case the server ignores ?sensor= (older servers).
export function alarmMarkers(
  alarms: readonly { id: number; at: string; source: string; sensor?: string | null; severity: string; state: string }[],
  sensor: string,
  w: Window,
): Marker[] {
  const name = sensor.toLowerCase();
  return alarms
    .filter((a) => a.source === "detector" && (a.sensor ?? "").toLowerCase() === name)
    .map((a) => ({ t: Date.parse(a.at), id: a.id, severity: a.severity, state: a.state }))
    .filter((m) => Number.isFinite(m.t) && m.t >= w.from && m.t <= w.to)
    .sort((a, b) => a.t - b.t);
}

// Which of the chart's levels a marker of an alarm's severity is drawn as.
export function markerLevel(severity: string): "warning" | "critical" {
  return severity === "critical" || severity === "major" ? "critical" : "warning";
}

// The detector's settings, as the admin's form has them, to the PATCH body; errors by field.
export interface DetectorForm {
  window: string;
  exclusion: string;
  warn_percent: string;
  critical_percent: string;
  normalize: boolean;
}

export function detectorBody(
  f: DetectorForm,
): { body: { window: number; exclusion: number; warn_percent: number; critical_percent: number; normalize: boolean } } | { errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  const int = (k: "window" | "exclusion") => {
    const n = Number(f[k].trim());
    if (!f[k].trim() || !Number.isInteger(n) || n < 0) errors[`detector.${k}`] = "A whole number";
    return n;
  };
  const num = (k: "warn_percent" | "critical_percent") => {
    const n = Number(f[k].trim());
    if (!f[k].trim() || !Number.isFinite(n) || n <= 0) errors[`detector.${k}`] = "A number above 0";
    return n;
  };
  const body = {
    window: int("window"),
    exclusion: int("exclusion"),
    warn_percent: num("warn_percent"),
    critical_percent: num("critical_percent"),
    normalize: f.normalize,
  };
  if (!errors["detector.warn_percent"] && !errors["detector.critical_percent"] && body.critical_percent < body.warn_percent) {
    errors["detector.critical_percent"] = "At least the warning percent";
  }
  return Object.keys(errors).length ? { errors } : { body };
}

// How a number reads in the page: up to 4 significant digits past the point.
export function formatValue(v: number | null, unit = ""): string {
  if (v === null) return "—";
  const text = Math.abs(v) >= 1000 ? v.toFixed(0) : String(Number(v.toPrecision(4)));
  return unit ? `${text} ${unit}` : text;
}
