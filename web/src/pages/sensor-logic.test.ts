import { describe, expect, test } from "vitest";
import {
  type LevelPoint,
  alarmMarkers,
  chartData,
  currentLevel,
  detectorBody,
  formatValue,
  markerLevel,
  mergePoints,
  niceStep,
  percentTop,
  planFromCounts,
  pointsFrom,
  rangeKey,
  rawPointBudget,
  sensorEventFrom,
  sensorFilterFrom,
  sensorsPath,
  since,
  sortSensors,
  thresholdBands,
  tooManyPoints,
  windowOf,
} from "./sensor-logic";

const p = (t: number, value = t, level: LevelPoint["level"] = "ok", percent: number | null = 50): LevelPoint => ({ t, value, level, percent });
const iso = (ms: number) => new Date(ms).toISOString();

describe("the sensor list", () => {
  test("pinned first, then by name ignoring case", () => {
    const list = [
      { name: "b", pinned: false },
      { name: "Z", pinned: true },
      { name: "a", pinned: false },
      { name: "C", pinned: false },
      { name: "m", pinned: true },
    ];
    expect(sortSensors(list).map((s) => s.name)).toEqual(["m", "Z", "a", "b", "C"]);
    expect(list[0]!.name).toBe("b"); // not sorted in place
  });

  test("filters come from and go to the URL", () => {
    expect(sensorFilterFrom("?pinned=true&device=%20pump-1%20")).toEqual({ pinned: "true", device: "pump-1" });
    expect(sensorFilterFrom("?pinned=maybe")).toEqual({ pinned: "", device: "" });
    expect(sensorsPath({ pinned: "false", device: "a b" })).toBe("/sensors?pinned=false&device=a+b");
    expect(sensorsPath({ pinned: "", device: " " })).toBe("/sensors");
  });
});

describe("points and events", () => {
  test("API points become points in time order; undefined has no percent; bad ones are left out", () => {
    const got = pointsFrom([
      { at: "2026-01-01T00:10:00Z", value: 2, level: "warning", percent: 120.5 },
      { at: "2026-01-01T00:00:00Z", value: 1, level: "undefined", percent: 3 },
      { at: "nonsense", value: 1 },
      { at: "2026-01-01T00:20:00Z", value: "3" },
      { at: 1767226800000, value: 4 },
    ]);
    expect(got).toEqual([
      { t: Date.parse("2026-01-01T00:00:00Z"), value: 1, level: "undefined", percent: null },
      { t: Date.parse("2026-01-01T00:10:00Z"), value: 2, level: "warning", percent: 120.5 },
      { t: 1767226800000, value: 4, level: "undefined", percent: null },
    ]);
  });

  test("a points event (history or live) and a level event", () => {
    const h = sensorEventFrom({
      kind: "points",
      sensor: "s",
      history: true,
      points: [{ at: iso(2000), value: 1.5, level: "ok", percent: 75.2 }, { at: iso(1000), value: 1, level: "undefined", percent: null }],
    });
    expect(h).toEqual({ kind: "points", history: true, points: [p(1000, 1, "undefined", null), p(2000, 1.5, "ok", 75.2)] });
    expect(sensorEventFrom({ kind: "points", points: [] })).toEqual({ kind: "points", history: false, points: [] });
    expect(sensorEventFrom({ kind: "level", sensor: "s", at: iso(3000), value: 9, level: "critical", previous: "ok", percent: 250 })).toEqual({
      kind: "level",
      point: p(3000, 9, "critical", 250),
      previous: "ok",
    });
    expect(sensorEventFrom({ kind: "level", at: "x", value: 1 })).toBeNull();
    expect(sensorEventFrom({ kind: "something_new" })).toBeNull();
  });

  test("merging dedupes by time, keeps time order, and the newer list wins", () => {
    const history = [p(1), p(2), p(3)];
    // Live points that overlap the history frame.
    const merged = mergePoints(history, [p(3, 30), p(4), p(2, 20)]);
    expect(merged).toEqual([p(1), p(2, 20), p(3, 30), p(4)]);
    // A plain append keeps the base's points and adds the new ones after them.
    expect(mergePoints(history, [p(5), p(6)])).toEqual([p(1), p(2), p(3), p(5), p(6)]);
    // Out of order and repeated inside one batch.
    expect(mergePoints([], [p(9), p(7), p(9, 90)]).map((x) => [x.t, x.value])).toEqual([[7, 7], [9, 90]]);
    expect(mergePoints(history, [])).toBe(history);
  });

  test("a range keeps the points from its start", () => {
    const ps = [p(1), p(5), p(10)];
    expect(since(ps, 0)).toBe(ps);
    expect(since(ps, 5)).toEqual([p(5), p(10)]);
    expect(since(ps, 11)).toEqual([]);
  });

  test("the current level is the newest of the points and the last level event", () => {
    expect(currentLevel([], null)).toBeNull();
    expect(currentLevel([p(1), p(2, 2, "warning")], null)?.level).toBe("warning");
    expect(currentLevel([p(1)], p(5, 5, "critical"))?.level).toBe("critical");
    expect(currentLevel([p(9, 9, "ok")], p(5, 5, "critical"))?.level).toBe("ok");
  });
});

