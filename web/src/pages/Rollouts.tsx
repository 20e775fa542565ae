// Rollouts: the list (live: counts move as devices report), one rollout with its per-device
// progress, history and pause/resume/abort.
import { useState } from "preact/hooks";
import { type Rollout as RolloutT, type RolloutDevice, type RolloutSummary, api } from "../api/client";
import { type Problem, describe } from "../api/problem";
import { Empty, Link, ProblemView, Table, formatTime, useLoad } from "../components/ui";
import { useEvents, useThrottled } from "../live";
import { navigate, pathFor } from "../router";
import { useSession } from "../session";
import { deviceStates, progressOf } from "./rollout-logic";

const states = ["running", "paused", "halted", "completed", "aborted"] as const;

function what(r: RolloutSummary): string {
  const s = r.select;
  const sel =
    s.model !== undefined
      ? `devices on ${s.model}:${s.version}`
      : s.devices
        ? `${s.devices.length === 1 ? "device" : "devices"} ${s.devices.join(", ")}`
        : s.labels
          ? `devices labelled ${Object.entries(s.labels).map(([k, v]) => `${k}=${v}`).join(", ")}`
          : "every device";
  const to = r.action === "update" && r.target ? `to ${r.target.model}:${r.target.version}` : r.action === "blank" ? "to blank" : "back";
  return `${sel} ${to}`;
}

export function StateTag({ state }: { state: string }) {
  return <span class={`state ${state}`}>{state.replace("_", " ")}</span>;
}

function Progress({ r }: { r: RolloutSummary }) {
  const p = progressOf(r.counts);
  return (
    <span class="progress-cell">
      <progress max={p.total || 1} value={p.done} aria-label={`Rollout ${r.id}: ${p.done} of ${p.total} devices done`} />{" "}
      {p.done}/{p.total}
      {p.failed > 0 && <span class="error"> · {p.failed} failed</span>}
    </span>
  );
}

