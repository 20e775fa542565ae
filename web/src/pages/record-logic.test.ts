import { describe, expect, test } from "vitest";
import {
  type Epoch,
  anyRecordFilter,
  channelBounds,
  clampRange,
  dragRange,
  envelopeColumns,
  formatAttribute,
  formatDuration,
  formatEfficiency,
  formatScore,
  formatSpan,
  hypnogramPath,
  hypnogramSteps,
  hypnogramSummary,
  maxPointsFor,
  noRecordFilters,
  panRange,
  recordApiQuery,
  recordFiltersFrom,
  recordSearchOf,
  selectRange,
  stageName,
  stageRuns,
  stepText,
  timeTicks,
  zoomRange,
} from "./record-logic";

const t0 = Date.parse("2026-01-10T22:00:00Z");
const epochs = (stages: number[]): Epoch[] =>
  stages.map((stage, i) => ({ at: new Date(t0 + i * 30_000).toISOString(), stage, name: stageName(stage) }));

describe("the records list's filters", () => {
  test("from and to the URL, in a fixed order, only those set", () => {
    const f = recordFiltersFrom("?min_score=60&user=alice&other=1&device=%20");
    expect(f).toEqual({ ...noRecordFilters, user: "alice", min_score: "60" });
    expect(recordSearchOf(f)).toBe("?user=alice&min_score=60");
    expect(recordSearchOf(noRecordFilters)).toBe("");
    expect(anyRecordFilter(f)).toBe(true);
    expect(anyRecordFilter(noRecordFilters)).toBe(false);
    expect(recordApiQuery({ ...f, to: " 2026-01-01T00:00:00Z " })).toEqual({
      query: { user: "alice", min_score: 60, to: "2026-01-01T00:00:00Z" },
      errors: {},
    });
    expect(recordApiQuery({ ...f, min_score: "lots", max_score: "1e2" })).toEqual({
      query: { user: "alice", max_score: 100 },
      errors: { min_score: "Give a number, such as 60." },
    });
  });
});

describe("formatting", () => {
  test("durations", () => {
    expect(formatDuration(0)).toBe("0 s");
    expect(formatDuration(45)).toBe("45 s");
    expect(formatDuration(750)).toBe("12 min 30 s");
    expect(formatDuration(720)).toBe("12 min");
    expect(formatDuration(3600)).toBe("1 h");
    expect(formatDuration(26_130)).toBe("7 h 15 min");
    expect(formatDuration(-90)).toBe("−1 min 30 s");
    expect(formatDuration(null)).toBe("—");
    expect(formatDuration(Number.NaN)).toBe("—");
  });
  test("efficiency, score, spans, attributes", () => {
    expect(formatEfficiency(0.87345)).toBe("87.3 %");
    expect(formatEfficiency(null)).toBe("—");
    expect(formatScore(71.40000152)).toBe("71.4");
    expect(formatScore(80)).toBe("80");
    expect(formatSpan(2000)).toBe("2 s");
    expect(formatSpan(1500)).toBe("1.5 s");
    expect(formatSpan(3_600_000)).toBe("1 h");
    expect(formatAttribute("alice")).toBe("alice");
    expect(formatAttribute(3)).toBe("3");
    expect(formatAttribute([1, 2])).toBe("1, 2");
    expect(formatAttribute({ a: 1 })).toBe('{"a":1}');
    expect(formatAttribute(null)).toBe("—");
  });
  test("what a point of the answer is", () => {
    expect(stepText(1)).toBe("every sample");
    expect(stepText(450)).toBe("450 samples a point");
    expect(stepText(12_000)).toBe("12,000 samples a point");
  });
});

