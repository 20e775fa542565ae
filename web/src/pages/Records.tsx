// Sleep records: the list (newest first, filters in the URL, "Show more"; an admin uploads a
// record file), and one record's page: its fields, stage durations and attributes, the
// hypnogram (an SVG step line with a text alternative and a table of its stretches), the
// channels, and a signal viewer that reads each range it shows downsampled by the server (zoom
// and pan; the chart, uPlot, is loaded with the viewer). The pure parts are in record-logic.ts.
import { useEffect, useRef, useState } from "preact/hooks";
import { type SleepRecord, api, upload } from "../api/client";
import { type Problem, describe, fieldErrors } from "../api/problem";
import { Empty, Field, FormMessage, Link, ProblemView, Table, formatBytes, formatTime, useLoad, useMore } from "../components/ui";
import { navigate, pathFor } from "../router";
import { useSession } from "../session";
import { fromLocalInput, toLocalInput } from "./audit-logic";
import {
  type Epoch,
  type RecordFilters,
  type RecordQuery,
  anyRecordFilter,
  epochSeconds,
  formatAttribute,
  formatDuration,
  formatEfficiency,
  formatScore,
  hypnogramPath,
  hypnogramSummary,
  recordApiQuery,
  recordFilterNames,
  recordFiltersFrom,
  recordSearchOf,
  stageName,
  stageRows,
  stageRuns,
  timeTicks,
} from "./record-logic";
import { SignalViewer } from "./SignalViewer";

const pageSize = 50;

export const recordPath = (id: number | string) => pathFor("record", { id: String(id) });

const durationOf = (r: SleepRecord) => (Date.parse(r.stop_time) - Date.parse(r.start_time)) / 1000;

export function Records({ search }: { search: string }) {
  const filters = recordFiltersFrom(search);
  const query = recordSearchOf(filters);
  const asked = recordApiQuery(filters);
  // A score that is not a number is shown by its field as the server's errors are, unasked.
  const [page, reload] = useLoad(
    () =>
      Object.keys(asked.errors).length
        ? Promise.resolve(localProblem(asked.errors))
        : api.get("/api/v1/records", { query: { ...asked.query, limit: pageSize } }),
    [query],
  );
  const { user } = useSession();
  const admin = user?.role === "admin";
  const problem = page.state === "error" ? page.problem : null;
  const errors = fieldErrors(problem, recordFilterNames);
  return (
    <>
      <h1 tabIndex={-1}>Records</h1>
      <p>
        Sleep records, newest first: one night of one user on one device, with its hypnogram and signals. Files come in
        through the collector's drop folder or an upload.
      </p>
      {admin && (
        <details class="panel">
          <summary>Upload a record</summary>
          <UploadRecord onUploaded={reload} />
        </details>
      )}
      <RecordFilterForm key={query} filters={filters} errors={errors}
        onFilter={(f) => (recordSearchOf(f) === query ? reload() : navigate(`/records${recordSearchOf(f)}`))} />
      {page.state === "loading" && <p aria-busy="true">Loading the records…</p>}
      {problem &&
        (errors[""] ? <ProblemView problem={problem} retry={reload} /> : <FormMessage error="Fix the filters marked above." />)}
      {page.state === "ok" && (
        <RecordList key={query} filters={filters} apiQuery={asked.query} first={page.data.items} next={page.data.next_cursor} admin={admin} />
      )}
    </>
  );
}

function localProblem(errors: Record<string, string>): { ok: false; problem: Problem } {
  const list = Object.entries(errors).map(([field, message]) => ({ field, message }));
  return { ok: false, problem: { status: 422, title: "Some values are not valid", detail: "", errors: list } };
}

