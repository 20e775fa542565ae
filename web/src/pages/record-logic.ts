// The records pages' pure parts: the list's filters as the URL's query and the API's, how
// durations and scores read, the hypnogram as a step series and in words, and the signal
// viewer's range arithmetic (zoom and pan clamped to the record) and what a downsampled answer
// says about itself.
import { anyFilterSet, filterSearch, filtersIn, setFilters } from "./url-filters";

export const recordFilterNames = ["user", "device", "from", "to", "min_score", "max_score"] as const;
export type RecordFilterName = (typeof recordFilterNames)[number];
export type RecordFilters = Record<RecordFilterName, string>;

export const noRecordFilters: RecordFilters = { user: "", device: "", from: "", to: "", min_score: "", max_score: "" };

// The filters in a URL's query ("?user=alice&min_score=60"), the query of those set (in a fixed
// order), and whether any is.
export const recordFiltersFrom = (search: string): RecordFilters => filtersIn(recordFilterNames, search);
export const recordSearchOf = (f: RecordFilters): string => filterSearch(recordFilterNames, f);
export const anyRecordFilter = (f: RecordFilters): boolean => anyFilterSet(recordFilterNames, f);

export type RecordQuery = Partial<Omit<RecordFilters, "min_score" | "max_score">> & { min_score?: number; max_score?: number };

// The API's query: the filters that are set, the scores as numbers (a score that is not one is
// an error by its field, and nothing is asked); times go as typed, for the server to judge.
export function recordApiQuery(f: RecordFilters): { query: RecordQuery; errors: Record<string, string> } {
  const { min_score, max_score, ...rest } = setFilters(recordFilterNames, f);
  const query: RecordQuery = rest;
  const errors: Record<string, string> = {};
  for (const [name, text] of [["min_score", min_score], ["max_score", max_score]] as const) {
    if (text === undefined) continue;
    const n = Number(text);
    if (Number.isFinite(n)) query[name] = n;
    else errors[name] = "Give a number, such as 60.";
  }
  return { query, errors };
}

// 0 → "0 s", 45 → "45 s", 750 → "12 min 30 s", 3600 → "1 h", 26_100 → "7 h 15 min"; null → "—".
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "—";
  const s = Math.round(Math.abs(seconds));
  const sign = seconds < 0 && s > 0 ? "−" : "";
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (h) return `${sign}${h} h${m ? ` ${m} min` : ""}`;
  if (m) return `${sign}${m} min${sec ? ` ${sec} s` : ""}`;
  return `${sign}${sec} s`;
}

// 0.8734 → "87.3 %"; null → "—".
export function formatEfficiency(e: number | null | undefined): string {
  return e === null || e === undefined || !Number.isFinite(e) ? "—" : `${(e * 100).toFixed(1)} %`;
}

// A score as the file has it, without float noise: 71.40000152 → "71.4".
export function formatScore(s: number | null | undefined): string {
  return s === null || s === undefined || !Number.isFinite(s) ? "—" : String(Number(s.toFixed(2)));
}

// An attribute's value as text (numbers, strings, arrays of them, objects as JSON).
export function formatAttribute(v: unknown): string {
  if (v === null || v === undefined) return "—";
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (Array.isArray(v) && v.every((x) => typeof x !== "object" || x === null)) return v.map(String).join(", ");
  return JSON.stringify(v);
}

// --- The hypnogram ---

export interface Epoch {
  at: string; // RFC 3339
  stage: number; // -1 artefact, 0 wake, 1 N1, 2 N2, 3 N3, 4 REM
  name: string;
}

export const epochSeconds = 30;

// Where each stage sits on the plot, from the top: wake, REM, N1, N2, N3 (as hypnograms are
// drawn); artefact below them all.
export const stageRows = [
  { stage: 0, name: "Wake" },
  { stage: 4, name: "REM" },
  { stage: 1, name: "N1" },
  { stage: 2, name: "N2" },
  { stage: 3, name: "N3" },
  { stage: -1, name: "Artefact" },
] as const;

