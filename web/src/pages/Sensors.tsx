// Sensors: the list (pinned first, filters in the URL, an admin pins and unpins and adds
// sensors), and one sensor's page: its detector settings, its current anomaly level (live), and
// a chart of its values and levels over a range (6 h, 24 h, 7 d, all), with the detector's
// warning and critical bands and its alarms, to which the live points of the `sensor:<name>`
// topic are added as they come. The pure parts are in sensor-logic.ts.
import { useEffect, useMemo, useState } from "preact/hooks";
import { type Alarm, type Sensor as SensorT, api } from "../api/client";
import { type Problem, describe, fieldErrors } from "../api/problem";
import { Empty, Field, FormMessage, Link, ProblemView, Table, formatTime, useLazyComponent, useLoad } from "../components/ui";
import { useEvents, useThrottled } from "../live";
import { navigate, pathFor } from "../router";
import { useSession } from "../session";
import { SensorBaseline } from "./Baselines";
import {
  type DetectorForm,
  type LevelPoint,
  type Plan,
  type RangeKey,
  type SensorFilter,
  alarmMarkers,
  countStep,
  currentLevel,
  detectorBody,
  formatValue,
  mergePoints,
  needsCount,
  planFromCounts,
  pointsFrom,
  rangeKey,
  ranges,
  sensorEventFrom,
  sensorFilterFrom,
  sensorsPath,
  seriesPlan,
  since,
  sortSensors,
  tooManyPoints,
  windowOf,
} from "./sensor-logic";

export function LevelBadge({ level }: { level: string }) {
  return <span class={`level ${level}`}>{level}</span>;
}