export function Rollouts({ search }: { search: string }) {
  const state = new URLSearchParams(search).get("state") ?? "";
  const [page, reload] = useLoad(
    () => api.get("/api/v1/rollouts", { query: { limit: 100, state: state || undefined } }),
    [state],
  );
  const refresh = useThrottled(reload, 300);
  useEvents(["rollouts"], refresh, refresh);
  const { user } = useSession();
  return (
    <>
      <h1 tabIndex={-1}>Rollouts</h1>
      <p>
        A rollout moves many devices to a model: a canary first, then batches, halting by itself on failures or alarms.
      </p>
      {user?.role === "admin" && (
        <p>
          <Link href="/rollouts/new" class="button primary">
            Start a rollout
          </Link>
        </p>
      )}
      <div class="field inline">
        <label for="rollout-state">Show</label>
        <select id="rollout-state" value={state} onChange={(e) => navigate(e.currentTarget.value ? `/rollouts?state=${e.currentTarget.value}` : "/rollouts")}>
          <option value="">All rollouts</option>
          {states.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
      </div>
      {page.state === "loading" && <p aria-busy="true">Loading the rollouts…</p>}
      {page.state === "error" && <ProblemView problem={page.problem} retry={reload} />}
      {page.state === "ok" &&
        (page.data.items.length === 0 ? (
          <Empty title={state ? `No ${state} rollouts` : "No rollouts yet"}>
            <p>
              {user?.role === "admin"
                ? "Start one with “Start a rollout”, or from an alarm on the Alarms page."
                : "An admin starts rollouts; they show here with their progress."}
            </p>
          </Empty>
        ) : (
          <Table caption="Rollouts, newest first" columns={["Rollout", "What", "State", "Progress", "Started"]}>
            {page.data.items.map((r) => (
              <tr key={r.id}>
                <th scope="row">
                  <Link href={pathFor("rollout", { id: String(r.id) })}>#{r.id}</Link>
                </th>
                <td>
                  {r.action} {what(r)}
                </td>
                <td>
                  <StateTag state={r.state} />
                  {r.reason && <span class="hint"> {r.reason}</span>}
                </td>
                <td>
                  <Progress r={r} />
                </td>
                <td>{formatTime(r.created_at)}</td>
              </tr>
            ))}
          </Table>
        ))}
    </>
  );
}

export function Rollout({ id, search }: { id: string; search: string }) {
  const q = new URLSearchParams(search);
  const filter = q.get("state") ?? "";
  const [rollout, reload] = useLoad(() => api.get("/api/v1/rollouts/{id}", { path: { id } }), [id]);
  const [devices, reloadDevices] = useLoad(
    () => api.get("/api/v1/rollouts/{id}/devices", { path: { id }, query: { limit: 200, state: filter || undefined } }),
    [id, filter],
  );
  const refresh = useThrottled(() => {
    reload();
    reloadDevices();
  }, 300);
  useEvents(
    ["rollouts", "devices"],
    (e) => {
      if ((e.topic === "rollouts" && String(e.event.id) === id) || String(e.event.rollout) === id) refresh();
    },
    refresh,
  );
  return (
    <>
      <p class="crumbs">
        <Link href="/rollouts">Rollouts</Link> /
      </p>
      <h1 tabIndex={-1}>Rollout #{id}</h1>
      {q.has("started") && (
        <p class="message success" role="status">
          The rollout started. Its progress shows here as devices report.
        </p>
      )}
      {rollout.state === "loading" && <p aria-busy="true">Loading the rollout…</p>}
      {rollout.state === "error" &&
        (rollout.problem.status === 404 ? (
          <Empty title="No such rollout">
            <p>
              There is no rollout #{id}. <Link href="/rollouts">See all rollouts</Link>.
            </p>
          </Empty>
        ) : (
          <ProblemView problem={rollout.problem} retry={reload} />
        ))}
      {rollout.state === "ok" && (
        <>
          <RolloutBody r={rollout.data} onChange={refresh} />
          <h2>Devices</h2>
          <div class="field inline">
            <label for="device-state">Show</label>
            <select id="device-state" value={filter}
              onChange={(e) => navigate(pathFor("rollout", { id }) + (e.currentTarget.value ? `?state=${e.currentTarget.value}` : ""), { replace: true })}>
              <option value="">Every device</option>
              {deviceStates.map((s) => (
                <option key={s} value={s}>
                  {s.replace("_", " ")} ({rollout.data.counts[s]})
                </option>
              ))}
            </select>
          </div>
          {devices.state === "error" && <ProblemView problem={devices.problem} retry={reloadDevices} />}
          {devices.state === "ok" && <DeviceTable items={devices.data.items} more={devices.data.next_cursor !== null} />}
        </>
      )}
    </>
  );
}

function RolloutBody({ r, onChange }: { r: RolloutT; onChange: () => void }) {
  const { user } = useSession();
  const [problem, setProblem] = useState<Problem | null>(null);
  const [confirmAbort, setConfirmAbort] = useState(false);
  const act = async (action: "pause" | "resume" | "abort") => {
    const path = `/api/v1/rollouts/{id}/${action}` as const;
    const res = await api.post(path, { path: { id: String(r.id) }, body: {} });
    setProblem(res.ok ? null : res.problem);
    setConfirmAbort(false);
    onChange();
  };
  const p = progressOf(r.counts);
  const open = r.state === "running" || r.state === "paused" || r.state === "halted";
  return (
    <>
      <dl class="facts">
        <dt>What</dt>
        <dd>
          {r.action} {what(r)}
        </dd>
        <dt>State</dt>
        <dd>
          <StateTag state={r.state} />
          {r.reason && <span> — {r.reason}</span>}
        </dd>
        <dt>Progress</dt>
        <dd>
          <Progress r={r} />
        </dd>
        <dt>Limits</dt>
        <dd>
          canary {r.canary_percent}%, batches of {r.batch_size}
          {r.rate_per_minute ? `, at most ${r.rate_per_minute}/min` : ""}, halts above {r.max_failure_percent}% failed
          (after {r.min_sample}){r.max_alarm_percent ? ` or ${r.max_alarm_percent}% alarming` : ""}, confirm{" "}
          {r.confirm_s} s, timeout {r.device_timeout_s} s{r.auto_rollback ? ", rolls back on a halt" : ""}
        </dd>
        <dt>Started</dt>
        <dd>{formatTime(r.created_at)}</dd>
      </dl>
      <Table caption="Devices per state" columns={deviceStates.map((s) => s.replace("_", " "))}>
        <tr>
          {deviceStates.map((s) => (
            <td key={s} class="number">
              {r.counts[s]}
            </td>
          ))}
        </tr>
      </Table>
      <p class="visually-hidden" role="status">
        {r.state}: {p.done} of {p.total} devices done
      </p>
      {user?.role === "admin" && open && (
        <div class="actions">
          {r.state === "running" && (
            <button type="button" onClick={() => act("pause")}>
              Pause
            </button>
          )}
          {(r.state === "paused" || r.state === "halted") && (
            <button type="button" onClick={() => act("resume")}>
              Resume
            </button>
          )}
          {confirmAbort ? (
            <>
              <button type="button" class="danger" onClick={() => act("abort")}>
                Yes, abort it
              </button>
              <button type="button" onClick={() => setConfirmAbort(false)}>
                Keep it
              </button>
            </>
          ) : (
            <button type="button" onClick={() => setConfirmAbort(true)}>
              Abort…
            </button>
          )}
        </div>
      )}
      {problem && (
        <p class="message error" role="alert">
          {describe(problem)}
        </p>
      )}
      <h2>History</h2>
      <Table caption="History, oldest first" columns={["When", "From", "To", "By", "Why"]}>
        {r.history.map((h, i) => (
          <tr key={i}>
            <td>{formatTime(h.at)}</td>
            <td>{h.from ?? ""}</td>
            <td>{h.to}</td>
            <td>{h.by === null ? "the server" : `user ${h.by}`}</td>
            <td>{h.reason}</td>
          </tr>
        ))}
      </Table>
    </>
  );
}

function DeviceTable({ items, more }: { items: RolloutDevice[]; more: boolean }) {
  if (items.length === 0) return <p>No device in this state.</p>;
  return (
    <>
      <Table caption="The rollout's devices, in order" columns={["Device", "Wave", "State", "From", "To", "Updated", "Why"]}>
        {items.map((d) => (
          <tr key={d.position}>
            <th scope="row">
              <Link href={pathFor("device", { name: d.device })}>{d.device}</Link>
            </th>
            <td>{d.wave === 0 ? "canary" : d.wave}</td>
            <td>
              <StateTag state={d.state} />
            </td>
            <td>{d.from ? `${d.from.name}:${d.from.version}` : "none"}</td>
            <td>{d.target ? `${d.target.name}:${d.target.version}` : "none"}</td>
            <td>{formatTime(d.updated_at)}</td>
            <td>{d.reason}</td>
          </tr>
        ))}
      </Table>
      {more && <p class="hint">The first 200 are shown; filter by state to see others.</p>}
    </>
  );
}