function RecordFilterForm({ filters, errors, onFilter }: {
  filters: RecordFilters;
  errors: Record<string, string>;
  onFilter: (f: RecordFilters) => void;
}) {
  const [draft, setDraft] = useState<RecordFilters>({ ...filters, from: toLocalInput(filters.from), to: toLocalInput(filters.to) });
  const set = (name: keyof RecordFilters) => (value: string) => setDraft((d) => ({ ...d, [name]: value }));
  const submit = (e: Event) => {
    e.preventDefault();
    // A time the browser cannot read goes as typed, for the server to name.
    const time = (v: string) => fromLocalInput(v) || v;
    onFilter({ ...draft, from: time(draft.from), to: time(draft.to) });
  };
  return (
    <form class="filters" onSubmit={submit} noValidate aria-label="Filter records">
      <Field label="User" name="user" value={draft.user} onInput={set("user")} error={errors.user} hint="A username or a user id." />
      <Field label="Device" name="device" value={draft.device} onInput={set("device")} error={errors.device} />
      <Field label="Starting from" name="from" type="datetime-local" value={draft.from} onInput={set("from")}
        error={errors.from} hint="Your local time." />
      <Field label="Starting before" name="to" type="datetime-local" value={draft.to} onInput={set("to")} error={errors.to} />
      <Field label="Score at least" name="min_score" value={draft.min_score} onInput={set("min_score")} error={errors.min_score} />
      <Field label="Score at most" name="max_score" value={draft.max_score} onInput={set("max_score")} error={errors.max_score} />
      <div class="filter-buttons">
        <button type="submit" class="primary">
          Filter
        </button>
        {anyRecordFilter(filters) && <Link href="/records">Clear the filters</Link>}
      </div>
    </form>
  );
}

function RecordList({ filters, apiQuery, first, next, admin }: {
  filters: RecordFilters;
  apiQuery: RecordQuery;
  first: SleepRecord[];
  next: string | null;
  admin: boolean;
}) {
  const { more, from, problem, busy, loadMore } = useMore(next, (cursor) =>
    api.get("/api/v1/records", { query: { ...apiQuery, limit: pageSize, cursor } }),
  );
  const items = [...first, ...more];

  if (items.length === 0) {
    return anyRecordFilter(filters) ? (
      <Empty title="No record matches">
        <p>
          Widen the time or score range or drop a filter. <Link href="/records">Clear the filters</Link> to see every record.
        </p>
      </Empty>
    ) : (
      <Empty title="No records yet">
        <p>
          {admin
            ? "Upload a record file above, or drop files into the collector's folder (collector.dropzone)."
            : "Records show here once files are dropped into the collector's folder or uploaded by an admin."}
        </p>
      </Empty>
    );
  }
  return (
    <>
      <div class="wide">
        <Table caption="Sleep records, newest first"
          columns={["Record", "User", "Device", "Start", "Duration", "Sleep score", "Asleep", "Efficiency", "File"]}>
          {items.map((r) => (
            <tr key={r.id}>
              <th scope="row">
                <Link href={recordPath(r.id)} aria-label={`Record #${r.id}`}>
                  #{r.id}
                </Link>
              </th>
              <td>{r.user}</td>
              <td>{r.device_id ? <Link href={pathFor("device", { name: r.device })}>{r.device}</Link> : r.device}</td>
              <td>
                <time dateTime={r.start_time}>{formatTime(r.start_time)}</time>
              </td>
              <td class="number">{formatDuration(durationOf(r))}</td>
              <td class="number">{formatScore(r.sleep_score)}</td>
              <td class="number">{formatDuration(r.stages.asleep_s)}</td>
              <td class="number">{formatEfficiency(r.stages.efficiency)}</td>
              <td class="wrap">{r.file.name}</td>
            </tr>
          ))}
        </Table>
      </div>
      {problem && <ProblemView problem={problem} />}
      {from ? (
        <button type="button" disabled={busy} onClick={loadMore}>
          {busy ? "Loading…" : "Show more records"}
        </button>
      ) : (
        <p class="hint">That is every matching record.</p>
      )}
    </>
  );
}

type Phase = { at: "idle" } | { at: "sending"; percent: number } | { at: "checking" };