export function Sensors({ search }: { search: string }) {
  const filter = sensorFilterFrom(search);
  const query = { limit: 1000, pinned: filter.pinned || undefined, device: filter.device || undefined };
  const [page, reload] = useLoad(() => api.get("/api/v1/sensors", { query }), [search]);
  const [more, setMore] = useState<SensorT[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);
  const { user } = useSession();
  const admin = user?.role === "admin";

  const loadMore = async (from: string) => {
    const r = await api.get("/api/v1/sensors", { query: { ...query, cursor: from } });
    if (r.ok) {
      setMore((m) => [...m, ...r.data.items]);
      setCursor(r.data.next_cursor);
    } else setProblem(r.problem);
  };
  const pin = async (s: SensorT) => {
    const r = await api.patch("/api/v1/sensors/{name}", { path: { name: s.name }, body: { pinned: !s.pinned } });
    setProblem(r.ok ? null : r.problem);
    setMore([]);
    reload();
  };
  const items = page.state === "ok" ? sortSensors([...page.data.items, ...more]) : [];
  const next = page.state === "ok" ? (more.length ? cursor : page.data.next_cursor) : null;
  const filtered = Boolean(filter.pinned || filter.device);

  return (
    <>
      <h1 tabIndex={-1}>Sensors</h1>
      <p>
        Series of readings (gas, temperature, …) with an anomaly level per point. Pinned sensors come first. Devices and
        scripts post points to <code>/api/v1/telemetry</code> (<a href="/docs">API docs</a>).
      </p>
      {admin && (
        <details class="panel">
          <summary>Add a sensor</summary>
          <AddSensor onAdded={(s) => navigate(pathFor("sensor", { name: s.name }) + "?added")} />
        </details>
      )}
      <SensorFilters filter={filter} />
      {problem && (
        <p class="message error" role="alert">
          {describe(problem)}
        </p>
      )}
      {page.state === "loading" && <p aria-busy="true">Loading the sensors…</p>}
      {page.state === "error" && <ProblemView problem={page.problem} retry={reload} />}
      {page.state === "ok" &&
        (items.length === 0 ? (
          filtered ? (
            <Empty title="No sensor matches">
              <p>
                Change the filters, or <Link href="/sensors">show every sensor</Link>.
              </p>
            </Empty>
          ) : (
            <Empty title="No sensors yet">
              <p>
                {admin
                  ? "Add the first one with “Add a sensor” above, then post its points to /api/v1/telemetry (or replay a recording with vigil simulate)."
                  : "An admin adds sensors; they appear here."}
              </p>
            </Empty>
          )
        ) : (
          <>
            <Table caption="Sensors, pinned first" columns={["Name", "Device", "Unit", "Pinned"]}>
              {items.map((s) => (
                <tr key={s.name}>
                  <th scope="row">
                    <Link href={pathFor("sensor", { name: s.name })}>{s.name}</Link>
                  </th>
                  <td>{s.device ? <Link href={pathFor("device", { name: s.device })}>{s.device}</Link> : "none"}</td>
                  <td>{s.unit || "none"}</td>
                  <td class="pinned">
                    {s.pinned ? "★ yes" : "no"}
                    {admin && (
                      <button type="button" class="pin" onClick={() => pin(s)}>
                        {s.pinned ? "Unpin" : "Pin"}
                        <span class="visually-hidden"> {s.name}</span>
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </Table>
            {next && (
              <button type="button" onClick={() => loadMore(next)}>
                Show more sensors
              </button>
            )}
          </>
        ))}
    </>
  );
}

function SensorFilters({ filter }: { filter: SensorFilter }) {
  const [pinned, setPinned] = useState(filter.pinned);
  const [device, setDevice] = useState(filter.device);
  const apply = (e: Event) => {
    e.preventDefault();
    navigate(sensorsPath({ pinned, device }));
  };
  return (
    <form class="inline-form filters" onSubmit={apply} aria-label="Filter sensors">
      <div class="field">
        <label for="field-pinned-filter">Pinned</label>
        <select id="field-pinned-filter" value={pinned} onChange={(e) => setPinned(e.currentTarget.value as SensorFilter["pinned"])}>
          <option value="">Any</option>
          <option value="true">Pinned</option>
          <option value="false">Not pinned</option>
        </select>
      </div>
      <Field label="Device" name="device-filter" value={device} onInput={setDevice} />
      <button type="submit">Filter</button>
    </form>
  );
}

function AddSensor({ onAdded }: { onAdded: (s: SensorT) => void }) {
  const [name, setName] = useState("");
  const [device, setDevice] = useState("");
  const [unit, setUnit] = useState("");
  const [pinned, setPinned] = useState(false);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [busy, setBusy] = useState(false);
  const errors = fieldErrors(problem, ["name", "device", "unit", "pinned"]);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    const r = await api.post("/api/v1/sensors", {
      body: {
        name: name.trim(),
        ...(device.trim() ? { device: device.trim() } : {}),
        ...(unit.trim() ? { unit: unit.trim() } : {}),
        pinned,
      },
    });
    setBusy(false);
    setProblem(r.ok ? null : r.problem);
    if (r.ok) onAdded(r.data);
  };
  return (
    <form onSubmit={submit} noValidate class="narrow">
      <Field label="Name" name="sensor-name" value={name} onInput={setName} error={errors.name} required
        hint="1–64 letters, digits, dots, dashes or underscores" />
      <Field label="Device (optional)" name="sensor-device" value={device} onInput={setDevice} error={errors.device}
        hint="the registered device it sits on" />
      <Field label="Unit (optional)" name="sensor-unit" value={unit} onInput={setUnit} error={errors.unit} hint="ppmv, °C, …" />
      <div class="field inline">
        <input id="field-sensor-pinned" type="checkbox" checked={pinned} onChange={(e) => setPinned(e.currentTarget.checked)} />
        <label for="field-sensor-pinned">Pinned (listed first)</label>
      </div>
      <button type="submit" class="primary" disabled={busy || !name.trim()}>
        {busy ? "Adding…" : "Add sensor"}
      </button>
      <FormMessage error={errors[""]} />
    </form>
  );
}

// --- One sensor ---

type RangeData =
  | { state: "loading" }
  | { state: "error"; problem: Problem }
  | { state: "ok"; key: RangeKey; plan: Plan; points: LevelPoint[]; total: number | null; fellBack: boolean; tail: LevelPoint[] };

// Reads a range: a long one is counted first (by hour or day) to choose between its points with
// levels and buckets; a short one asks for the levels and falls back to buckets when the server
// says it holds too many points.
async function readRange(name: string, key: RangeKey, agg: "avg" | "max", now: number): Promise<RangeData> {
  const w = windowOf(key, now);
  let plan: Plan = { kind: "anomalies", from: w.from, to: w.to };
  let total: number | null = null;
  if (needsCount(key)) {
    const c = await api.get("/api/v1/sensors/{name}/series", {
      path: { name },
      query: { from: String(w.from), to: String(w.to), step: countStep(key), agg: "count" },
    });
    if (!c.ok) return { state: "error", problem: c.problem };
    const counts = (c.data.buckets ?? []).map((b) => ({ at: b.at ?? "", value: b.value ?? 0 }));
    total = counts.reduce((n, b) => n + b.value, 0);
    plan = planFromCounts(w, counts, agg);
  }
  let fellBack = false;
  if (plan.kind === "anomalies") {
    const r = await api.get("/api/v1/sensors/{name}/anomalies", {
      path: { name },
      query: { from: String(plan.from), to: String(plan.to) },
    });
    if (r.ok) return { state: "ok", key, plan, points: pointsFrom(r.data.points), total, fellBack, tail: [] };
    if (!tooManyPoints(r.problem)) return { state: "error", problem: r.problem };
    plan = seriesPlan({ from: plan.from, to: plan.to }, agg);
    fellBack = true;
  }
  if (plan.kind !== "series") throw new Error("unreachable");
  const s = await api.get("/api/v1/sensors/{name}/series", {
    path: { name },
    query: { from: String(plan.from), to: String(plan.to), step: plan.step, agg: plan.agg },
  });
  if (!s.ok) return { state: "error", problem: s.problem };
  const buckets = s.data.buckets ?? [];
  if (total === null && !fellBack) total = buckets.reduce((n, b) => n + (b.count ?? 0), 0);
  // The chart has no levels then; the badge still wants the newest: the last hour's.
  const t = await api.get("/api/v1/sensors/{name}/anomalies", {
    path: { name },
    query: { from: String(plan.to - 3_600_000), to: String(plan.to) },
  });
  const tail = t.ok ? pointsFrom(t.data.points) : [];
  return { state: "ok", key, plan, points: pointsFrom(buckets), total, fellBack, tail };
}

// The chart's module (uPlot), loaded on the first sensor page shown.
const loadChart = () => import("./SensorChart");

export function Sensor({ name, search }: { name: string; search: string }) {
  const [sensor, reloadSensor] = useLoad(() => api.get("/api/v1/sensors/{name}", { path: { name } }), [name]);
  return (
    <>
      <p class="crumbs">
        <Link href="/sensors">Sensors</Link> /
      </p>
      <h1 tabIndex={-1}>{name}</h1>
      {new URLSearchParams(search).has("added") && (
        <p class="message success" role="status">
          The sensor was added. Post its points to /api/v1/telemetry; they show below as they come.
        </p>
      )}
      {sensor.state === "loading" && <p aria-busy="true">Loading the sensor…</p>}
      {sensor.state === "error" &&
        (sensor.problem.status === 404 ? (
          <Empty title="No such sensor">
            <p>
              There is no sensor named “{name}”. <Link href="/sensors">See the sensors</Link>.
            </p>
          </Empty>
        ) : (
          <ProblemView problem={sensor.problem} retry={reloadSensor} />
        ))}
      {sensor.state === "ok" && <SensorBody sensor={sensor.data} search={search} onChange={reloadSensor} />}
    </>
  );
}

function SensorBody({ sensor, search, onChange }: { sensor: SensorT; search: string; onChange: () => void }) {
  const name = sensor.name;
  const q = new URLSearchParams(search);
  const key = rangeKey(q.get("range"));
  const agg = q.get("agg") === "max" ? "max" : "avg";
  const { user } = useSession();
  const admin = user?.role === "admin";
  const Chart = useLazyComponent(loadChart);

  // The range, read again on a new range, a gap in the events, or "Reload".
  const [round, setRound] = useState(0);
  const [range, setRange] = useState<RangeData>({ state: "loading" });
  useEffect(() => {
    let live = true;
    setRange((r) => (r.state === "ok" ? r : { state: "loading" }));
    void readRange(name, key, agg, Date.now()).then((r) => live && setRange(r));
    return () => {
      live = false;
    };
  }, [name, key, agg, round]);

  // Detector alarms of this sensor (?sensor= where the server has it; filtered here as well).
  const alarmQuery = { source: "detector" as const, sensor: name, limit: 1000 };
  const [alarms, reloadAlarms] = useLoad(() => api.get("/api/v1/alarms", { query: alarmQuery }), [name]);

  // Live: the last points at once, then each batch, and level changes.
  const [live, setLive] = useState<LevelPoint[]>([]);
  const [lastLevel, setLastLevel] = useState<LevelPoint | null>(null);
  const [heard, setHeard] = useState(0); // live points received, for the page's note
  const [baselineRound, setBaselineRound] = useState(0);
  useEffect(() => {
    setLive([]);
    setLastLevel(null);
    setHeard(0);
  }, [name]);
  const refreshAlarms = useThrottled(reloadAlarms, 500);
  const reread = useThrottled(() => setRound((n) => n + 1), 500);
  useEvents(
    [`sensor:${name}`, "alarms"],
    (e) => {
      if (e.topic === "alarms") return refreshAlarms();
      if (e.event.kind === "baseline") {
        // A new baseline: levels are measured against it from now on; read both again.
        setBaselineRound((n) => n + 1);
        return reread();
      }
      const ev = sensorEventFrom(e.event);
      if (!ev) return;
      if (ev.kind === "points") {
        setLive((l) => mergePoints(l, ev.points));
        if (!ev.history) setHeard((n) => n + ev.points.length);
      } else {
        setLastLevel(ev.point);
        setLive((l) => mergePoints(l, [ev.point]));
      }
    },
    () => {
      reread();
      refreshAlarms();
    },
  );

  const ok = range.state === "ok" ? range : null;
  const raw = ok?.plan.kind === "anomalies";
  const points = useMemo(
    () => (!ok ? [] : raw ? since(mergePoints(ok.points, live), ok.plan.from) : ok.points),
    [ok, raw, live],
  );
  const now = currentLevel(raw ? points : mergePoints(ok?.tail ?? [], live), lastLevel);
  const w = ok ? { from: ok.plan.from, to: Math.max(ok.plan.to, points.length ? points[points.length - 1]!.t : 0) } : null;
  const markers = useMemo(
    () => (w && alarms.state === "ok" ? alarmMarkers(alarms.data.items, name, w) : []),
    [alarms, name, w?.from, w?.to],
  );
  const d = sensor.detector;
  const setQuery = (k: string, v: string) => {
    const next = new URLSearchParams(search);
    next.delete("added");
    next.set(k, v);
    navigate(`${pathFor("sensor", { name })}?${next.toString()}`);
  };

  return (
    <>
      <p class="level-now" role="status">
        Level now: <LevelBadge level={now?.level ?? "undefined"} />{" "}
        {now ? (
          <span class="hint">
            {now.percent !== null ? `${now.percent.toFixed(1)} % of the baseline, ` : ""}
            value {formatValue(now.value, sensor.unit)} at {formatTime(new Date(now.t).toISOString())}
          </span>
        ) : (
          <span class="hint">{raw ? "no points yet" : "no point in the last hour"}</span>
        )}
      </p>
      <dl class="facts">
        <dt>Device</dt>
        <dd>{sensor.device ? <Link href={pathFor("device", { name: sensor.device })}>{sensor.device}</Link> : "none"}</dd>
        <dt>Unit</dt>
        <dd>{sensor.unit || "none"}</dd>
        <dt>Pinned</dt>
        <dd>{sensor.pinned ? "yes" : "no"}</dd>
        <dt>Detector</dt>
        <dd>
          window {d.window} points, exclusion {d.exclusion}, warning from {d.warn_percent} %, critical from{" "}
          {d.critical_percent} % of the baseline, {d.normalize ? "z-normalised" : "not normalised"}
        </dd>
        <dt>Points kept</dt>
        <dd>{sensor.retention_days ? `${sensor.retention_days} days` : "for ever"}</dd>
      </dl>
      {admin && (
        <details class="panel">
          <summary>Change the detector</summary>
          <DetectorSettings sensor={sensor} onSaved={onChange} />
        </details>
      )}

      <h2 id="chart-heading">Values and levels</h2>
      <form class="inline-form" aria-labelledby="chart-heading" onSubmit={(e) => e.preventDefault()}>
        <div class="field">
          <label for="field-range">Range</label>
          <select id="field-range" value={key} onChange={(e) => setQuery("range", e.currentTarget.value)}>
            {ranges.map((r) => (
              <option key={r.key} value={r.key}>
                {r.label}
              </option>
            ))}
          </select>
        </div>
        {ok?.plan.kind === "series" && (
          <div class="field">
            <label for="field-agg">Buckets show</label>
            <select id="field-agg" value={agg} onChange={(e) => setQuery("agg", e.currentTarget.value)}>
              <option value="avg">the average</option>
              <option value="max">the maximum</option>
            </select>
          </div>
        )}
        <button type="button" onClick={() => setRound((n) => n + 1)}>
          Reload
        </button>
      </form>
      {range.state === "loading" && <p aria-busy="true">Loading the points…</p>}
      {range.state === "error" && <ProblemView problem={range.problem} retry={() => setRound((n) => n + 1)} />}
      {ok && (
        <>
          <p class="chart-summary">{summary(ok, points.length, heard, sensor.unit)}</p>
          {points.length === 0 ? (
            <Empty title="No points in this range">
              <p>
                Points posted to <code>/api/v1/telemetry</code> for {name} show here as they come
                {key !== "all" ? "; or choose a longer range" : ""}.
              </p>
            </Empty>
          ) : Chart ? (
            <Chart
              points={points}
              withLevels={raw}
              unit={sensor.unit}
              valueLabel={raw ? "Value" : ok.plan.kind === "series" && ok.plan.agg === "max" ? "Maximum" : "Average"}
              detector={d}
              markers={markers}
              description={`Chart of ${name}: ${points.length} ${raw ? "points" : "buckets"} from ${formatTime(new Date(points[0]!.t).toISOString())} to ${formatTime(new Date(points[points.length - 1]!.t).toISOString())}${raw ? ", with the level in percent of the baseline" : ""}; ${markers.length} detector ${markers.length === 1 ? "alarm" : "alarms"}.`}
            />
          ) : (
            <p aria-busy="true">Loading the chart…</p>
          )}
          {raw && points.length > 0 && (
            <p class="hint chart-key">
              <span class="swatch band-warning" /> warning band, {d.warn_percent}–{d.critical_percent} % ·{" "}
              <span class="swatch band-critical" /> critical band, from {d.critical_percent} % · vertical lines: detector alarms
            </p>
          )}
        </>
      )}

      <SensorBaseline sensor={name} round={baselineRound} onChange={() => setRound((n) => n + 1)} />

      <h2>Detector alarms</h2>
      {alarms.state === "error" && <ProblemView problem={alarms.problem} retry={reloadAlarms} />}
      {alarms.state === "ok" && <SensorAlarms alarms={alarms.data.items} sensor={name} />}
    </>
  );
}

function summary(r: Extract<RangeData, { state: "ok" }>, shown: number, heard: number, unit: string): string {
  return `${ranges.find((x) => x.key === r.key)!.label}: ${counts(r, shown, heard, unit)}`;
}

function counts(r: Extract<RangeData, { state: "ok" }>, shown: number, heard: number, unit: string): string {
  const liveNote = heard ? ` ${heard} live ${heard === 1 ? "point" : "points"} added.` : "";
  if (r.plan.kind === "anomalies") {
    return `${shown} ${shown === 1 ? "point" : "points"} with their levels.${liveNote}`;
  }
  const what = r.plan.agg === "max" ? "The maximum" : "The average";
  const many = r.fellBack
    ? "this range holds more points than the server answers at once (100 000)"
    : `this range holds ${r.total?.toLocaleString() ?? "many"} points, more than are drawn with their levels`;
  return `${what}${unit ? ` (${unit})` : ""} per ${r.plan.step} bucket, ${shown} buckets: ${many}, so levels, bands and live points are not shown. Choose a shorter range for them.`;
}

function SensorAlarms({ alarms, sensor }: { alarms: Alarm[]; sensor: string }) {
  const mine = alarms
    .filter((a) => a.source === "detector" && (a.sensor ?? "").toLowerCase() === sensor.toLowerCase())
    .slice(0, 20);
  if (mine.length === 0) {
    return <p>No detector alarm so far. One opens when the sensor turns critical and clears when it is ok again.</p>;
  }
  return (
    <Table caption={`Detector alarms of ${sensor}, newest first`} columns={["Alarm", "Severity", "Opened", "Last", "State"]}>
      {mine.map((a) => (
        <tr key={a.id}>
          <th scope="row">#{a.id}</th>
          <td>
            <span class={`severity ${a.severity}`}>{a.severity}</span>
          </td>
          <td>{formatTime(a.at)}</td>
          <td>{formatTime(a.last_at)}</td>
          <td>{a.state}</td>
        </tr>
      ))}
    </Table>
  );
}

function DetectorSettings({ sensor, onSaved }: { sensor: SensorT; onSaved: () => void }) {
  const d = sensor.detector;
  const [f, setF] = useState<DetectorForm>({
    window: String(d.window),
    exclusion: String(d.exclusion),
    warn_percent: String(d.warn_percent),
    critical_percent: String(d.critical_percent),
    normalize: Boolean(d.normalize),
  });
  const [problem, setProblem] = useState<Problem | null>(null);
  const [local, setLocal] = useState<Record<string, string>>({});
  const [done, setDone] = useState("");
  const names = ["detector.window", "detector.exclusion", "detector.warn_percent", "detector.critical_percent", "detector.normalize"];
  const errors = { ...fieldErrors(problem, names), ...local };
  const set = (k: keyof DetectorForm) => (v: string) => setF((x) => ({ ...x, [k]: v }));
  const submit = async (e: Event) => {
    e.preventDefault();
    const b = detectorBody(f);
    if ("errors" in b) {
      setLocal(b.errors);
      return;
    }
    setLocal({});
    const r = await api.patch("/api/v1/sensors/{name}", { path: { name: sensor.name }, body: { detector: b.body } });
    setProblem(r.ok ? null : r.problem);
    setDone(r.ok ? "Saved: levels from now on, and ranges read again, use these settings." : "");
    if (r.ok) onSaved();
  };
  return (
    <form onSubmit={submit} noValidate class="grid-form">
      <Field label="Window (points)" name="detector-window" value={f.window} onInput={set("window")} error={errors["detector.window"]} />
      <Field label="Exclusion (points)" name="detector-exclusion" value={f.exclusion} onInput={set("exclusion")} error={errors["detector.exclusion"]} />
      <Field label="Warning from (%)" name="detector-warn" value={f.warn_percent} onInput={set("warn_percent")} error={errors["detector.warn_percent"]} />
      <Field label="Critical from (%)" name="detector-critical" value={f.critical_percent} onInput={set("critical_percent")}
        error={errors["detector.critical_percent"]} />
      <div class="field inline">
        <input id="field-detector-normalize" type="checkbox" checked={f.normalize}
          onChange={(e) => setF((x) => ({ ...x, normalize: e.currentTarget.checked }))} />
        <label for="field-detector-normalize">Z-normalise windows</label>
      </div>
      <div class="form-actions">
        <button type="submit" class="primary">
          Save detector
        </button>
      </div>
      <FormMessage error={errors[""] ?? errors["detector.normalize"]} success={done || undefined} />
    </form>
  );
}
