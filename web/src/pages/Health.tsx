// Admin: whether the server is alive and ready (/healthz, /readyz) in words, and the key
// figures of /metrics (parsed by ./metrics).
import { useState } from "preact/hooks";
import { api, getText } from "../api/client";
import { describe } from "../api/problem";
import { ProblemView, Table, useLoad } from "../components/ui";
import { AdminOnly } from "./AdminOnly";
import { type HealthFigures, healthFigures, parsePrometheus } from "./metrics";

export function Health() {
  return (
    <AdminOnly title="Health">
      <HealthBody />
    </AdminOnly>
  );
}

function HealthBody() {
  const [round, setRound] = useState(0);
  const [checkedAt, setCheckedAt] = useState(() => new Date());
  const deps = [round];
  const [alive] = useLoad(() => api.get("/healthz", {}), deps);
  const [ready] = useLoad(() => api.get("/readyz", {}), deps);
  const [metrics, reloadMetrics] = useLoad(() => getText("/metrics"), deps);
  const again = () => {
    setRound((n) => n + 1);
    setCheckedAt(new Date());
  };

  const readyWords = () => {
    if (ready.state === "loading") return "Checking…";
    if (ready.state === "error") {
      return ready.problem.status === 503
        ? `Not ready: ${ready.problem.detail.replace(/^not ready: /, "")}. Requests that need it fail until it is.`
        : describe(ready.problem);
    }
    const checks = Object.entries(ready.data.checks).map(([name, state]) => `${name} ${state}`);
    return `Ready: ${checks.join(", ")}.`;
  };
  const aliveWords =
    alive.state === "loading"
      ? "Checking…"
      : alive.state === "ok"
        ? "Alive: the server answers."
        : describe(alive.problem);

  return (
    <>
      <dl class="facts health">
        <dt>Process</dt>
        <dd class={alive.state === "ok" ? "good" : alive.state === "error" ? "bad" : ""}>{aliveWords}</dd>
        <dt>Readiness</dt>
        <dd class={ready.state === "ok" ? "good" : ready.state === "error" ? "bad" : ""}>{readyWords()}</dd>
        <dt>Checked</dt>
        <dd>{checkedAt.toLocaleTimeString()}</dd>
      </dl>
      <p>
        <button type="button" onClick={again}>
          Check again
        </button>
      </p>

      <h2>Since the server started</h2>
      {metrics.state === "loading" && <p aria-busy="true">Reading the metrics…</p>}
      {metrics.state === "error" && <ProblemView problem={metrics.problem} retry={reloadMetrics} />}
      {metrics.state === "ok" && <Figures f={healthFigures(parsePrometheus(metrics.data))} />}
      <p>
        Every metric, for Prometheus: <a href="/metrics">/metrics</a>.
      </p>
    </>
  );
}

const count = (n: number | null) => (n === null ? "not reported" : n.toLocaleString());

function Figures({ f }: { f: HealthFigures }) {
  const classes: [string, string][] = [
    ["1xx", "switched protocols (WebSockets)"],
    ["2xx", "succeeded"],
    ["3xx", "redirected or not modified"],
    ["4xx", "refused (client errors)"],
    ["5xx", "failed (server errors)"],
  ];
  const rows: [string, string][] = [
    ["Requests answered", count(f.requests)],
    ...classes
      .filter(([c]) => f.byClass[c] !== undefined || c === "5xx")
      .map(([c, words]): [string, string] => [`… ${words}, ${c}`, count(f.byClass[c] ?? 0)]),
    ["Mean response time", f.meanLatency === null ? "no requests timed yet" : formatSeconds(f.meanLatency)],
    ["Open HTTP connections", count(f.connections)],
    ["Open WebSocket sessions", count(f.webSockets)],
    ["Device sessions", count(f.deviceSessions)],
    ["Rows predicted", count(f.inferenceRows)],
    ["Models in the cache", count(f.modelsCached)],
    ["Audit records written", count(f.auditWritten)],
    ["Audit records waiting", count(f.auditQueue)],
    ["Audit records dropped (the writer fell behind)", count(f.auditDropped)],
    ["Audit records lost to store errors", count(f.auditFailed)],
  ];
  const lost = (f.auditDropped ?? 0) + (f.auditFailed ?? 0);
  return (
    <>
      {lost > 0 && (
        <p class="message error" role="alert">
          The audit log is missing {lost.toLocaleString()} calls. See the server's log for why.
        </p>
      )}
      <div class="figures">
        <Table caption="Key figures since the server started" columns={["Figure", "Value"]}>
          {rows.map(([name, value]) => (
            <tr key={name}>
              <th scope="row">{name}</th>
              <td class="number">{value}</td>
            </tr>
          ))}
        </Table>
      </div>
    </>
  );
}

function formatSeconds(s: number): string {
  if (s < 0.001) return `${Number((s * 1e6).toPrecision(3))} µs`;
  if (s < 1) return `${Number((s * 1000).toPrecision(3))} ms`;
  return `${Number(s.toPrecision(3))} s`;
}
