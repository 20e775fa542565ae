// Alarms: the live list (new ones appear without a reload, marked new), filters in the URL,
// acknowledge and clear, and from an alarm about a model one click to the rollout wizard to roll
// that model forward, back or to blank. Also the menu's count of active alarms.
import { useState } from "preact/hooks";
import { type Alarm, api } from "../api/client";
import { type Problem, describe } from "../api/problem";
import { Empty, Field, Link, ProblemView, Table, formatTime, useLoad } from "../components/ui";
import { useEvents, useThrottled } from "../live";
import { navigate, pathFor } from "../router";
import { useSession } from "../session";
import { wizardLinkFor } from "./rollout-logic";

const filterKeys = ["state", "severity", "source", "device", "model"] as const;
type Filter = Record<(typeof filterKeys)[number], string>;

export function Alarms({ search }: { search: string }) {
  const q = new URLSearchParams(search);
  const filter = Object.fromEntries(filterKeys.map((k) => [k, q.get(k) ?? ""])) as Filter;
  const query = Object.fromEntries(Object.entries(filter).filter(([, v]) => v)) as Partial<Filter>;
  const [page, reload] = useLoad(() => api.get("/api/v1/alarms", { query: { ...query, limit: 100 } }), [search]);
  // Ids seen when the page was first shown: later ones are marked new.
  const [seen, setSeen] = useState<Set<number> | null>(null);
  if (page.state === "ok" && seen === null) setSeen(new Set(page.data.items.map((a) => a.id)));
  const refresh = useThrottled(reload, 300);
  useEvents(["alarms"], refresh, refresh);
  const { user } = useSession();
  const [problem, setProblem] = useState<Problem | null>(null);
  const act = async (a: Alarm, action: "ack" | "clear") => {
    const r = await api.post(action === "ack" ? "/api/v1/alarms/{id}/ack" : "/api/v1/alarms/{id}/clear", { path: { id: String(a.id) } });
    setProblem(r.ok ? null : r.problem);
    reload();
  };
  const filtered = Object.keys(query).length > 0;
  const items = page.state === "ok" ? page.data.items : [];
  return (
    <>
      <h1 tabIndex={-1}>Alarms</h1>
      <AlarmFilters filter={filter} />
      {problem && (
        <p class="message error" role="alert">
          {describe(problem)}
        </p>
      )}
      {page.state === "loading" && <p aria-busy="true">Loading the alarms…</p>}
      {page.state === "error" && <ProblemView problem={page.problem} retry={reload} />}
      {page.state === "ok" &&
        (items.length === 0 ? (
          <Empty title={filtered ? "No alarm matches" : "No alarms"}>
            <p>
              {filtered ? (
                <>
                  Change the filters, or <Link href="/alarms">show every alarm</Link>.
                </>
              ) : (
                "Watchdogs report alarms when a model's score passes its alarm threshold; they appear here as they come."
              )}
            </p>
          </Empty>
        ) : (
          <Table caption="Alarms, newest first" columns={["Alarm", "Severity", "Device", "Model", "Count", "Last", "State", "Actions"]}>
            {items.map((a) => (
              <tr key={a.id} class={seen && !seen.has(a.id) ? "new" : undefined}>
                <th scope="row">
                  #{a.id}
                  {seen && !seen.has(a.id) && <span class="tag">new</span>}
                </th>
                <td>
                  <span class={`severity ${a.severity}`}>{a.severity}</span>
                </td>
                <td>
                  {a.device ? <Link href={pathFor("device", { name: a.device })}>{a.device}</Link> : "none"}
                  {a.sensor && <span class="hint"> sensor {a.sensor}</span>}
                </td>
                <td>{a.model ? `${a.model.name}:${a.model.version}` : "none"}</td>
                <td class="number">{a.count}</td>
                <td>{formatTime(a.last_at)}</td>
                <td>{a.state}</td>
                <td class="actions">
                  {user?.role === "admin" && a.state === "active" && (
                    <button type="button" onClick={() => act(a, "ack")} aria-label={`Acknowledge alarm ${a.id}`}>
                      Acknowledge
                    </button>
                  )}
                  {user?.role === "admin" && a.state !== "cleared" && (
                    <button type="button" onClick={() => act(a, "clear")} aria-label={`Clear alarm ${a.id}`}>
                      Clear
                    </button>
                  )}
                  {user?.role === "admin" && a.model && (
                    <span class="roll">
                      Roll {a.model.name}:{a.model.version}{" "}
                      <Link href={wizardLinkFor(a.model, "update")} aria-label={`Roll ${a.model.name} forward from alarm ${a.id}`}>
                        forward
                      </Link>
                      {" · "}
                      <Link href={wizardLinkFor(a.model, "rollback")} aria-label={`Roll ${a.model.name} back from alarm ${a.id}`}>
                        back
                      </Link>
                      {" · "}
                      <Link href={wizardLinkFor(a.model, "blank")} aria-label={`Roll ${a.model.name} to blank from alarm ${a.id}`}>
                        to blank
                      </Link>
                    </span>
                  )}
                </td>
              </tr>
            ))}
          </Table>
        ))}
      {page.state === "ok" && page.data.next_cursor && <p class="hint">The newest 100 are shown; filter to see others.</p>}
    </>
  );
}

function AlarmFilters({ filter }: { filter: Filter }) {
  const [f, setF] = useState(filter);
  const set = (k: keyof Filter) => (v: string) => setF((x) => ({ ...x, [k]: v }));
  const apply = (e: Event) => {
    e.preventDefault();
    const q = new URLSearchParams(Object.entries(f).filter(([, v]) => v.trim()).map(([k, v]) => [k, v.trim()]));
    const s = q.toString();
    navigate(s ? `/alarms?${s}` : "/alarms");
  };
  const select = (k: keyof Filter, label: string, options: string[]) => (
    <div class="field">
      <label for={`field-${k}`}>{label}</label>
      <select id={`field-${k}`} value={f[k]} onChange={(e) => set(k)(e.currentTarget.value)}>
        <option value="">Any</option>
        {options.map((o) => (
          <option key={o} value={o}>
            {o}
          </option>
        ))}
      </select>
    </div>
  );
  return (
    <form class="inline-form filters" onSubmit={apply} aria-label="Filter alarms">
      {select("state", "State", ["active", "acknowledged", "cleared"])}
      {select("severity", "Severity", ["warning", "minor", "major", "critical"])}
      {select("source", "Source", ["watchdog", "detector"])}
      <Field label="Device" name="device" value={f.device} onInput={set("device")} />
      <Field label="Model" name="model" value={f.model} onInput={set("model")} />
      <button type="submit">Filter</button>
    </form>
  );
}

// The number of active alarms for the menu (100+ past a page), kept current by the alarms topic.
export function useActiveAlarms(enabled: boolean): string {
  const [page, reload] = useLoad(
    () => (enabled ? api.get("/api/v1/alarms", { query: { state: "active", limit: 100 } }) : Promise.resolve({ ok: true as const, status: 200, data: { items: [], next_cursor: null } })),
    [enabled],
  );
  const refresh = useThrottled(reload, 500);
  useEvents(enabled ? ["alarms"] : [], refresh, refresh);
  if (page.state !== "ok" || page.data.items.length === 0) return "";
  return page.data.next_cursor ? "100+" : String(page.data.items.length);
}