describe("the hypnogram", () => {
  const h = epochs([0, 0, 1, 2, 2, 3, 4, -1, 0]);
  test("runs of one stage", () => {
    const runs = stageRuns(h);
    expect(runs.map((r) => r.stage)).toEqual([0, 1, 2, 3, 4, -1, 0]);
    expect(runs[0]).toEqual({ stage: 0, from: t0, to: t0 + 60_000 });
    expect(runs[2]).toEqual({ stage: 2, from: t0 + 90_000, to: t0 + 150_000 });
  });
  test("a step series: each run's start and end at its row (wake on top, REM, N1, N2, N3, artefact)", () => {
    const s = hypnogramSteps(epochs([0, 0, 4, 3]));
    expect(s).toEqual([
      { t: t0, row: 0 },
      { t: t0 + 60_000, row: 0 },
      { t: t0 + 60_000, row: 1 },
      { t: t0 + 90_000, row: 1 },
      { t: t0 + 90_000, row: 4 },
      { t: t0 + 120_000, row: 4 },
    ]);
    expect(hypnogramSteps([])).toEqual([]);
  });
  test("as an SVG path across the box", () => {
    expect(hypnogramPath(epochs([0, 3]), 100, 60)).toBe("M0 5 L50 5 L50 45 L100 45");
    expect(hypnogramPath([], 100, 60)).toBe("");
  });
  test("in words", () => {
    expect(hypnogramSummary(h)).toBe(
      "Hypnogram of 9 epochs of 30 s (4 min 30 s): Wake 1 min 30 s, REM 30 s, N1 30 s, N2 1 min, N3 30 s, Artefact 30 s; " +
        "7 stretches of one stage; first asleep after 1 min.",
    );
    expect(hypnogramSummary(epochs([0]))).toMatch(/1 stretch of one stage; never asleep\.$/);
    expect(hypnogramSummary([])).toBe("The hypnogram has no epochs.");
  });
  test("round time ticks", () => {
    const hour = 3_600_000;
    expect(timeTicks(t0 - 60_000, t0 + hour)).toEqual([0, 10, 20, 30, 40, 50, 60].map((m) => t0 + m * 60_000));
    expect(timeTicks(t0, t0 + 8 * hour).length).toBeLessThanOrEqual(9);
    expect(timeTicks(t0, t0)).toEqual([]);
  });
});

describe("the signal viewer's range", () => {
  const bounds = { from: 0, to: 3_600_000 };
  test("clamped to the record and at least a second wide", () => {
    expect(clampRange({ from: -500, to: 1000 }, bounds)).toEqual({ from: 0, to: 1500 });
    expect(clampRange({ from: 3_599_000, to: 3_700_000 }, bounds)).toEqual({ from: 3_499_000, to: 3_600_000 });
    expect(clampRange({ from: -10, to: 9_000_000 }, bounds)).toEqual(bounds);
    expect(clampRange({ from: 1000, to: 1200 }, bounds)).toEqual({ from: 600, to: 1600 });
    expect(clampRange({ from: 0, to: 10 }, { from: 0, to: 400 })).toEqual({ from: 0, to: 400 });
  });
  test("zoom in and out about the middle or a point, never past the ends", () => {
    expect(zoomRange(bounds, 2, bounds)).toEqual({ from: 900_000, to: 2_700_000 });
    expect(zoomRange(bounds, 4, bounds, 0)).toEqual({ from: 0, to: 900_000 });
    expect(zoomRange({ from: 900_000, to: 2_700_000 }, 0.5, bounds)).toEqual(bounds);
    expect(zoomRange({ from: 0, to: 900_000 }, 0.5, bounds)).toEqual({ from: 0, to: 1_800_000 });
    expect(zoomRange({ from: 1000, to: 2000 }, 4, bounds)).toEqual({ from: 1000, to: 2000 });
  });
  test("pan by a share of the span, stopping at the ends", () => {
    const r = { from: 900_000, to: 1_800_000 };
    expect(panRange(r, 0.5, bounds)).toEqual({ from: 1_350_000, to: 2_250_000 });
    expect(panRange(r, -2, bounds)).toEqual({ from: 0, to: 900_000 });
    expect(panRange({ from: 2_700_000, to: 3_600_000 }, 1, bounds)).toEqual({ from: 2_700_000, to: 3_600_000 });
    expect(dragRange(r, 100, 1000, bounds)).toEqual({ from: 810_000, to: 1_710_000 });
    expect(dragRange(r, 100, 0, bounds)).toEqual(r);
  });
  test("a drag-selection's range, either way", () => {
    expect(selectRange(bounds, 250, 500, 1000, bounds)).toEqual({ from: 900_000, to: 1_800_000 });
    expect(selectRange(bounds, 500, 250, 1000, bounds)).toEqual({ from: 900_000, to: 1_800_000 });
  });
  test("bounds of a channel and points to ask for", () => {
    expect(channelBounds("2026-01-10T22:00:00Z", 3600)).toEqual({ from: t0, to: t0 + 3_600_000 });
    expect(maxPointsFor(1043.6)).toBe(1044);
    expect(maxPointsFor(20)).toBe(100);
    expect(maxPointsFor(50_000)).toBe(20_000);
  });
  test("an answer as the plot's columns", () => {
    expect(envelopeColumns({ step: 4, at_ms: [1000, 2000], min: [1, null], max: [3, null] })).toEqual([[1, 2], [1, null], [3, null]]);
    expect(envelopeColumns({ step: 1, at_ms: [1000], min: [2], max: [2] })).toEqual([[1], [2]]);
  });
});