function UploadRecord({ onUploaded }: { onUploaded: () => void }) {
  const [file, setFile] = useState<File | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [missing, setMissing] = useState(false);
  const [phase, setPhase] = useState<Phase>({ at: "idle" });
  const [stored, setStored] = useState<SleepRecord | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    setStored(null);
    setProblem(null);
    setMissing(!file);
    if (!file) return;
    setPhase({ at: "sending", percent: 0 });
    const r = await upload("/api/v1/records", {
      query: { name: file.name },
      file,
      onProgress: (sent, total) => setPhase({ at: "sending", percent: total ? Math.round((100 * sent) / total) : 0 }),
      onSent: () => setPhase({ at: "checking" }),
    });
    setPhase({ at: "idle" });
    if (!r.ok) return setProblem(r.problem);
    setStored(r.data);
    onUploaded();
  };
  const error = missing ? "Choose a record file." : problem ? refusal(problem) : undefined;
  return (
    <form onSubmit={submit} noValidate class="narrow">
      <div class="field">
        <label for="field-record-file">Record file (HDF5)</label>
        <input id="field-record-file" type="file" accept=".h5,.hdf5,application/x-hdf5"
          aria-invalid={error ? "true" : undefined} aria-describedby="field-record-file-hint"
          onChange={(e) => setFile(e.currentTarget.files?.[0] ?? null)} />
        <p class="hint" id="field-record-file-hint">
          Its user attribute must be an account's username; the same file is stored once.
        </p>
      </div>
      <button type="submit" class="primary" disabled={phase.at !== "idle"}>
        {phase.at === "idle" ? "Upload record" : "Uploading…"}
      </button>
      {phase.at === "sending" && (
        <p role="status">
          Sending: <progress max={100} value={phase.percent} aria-label="Sent" /> {phase.percent} %
        </p>
      )}
      {phase.at === "checking" && <p role="status">The server reads the file…</p>}
      <FormMessage error={error} />
      {stored && (
        <p class="message success" role="status">
          Stored as <Link href={recordPath(stored.id)}>record #{stored.id}</Link>: {stored.user}'s night of{" "}
          {formatTime(stored.start_time)} on {stored.device}.
        </p>
      )}
    </form>
  );
}

// The server's reason for refusing a file, with what it is about.
function refusal(p: Problem): string {
  const why = describe(p);
  if (p.status === 422) return `The file was refused: ${why}`;
  if (p.status === 409) return `This file is stored already: ${why}`;
  return why;
}

// --- One record ---

export function RecordPage({ id, search }: { id: string; search: string }) {
  const [record, reload] = useLoad(() => api.get("/api/v1/records/{id}", { path: { id } }), [id]);
  return (
    <>
      <p class="crumbs">
        <Link href="/records">Records</Link> /
      </p>
      <h1 tabIndex={-1}>Record #{id}</h1>
      {record.state === "loading" && <p aria-busy="true">Loading the record…</p>}
      {record.state === "error" &&
        (record.problem.status === 404 ? (
          <Empty title="No such record">
            <p>
              There is no record #{id}; it may have been deleted. <Link href="/records">See the records</Link>.
            </p>
          </Empty>
        ) : (
          <ProblemView problem={record.problem} retry={reload} />
        ))}
      {record.state === "ok" && <RecordBody record={record.data} search={search} />}
    </>
  );
}

