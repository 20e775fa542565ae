// Tasks: asynchronous predictions — one's history (admins: everyone's) with live status, filters
// in the URL, cancel while queued; one task with its result per row (prediction, band). Tasks are
// submitted from the Predict page ("Run as a task") or the API.
import { useEffect, useState } from "preact/hooks";
import { type TaskItem, api } from "../api/client";
import { type Problem, describe } from "../api/problem";
import { Empty, Link, ProblemView, Table, formatTime, useLoad } from "../components/ui";
import { useEvents, useThrottled } from "../live";
import { navigate, pathFor } from "../router";
import { StateTag } from "./Rollouts";

const statuses = ["queued", "running", "done", "rejected", "failed", "cancelled"] as const;
const credits = (n: number) => Number(n.toFixed(3)).toString();

export function Tasks({ search }: { search: string }) {
  const status = new URLSearchParams(search).get("status") ?? "";
  const [page, reload] = useLoad(
    () => api.get("/api/v1/tasks", { query: { limit: 100, status: status || undefined } }),
    [status],
  );
  const refresh = useThrottled(reload, 300);
  useEvents(["tasks"], refresh, refresh);
  const [problem, setProblem] = useState<Problem | null>(null);
  const cancel = async (t: TaskItem) => {
    const r = await api.delete("/api/v1/tasks/{id}", { path: { id: String(t.id) } });
    setProblem(r.ok ? null : r.problem);
    reload();
  };
  return (
    <>
      <h1 tabIndex={-1}>Tasks</h1>
      <p>
        Predictions that run on a worker: their cost is held while they wait and charged only when they are done. Start
        one from <Link href="/predict">Predict</Link> with “Run as a task”.
      </p>
      <div class="field inline">
        <label for="task-status">Show</label>
        <select id="task-status" value={status}
          onChange={(e) => navigate(e.currentTarget.value ? `/tasks?status=${e.currentTarget.value}` : "/tasks")}>
          <option value="">All tasks</option>
          {statuses.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
      </div>
      {problem && (
        <p class="message error" role="alert">
          {describe(problem)}
        </p>
      )}
      {page.state === "loading" && <p aria-busy="true">Loading the tasks…</p>}
      {page.state === "error" && <ProblemView problem={page.problem} retry={reload} />}
      {page.state === "ok" &&
        (page.data.items.length === 0 ? (
          <Empty title={status ? `No ${status} tasks` : "No tasks yet"}>
            <p>
              Choose a model on <Link href="/predict">Predict</Link>, fill in the form and press “Run as a task”, or
              POST rows to <code>/api/v1/tasks</code> (<a href="/docs">API docs</a>).
            </p>
          </Empty>
        ) : (
          <Table caption="Tasks, newest first" columns={["Task", "Status", "Model", "Rows", "Cost", "Submitted", ""]}>
            {page.data.items.map((t) => (
              <tr key={t.id}>
                <th scope="row">
                  <Link href={pathFor("task", { id: String(t.id) })}>#{t.id}</Link>
                </th>
                <td>
                  <StateTag state={t.status} />
                </td>
                <td>
                  {t.model}:{t.version}
                </td>
                <td class="number">{t.rows}</td>
                <td class="number">{credits(t.cost)}</td>
                <td>{formatTime(t.created_at)}</td>
                <td>
                  {t.status === "queued" && (
                    <button type="button" onClick={() => cancel(t)} aria-label={`Cancel task ${t.id}`}>
                      Cancel
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </Table>
        ))}
    </>
  );
}

export function Task({ id }: { id: string }) {
  const [task, reload] = useLoad(() => api.get("/api/v1/tasks/{id}", { path: { id } }), [id]);
  const refresh = useThrottled(reload, 200);
  useEvents(["tasks"], (e) => String(e.event.id) === id && refresh(), refresh);
  // A task often ends within a millisecond, before the events subscription is live, so the event
  // can come too early to be seen. While it waits, a waiting read (?wait=25) answers as soon as it
  // ends (or after 25 s, and then it asks again), and the page never misses its end.
  const waiting = task.state === "ok" && (task.data.status === "queued" || task.data.status === "running");
  useEffect(() => {
    if (!waiting) return undefined;
    let live = true;
    void api.get("/api/v1/tasks/{id}", { path: { id }, query: { wait: 25 } }).then(() => live && reload());
    return () => {
      live = false;
    };
  }, [waiting, id, task, reload]);
  return (
    <>
      <p class="crumbs">
        <Link href="/tasks">Tasks</Link> /
      </p>
      <h1 tabIndex={-1}>Task #{id}</h1>
      {task.state === "loading" && <p aria-busy="true">Loading the task…</p>}
      {task.state === "error" &&
        (task.problem.status === 404 ? (
          <Empty title="No such task">
            <p>
              There is no task #{id} of yours. <Link href="/tasks">See your tasks</Link>.
            </p>
          </Empty>
        ) : (
          <ProblemView problem={task.problem} retry={reload} />
        ))}
      {task.state === "ok" && <TaskBody t={task.data} />}
    </>
  );
}

type ResultRow = { prediction: number | number[]; band: { label: string; color: string } | null };

function TaskBody({ t }: { t: TaskItem }) {
  const rows = ((t.result as { rows?: ResultRow[] } | null)?.rows ?? []) as ResultRow[];
  const waiting = t.status === "queued" || t.status === "running";
  return (
    <>
      <dl class="facts">
        <dt>Status</dt>
        <dd>
          <span role="status">
            <StateTag state={t.status} />
          </span>
          {waiting && <span class="hint"> updates by itself</span>}
        </dd>
        <dt>Model</dt>
        <dd>
          <Link href={pathFor("model", { name: t.model })}>{t.model}</Link>:{t.version}
        </dd>
        <dt>Rows</dt>
        <dd>{t.rows}</dd>
        <dt>Cost</dt>
        <dd>
          {credits(t.cost)} credits {t.status === "done" ? "(charged)" : waiting ? "(held)" : "(not charged)"}
        </dd>
        <dt>Submitted</dt>
        <dd>{formatTime(t.created_at)}</dd>
        {t.finished_at && (
          <>
            <dt>Finished</dt>
            <dd>{formatTime(t.finished_at)}</dd>
          </>
        )}
        <dt>Attempts</dt>
        <dd>{t.attempts}</dd>
      </dl>
      {t.error && (
        <p class="message error" role="alert">
          {t.error}
        </p>
      )}
      {rows.length > 0 && (
        <>
          <h2>Result</h2>
          <Table caption="The prediction of each row" columns={["Row", "Prediction", "Band"]}>
            {rows.slice(0, 1000).map((r, i) => (
              <tr key={i}>
                <th scope="row">{i + 1}</th>
                <td class="number">
                  {Array.isArray(r.prediction) ? r.prediction.map((p) => Number(p.toPrecision(4))).join(", ") : Number(r.prediction.toPrecision(4))}
                </td>
                <td>{r.band ? <span class="band">{r.band.label}</span> : "—"}</td>
              </tr>
            ))}
          </Table>
          {rows.length > 1000 && <p class="hint">The first 1000 of {rows.length} rows; the API has them all.</p>}
        </>
      )}
    </>
  );
}