export function stageRow(stage: number): number {
  const i = stageRows.findIndex((r) => r.stage === stage);
  return i < 0 ? stageRows.length - 1 : i;
}

export function stageName(stage: number): string {
  return stageRows[stageRow(stage)]!.name;
}

// A run of epochs of one stage: from its first epoch's start to its last one's end (epoch ms).
export interface StageRun {
  stage: number;
  from: number;
  to: number;
}

// Consecutive epochs of the same stage as one run each.
export function stageRuns(epochs: readonly Epoch[]): StageRun[] {
  const runs: StageRun[] = [];
  for (const e of epochs) {
    const t = Date.parse(e.at);
    if (Number.isNaN(t)) continue;
    const last = runs[runs.length - 1];
    if (last && last.stage === e.stage && last.to === t) last.to = t + epochSeconds * 1000;
    else runs.push({ stage: e.stage, from: t, to: t + epochSeconds * 1000 });
  }
  return runs;
}

// The hypnogram as a step line: a vertex at each run's start and end, at its stage's row (0 at
// the top). Times in epoch ms.
export function hypnogramSteps(epochs: readonly Epoch[]): { t: number; row: number }[] {
  const out: { t: number; row: number }[] = [];
  for (const r of stageRuns(epochs)) {
    const row = stageRow(r.stage);
    out.push({ t: r.from, row }, { t: r.to, row });
  }
  return out;
}

// The step line as an SVG path in a box of width × height, rows evenly spaced (each row's
// middle), time from `from` to `to` across.
export function hypnogramPath(epochs: readonly Epoch[], width: number, height: number): string {
  const steps = hypnogramSteps(epochs);
  if (!steps.length) return "";
  const from = steps[0]!.t;
  const to = steps[steps.length - 1]!.t;
  const x = (t: number) => (to > from ? ((t - from) / (to - from)) * width : 0);
  const rowH = height / stageRows.length;
  const y = (row: number) => row * rowH + rowH / 2;
  const round = (n: number) => Math.round(n * 10) / 10;
  return steps.map((s, i) => `${i ? "L" : "M"}${round(x(s.t))} ${round(y(s.row))}`).join(" ");
}

// The hypnogram in a sentence (the plot's text alternative).
export function hypnogramSummary(epochs: readonly Epoch[]): string {
  if (!epochs.length) return "The hypnogram has no epochs.";
  const runs = stageRuns(epochs);
  const seconds = new Map<number, number>();
  for (const e of epochs) seconds.set(e.stage, (seconds.get(e.stage) ?? 0) + epochSeconds);
  const parts = stageRows.filter((r) => seconds.has(r.stage)).map((r) => `${r.name} ${formatDuration(seconds.get(r.stage)!)}`);
  const firstSleep = runs.find((r) => r.stage >= 1 && r.stage <= 4);
  const start = runs[0]!.from;
  return (
    `Hypnogram of ${epochs.length} epochs of 30 s (${formatDuration(epochs.length * epochSeconds)}): ${parts.join(", ")}; ` +
    `${runs.length} ${runs.length === 1 ? "stretch" : "stretches"} of one stage` +
    (firstSleep ? `; first asleep after ${formatDuration((firstSleep.from - start) / 1000)}.` : "; never asleep.")
  );
}

// Round hour (or half-hour, quarter) ticks between from and to (epoch ms), at most about `max`.
export function timeTicks(from: number, to: number, max = 8): number[] {
  if (!(to > from)) return [];
  const steps = [5, 10, 15, 30, 60, 120, 180, 240].map((m) => m * 60_000);
  const step = steps.find((s) => (to - from) / s <= max) ?? steps[steps.length - 1]!;
  const out: number[] = [];
  for (let t = Math.ceil(from / step) * step; t <= to; t += step) out.push(t);
  return out;
}