function RecordBody({ record: r, search }: { record: SleepRecord; search: string }) {
  const { user } = useSession();
  const s = r.stages;
  const attributes = Object.entries(r.attributes as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b));
  return (
    <>
      <dl class="facts">
        <dt>User</dt>
        <dd>{r.user}</dd>
        <dt>Device</dt>
        <dd>{r.device_id ? <Link href={pathFor("device", { name: r.device })}>{r.device}</Link> : r.device}</dd>
        <dt>Recorded</dt>
        <dd>
          {formatTime(r.start_time)} to {formatTime(r.stop_time)} ({formatDuration(durationOf(r))})
        </dd>
        <dt>Asleep</dt>
        <dd>
          {formatTime(r.sleep_start_time)} to {formatTime(r.sleep_stop_time)}
        </dd>
        <dt>Sleep score</dt>
        <dd>{formatScore(r.sleep_score)}</dd>
        <dt>Stimulations</dt>
        <dd>{r.number_of_stimulations}</dd>
        <dt>Wakes</dt>
        <dd>{r.number_of_wake}</dd>
        <dt>Dreempy version</dt>
        <dd>{r.dreempy_version || "—"}</dd>
        <dt>File</dt>
        <dd class="wrap">
          {r.file.name} ({formatBytes(r.file.bytes)}, {r.source === "upload" ? "uploaded" : "from the drop folder"}{" "}
          {formatTime(r.created_at)}), SHA-256 <code>{r.file.sha256.slice(0, 16)}…</code>
        </dd>
      </dl>

      <h2>Stages</h2>
      <Table caption="Time in each stage" columns={["Stage", "Time", "Share of the night"]}>
        {(
          [
            ["Wake", s.wake_s],
            ["N1", s.n1_s],
            ["N2", s.n2_s],
            ["N3", s.n3_s],
            ["REM", s.rem_s],
            ["Artefact", s.artefact_s],
          ] as const
        ).map(([name, secs]) => (
          <tr key={name}>
            <th scope="row">{name}</th>
            <td class="number">{formatDuration(secs)}</td>
            <td class="number">{s.epochs ? `${((100 * secs) / (s.epochs * epochSeconds)).toFixed(1)} %` : "—"}</td>
          </tr>
        ))}
      </Table>
      <dl class="facts">
        <dt>Asleep</dt>
        <dd>{formatDuration(s.asleep_s)}</dd>
        <dt>Efficiency</dt>
        <dd>{formatEfficiency(s.efficiency)}</dd>
        <dt>Sleep latency</dt>
        <dd>{formatDuration(s.sleep_latency_s)}</dd>
        <dt>REM latency</dt>
        <dd>{formatDuration(s.rem_latency_s)}</dd>
      </dl>

      <Hypnogram id={r.id} />

      <h2>Channels</h2>
      {r.channels.length === 0 ? (
        <p>This record has no signals.</p>
      ) : (
        <Table caption="Signal channels" columns={["#", "Channel", "Modality", "Rate", "Unit", "Samples", "Duration"]}>
          {r.channels.map((c) => (
            <tr key={c.index}>
              <td class="number">{c.index}</td>
              <th scope="row">{c.name}</th>
              <td>{c.modality}</td>
              <td class="number">{c.fs} Hz</td>
              <td>{c.unit || "—"}</td>
              <td class="number">{c.samples.toLocaleString()}</td>
              <td class="number">{formatDuration(c.duration_s)}</td>
            </tr>
          ))}
        </Table>
      )}
      {r.channels.length > 0 && <SignalViewer record={r} search={search} />}

      <h2>Attributes</h2>
      <Table caption="Every attribute of the file" columns={["Attribute", "Value"]}>
        {attributes.map(([k, v]) => (
          <tr key={k}>
            <th scope="row">
              <code>{k}</code>
            </th>
            <td class="wrap">{formatAttribute(v)}</td>
          </tr>
        ))}
      </Table>

      {user?.role === "admin" && <DeleteRecord record={r} />}
    </>
  );
}

function Hypnogram({ id }: { id: number }) {
  const [h, reload] = useLoad(() => api.get("/api/v1/records/{id}/hypnogram", { path: { id: String(id) } }), [id]);
  return (
    <section aria-labelledby="hypnogram-heading">
      <h2 id="hypnogram-heading">Hypnogram</h2>
      {h.state === "loading" && <p aria-busy="true">Loading the hypnogram…</p>}
      {h.state === "error" && <ProblemView problem={h.problem} retry={reload} />}
      {h.state === "ok" && (h.data.length ? <HypnogramPlot epochs={h.data} /> : <p>This record has no hypnogram.</p>)}
    </section>
  );
}