describe("ranges", () => {
  const now = Date.parse("2026-12-06T12:00:00Z");

  test("a range is a window up to now; all starts at the epoch; unknown keys are 24 h", () => {
    expect(windowOf("6h", now)).toEqual({ from: now - 6 * 3_600_000, to: now });
    expect(windowOf("all", now)).toEqual({ from: 0, to: now });
    expect(rangeKey("7d")).toBe("7d");
    expect(rangeKey("1y")).toBe("24h");
    expect(rangeKey(null)).toBe("24h");
  });

  test("round bucket steps of at most ~1000 buckets", () => {
    expect(niceStep(6 * 3_600_000)).toEqual({ step: "30s", stepMs: 30_000 });
    expect(niceStep(7 * 86_400_000)).toEqual({ step: "30m", stepMs: 1_800_000 });
    expect(niceStep(365 * 86_400_000)).toEqual({ step: "12h", stepMs: 43_200_000 });
    expect(niceStep(2 * 365 * 86_400_000)).toEqual({ step: "1d", stepMs: 86_400_000 });
    expect(niceStep(3000 * 365 * 86_400_000).step).toBe("1095d");
  });

  test("levels when the range holds few enough points, else average buckets over the span with points", () => {
    const w = windowOf("all", now);
    const day = 86_400_000;
    const few = [{ at: iso(now - 3 * day), value: 400 }, { at: iso(now - 2 * day), value: 144 }];
    expect(planFromCounts(w, few)).toEqual({ kind: "anomalies", from: now - 3 * day, to: now });
    expect(planFromCounts(w, [])).toEqual({ kind: "anomalies", from: 0, to: now });
    const many = [{ at: iso(now - 30 * day), value: rawPointBudget }, { at: iso(now - day), value: 1 }];
    expect(planFromCounts(w, many, "max")).toEqual({ kind: "series", from: now - 30 * day, to: now, step: "1h", stepMs: 3_600_000, agg: "max" });
    // 7 days: counted from a bucket that starts before the window; the window's start stays.
    const w7 = windowOf("7d", now);
    expect(planFromCounts(w7, [{ at: iso(w7.from - 1000), value: 5 }])).toEqual({ kind: "anomalies", from: w7.from, to: now });
  });

  test("a 422 about the range's size says: read buckets", () => {
    expect(tooManyPoints({ status: 422, errors: [{ field: "from" }], detail: "" })).toBe(true);
    expect(tooManyPoints({ status: 422, errors: [{ field: "step" }], detail: "" })).toBe(true);
    expect(tooManyPoints({ status: 422, errors: [], detail: "a range is at most 100 000 points" })).toBe(true);
    expect(tooManyPoints({ status: 422, errors: [{ field: "to" }], detail: "bad time" })).toBe(false);
    expect(tooManyPoints({ status: 404, errors: [], detail: "" })).toBe(false);
  });
});

describe("the chart", () => {
  test("aligned arrays in seconds with gaps where there is no percent", () => {
    expect(chartData([p(1000, 1.5, "ok", 75), p(2000, 2, "undefined", null)])).toEqual([[1, 2], [1.5, 2], [75, null]]);
    expect(chartData([])).toEqual([[], [], []]);
  });

  test("warning and critical bands on the percent axis, which always shows both", () => {
    const d = { warn_percent: 100, critical_percent: 200 };
    const top = percentTop([p(1, 1, "ok", 50)], d);
    expect(top).toBe(230);
    expect(thresholdBands(d, top)).toEqual([
      { level: "warning", from: 100, to: 200 },
      { level: "critical", from: 200, to: 230 },
    ]);
    expect(percentTop([p(1, 1, "critical", 400)], d)).toBe(460);
    expect(percentTop([p(1, 1, "critical", 3751)], d)).toBe(600);
    // Critical at or below warning: no warning band.
    expect(thresholdBands({ warn_percent: 150, critical_percent: 150 }, 200)).toEqual([{ level: "critical", from: 150, to: 200 }]);
  });

  test("markers: this sensor's detector alarms in the window, whatever the server filtered", () => {
    const w = { from: 1000, to: 5000 };
    const a = (id: number, at: number, extra: object = {}) => ({ id, at: iso(at), source: "detector", sensor: "Gas-1", severity: "critical", state: "active", ...extra });
    const got = alarmMarkers(
      [a(1, 3000), a(2, 2000), a(3, 9000), a(4, 2500, { sensor: "gas-2" }), a(5, 2500, { source: "watchdog" }), a(6, 2600, { sensor: null })],
      "gas-1",
      w,
    );
    expect(got.map((m) => m.id)).toEqual([2, 1]);
    expect(got[0]).toEqual({ t: 2000, id: 2, severity: "critical", state: "active" });
    expect(markerLevel("major")).toBe("critical");
    expect(markerLevel("warning")).toBe("warning");
  });
});

describe("the detector form", () => {
  const form = { window: "144", exclusion: "72", warn_percent: "100", critical_percent: "200", normalize: false };
  test("numbers to the body, errors named as the API names them", () => {
    expect(detectorBody(form)).toEqual({ body: { window: 144, exclusion: 72, warn_percent: 100, critical_percent: 200, normalize: false } });
    expect(detectorBody({ ...form, window: "1.5", warn_percent: "x" })).toEqual({
      errors: { "detector.window": "A whole number", "detector.warn_percent": "A number above 0" },
    });
    expect(detectorBody({ ...form, critical_percent: "50" })).toEqual({ errors: { "detector.critical_percent": "At least the warning percent" } });
  });

  test("values read with a few digits and the unit", () => {
    expect(formatValue(1.23456, "ppmv")).toBe("1.235 ppmv");
    expect(formatValue(12345.6)).toBe("12346");
    expect(formatValue(null)).toBe("—");
  });
});