// --- The signal viewer's range ---

// A time range in epoch ms, [from, to).
export interface Range {
  from: number;
  to: number;
}

// The narrowest range the viewer zooms to.
export const minSpanMs = 1000;

// `r` moved and cut to lie within `bounds`, no narrower than minSpan (or the bounds).
export function clampRange(r: Range, bounds: Range, minSpan = minSpanMs): Range {
  const whole = bounds.to - bounds.from;
  let span = Math.min(Math.max(r.to - r.from, Math.min(minSpan, whole)), whole);
  if (!Number.isFinite(span) || span <= 0) span = whole;
  let from = Number.isFinite(r.from) ? r.from : bounds.from;
  if (r.to - r.from < span) from -= (span - (r.to - r.from)) / 2; // widened about its middle
  from = Math.min(Math.max(from, bounds.from), bounds.to - span);
  return { from: Math.round(from), to: Math.round(from + span) };
}

// Zoomed by `factor` (2: in, to half the span; 0.5: out) about `at` (default: the middle).
export function zoomRange(r: Range, factor: number, bounds: Range, at = (r.from + r.to) / 2): Range {
  const span = (r.to - r.from) / factor;
  const share = r.to > r.from ? (at - r.from) / (r.to - r.from) : 0.5;
  const from = at - span * share;
  return clampRange({ from, to: from + span }, bounds);
}

// Moved by `fraction` of its span (negative: earlier), stopping at the record's ends.
export function panRange(r: Range, fraction: number, bounds: Range): Range {
  const by = (r.to - r.from) * fraction;
  return clampRange({ from: r.from + by, to: r.to + by }, bounds);
}

// Moved so that it shows what was `dx` pixels to the left (drag right → earlier), in a plot
// `width` pixels wide.
export function dragRange(r: Range, dx: number, width: number, bounds: Range): Range {
  return width > 0 ? panRange(r, -dx / width, bounds) : r;
}

// The range a drag-selection between two pixels of a plot `width` wide covers.
export function selectRange(r: Range, left: number, right: number, width: number, bounds: Range): Range {
  if (width <= 0) return r;
  const t = (px: number) => r.from + ((r.to - r.from) * px) / width;
  const [a, b] = left <= right ? [left, right] : [right, left];
  return clampRange({ from: t(a), to: t(b) }, bounds);
}

export function sameRange(a: Range, b: Range): boolean {
  return a.from === b.from && a.to === b.to;
}

// A channel's whole range: from the record's start for its duration.
export function channelBounds(startTime: string, durationS: number): Range {
  const from = Date.parse(startTime);
  return { from, to: from + Math.max(1, Math.round(durationS * 1000)) };
}

// How many buckets to ask for: about one a pixel of the plot (the server takes 1–20 000).
export function maxPointsFor(widthPx: number): number {
  return Math.min(20_000, Math.max(100, Math.round(widthPx)));
}

// What one point of the answer is: "every sample" or "450 samples a point".
export function stepText(step: number): string {
  return step <= 1 ? "every sample" : `${step.toLocaleString("en")} samples a point`;
}

// A span for people: 3_600_000 → "1 h", 2_000 → "2 s", 1_500 → "1.5 s".
export function formatSpan(ms: number): string {
  if (ms < 60_000) return `${Number((ms / 1000).toPrecision(3))} s`;
  return formatDuration(ms / 1000);
}

export interface SignalAnswer {
  step: number;
  at_ms: number[];
  min: (number | null)[];
  max: (number | null)[];
}

// The answer as the plot's columns: time in seconds (uPlot's), then the minimum and maximum;
// sample by sample (step 1) one column of values.
export function envelopeColumns(a: SignalAnswer): [number[], ...(number | null)[][]] {
  const xs = a.at_ms.map((t) => t / 1000);
  return a.step <= 1 ? [xs, a.max] : [xs, a.min, a.max];
}