const hyp = { width: 1000, height: 210, left: 80, right: 10, top: 8, bottom: 26 };

function HypnogramPlot({ epochs }: { epochs: Epoch[] }) {
  const w = hyp.width - hyp.left - hyp.right;
  const hgt = hyp.height - hyp.top - hyp.bottom;
  const runs = stageRuns(epochs);
  const from = runs[0]?.from ?? 0;
  const to = runs[runs.length - 1]?.to ?? 0;
  const x = (t: number) => (to > from ? ((t - from) / (to - from)) * w : 0);
  const rowH = hgt / stageRows.length;
  const summary = hypnogramSummary(epochs);
  const clock = (t: number) => new Date(t).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  return (
    <>
      <figure class="hypnogram">
        <svg viewBox={`0 0 ${hyp.width} ${hyp.height}`} role="img" aria-labelledby="hypnogram-summary">
          <g transform={`translate(${hyp.left} ${hyp.top})`}>
            {stageRows.map((r, i) => (
              <g key={r.name}>
                <line class="grid" x1={0} x2={w} y1={i * rowH + rowH / 2} y2={i * rowH + rowH / 2} />
                <text class="label" x={-8} y={i * rowH + rowH / 2} text-anchor="end" dominant-baseline="middle">
                  {r.name}
                </text>
              </g>
            ))}
            {timeTicks(from, to).map((t) => (
              <g key={t}>
                <line class="grid" x1={x(t)} x2={x(t)} y1={0} y2={hgt} />
                <text class="label" x={x(t)} y={hgt + 18} text-anchor="middle">
                  {clock(t)}
                </text>
              </g>
            ))}
            <path class="line" d={hypnogramPath(epochs, w, hgt)} />
          </g>
        </svg>
        <figcaption id="hypnogram-summary">{summary}</figcaption>
      </figure>
      <details>
        <summary>The hypnogram as a table</summary>
        <Table caption="Stretches of one stage, in time order" columns={["From", "To", "Stage", "Length"]}>
          {runs.map((r) => (
            <tr key={r.from}>
              <td>{clock(r.from)}</td>
              <td>{clock(r.to)}</td>
              <td>{stageName(r.stage)}</td>
              <td class="number">{formatDuration((r.to - r.from) / 1000)}</td>
            </tr>
          ))}
        </Table>
      </details>
    </>
  );
}

function DeleteRecord({ record }: { record: SleepRecord }) {
  const [confirming, setConfirming] = useState(false);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [busy, setBusy] = useState(false);
  const cancel = useRef<HTMLButtonElement>(null);
  const start = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (confirming) cancel.current?.focus();
  }, [confirming]);
  const remove = async () => {
    setBusy(true);
    const r = await api.delete("/api/v1/records/{id}", { path: { id: String(record.id) } });
    setBusy(false);
    setConfirming(false);
    if (!r.ok) return setProblem(r.problem);
    navigate("/records");
  };
  return (
    <section aria-labelledby="delete-heading">
      <h2 id="delete-heading">Delete</h2>
      {confirming ? (
        <div role="group" aria-labelledby="delete-confirm" class="confirm">
          <p id="delete-confirm">
            Delete record #{record.id} ({record.user}, {formatTime(record.start_time)}) and its signals? This cannot be undone.
          </p>
          <button type="button" class="danger" disabled={busy} onClick={remove}>
            Yes, delete record #{record.id}
          </button>
          <button type="button" ref={cancel} onClick={() => {
            setConfirming(false);
            requestAnimationFrame(() => start.current?.focus());
          }}>
            Cancel
          </button>
        </div>
      ) : (
        <button type="button" class="danger" ref={start} onClick={() => {
          setProblem(null);
          setConfirming(true);
        }}>
          Delete this record
        </button>
      )}
      {problem && (
        <p class="error" role="alert">
          {describe(problem)}
        </p>
      )}
    </section>
  );
}
