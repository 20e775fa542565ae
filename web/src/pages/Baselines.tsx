// Baselines: the library of normal series the detector measures sensors against (uploaded
// values, a stretch cut from a sensor's history, or the seeds the server ships), an admin's
// form to add one, and on a sensor's page its current baseline, how it got it, and (admins)
// "Select now": the server tries each library baseline on the sensor's history and keeps the
// best that fits. The pure parts are in baseline-logic.ts.
import { useState } from "preact/hooks";
import { type BaselineSelection, api } from "../api/client";
import { type Problem, describe, fieldErrors } from "../api/problem";
import { Empty, Field, FormMessage, Link, ProblemView, Table, formatTime, useLoad } from "../components/ui";
import { pathFor } from "../router";
import { useSession } from "../session";
import { type BaselineForm, baselineBody, emptyBaselineForm, stats } from "./baseline-logic";

export function Baselines() {
  const [page, reload] = useLoad(() => api.get("/api/v1/baselines", { query: { limit: 1000 } }), []);
  const { user } = useSession();
  const admin = user?.role === "admin";
  const [added, setAdded] = useState("");
  return (
    <>
      <h1 tabIndex={-1}>Baselines</h1>
      <p>
        Stretches of normal readings. A sensor’s levels are distances in percent of its baseline’s; a sensor without
        one learns it from its own first points. Each sensor’s page shows its baseline and can select one from here.
      </p>
      {admin && (
        <details class="panel">
          <summary>Add a baseline</summary>
          <AddBaseline
            onAdded={(name) => {
              setAdded(`The baseline ${name} was added.`);
              reload();
            }}
          />
        </details>
      )}
      <p class="message success" role="status">
        {added}
      </p>
      {page.state === "loading" && <p aria-busy="true">Loading the baselines…</p>}
      {page.state === "error" && <ProblemView problem={page.problem} retry={reload} />}
      {page.state === "ok" &&
        (page.data.items.length === 0 ? (
          <Empty title="No baselines yet">
            <p>{admin ? "Add one above: paste values, or cut a calm stretch from a sensor's history." : "An admin adds baselines."}</p>
          </Empty>
        ) : (
          <Table caption="Baselines" columns={["Name", "Source", "From", "Points", "Added"]}>
            {page.data.items.map((b) => (
              <tr key={b.name}>
                <th scope="row">{b.name}</th>
                <td>{b.source}</td>
                <td>
                  {b.sensor ? (
                    <>
                      <Link href={pathFor("sensor", { name: b.sensor })}>{b.sensor}</Link>
                      {b.from && b.to && (
                        <span class="hint">
                          {" "}
                          {formatTime(b.from)} – {formatTime(b.to)}
                          {b.removed ? `, ${b.removed} discords cleaned` : ""}
                        </span>
                      )}
                    </>
                  ) : (
                    "—"
                  )}
                </td>
                <td>{stats(b)}</td>
                <td>{formatTime(b.created_at)}</td>
              </tr>
            ))}
          </Table>
        ))}
    </>
  );
}

function AddBaseline({ onAdded }: { onAdded: (name: string) => void }) {
  const [f, setF] = useState<BaselineForm>(emptyBaselineForm);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [local, setLocal] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const fields = ["name", "values", "sensor", "from", "to", "clean"];
  const errors = { ...fieldErrors(problem, fields), ...local };
  const set = (k: keyof BaselineForm) => (v: string) => setF((x) => ({ ...x, [k]: v }));
  const submit = async (e: Event) => {
    e.preventDefault();
    const b = baselineBody(f);
    if ("errors" in b) {
      setLocal(b.errors);
      return;
    }
    setLocal({});
    setBusy(true);
    const r = await api.post("/api/v1/baselines", { body: b.body });
    setBusy(false);
    setProblem(r.ok ? null : r.problem);
    if (r.ok) {
      onAdded(r.data.name);
      setF(emptyBaselineForm);
    }
  };
  return (
    <form onSubmit={submit} noValidate class="narrow">
      <Field label="Name" name="baseline-name" value={f.name} onInput={set("name")} error={errors.name} required />
      <fieldset class="choices">
        <legend>From</legend>
        <label class="choice">
          <input type="radio" name="baseline-mode" checked={f.mode === "sensor"} onChange={() => setF((x) => ({ ...x, mode: "sensor" }))} />
          a sensor’s history
        </label>
        <label class="choice">
          <input type="radio" name="baseline-mode" checked={f.mode === "values"} onChange={() => setF((x) => ({ ...x, mode: "values" }))} />
          values
        </label>
      </fieldset>
      {f.mode === "sensor" ? (
        <>
          <Field label="Sensor" name="baseline-sensor" value={f.sensor} onInput={set("sensor")} error={errors.sensor} />
          <Field label="From" name="baseline-from" type="datetime-local" value={f.from} onInput={set("from")} error={errors.from} />
          <Field label="To" name="baseline-to" type="datetime-local" value={f.to} onInput={set("to")} error={errors.to} />
          <div class="field inline">
            <input id="field-baseline-clean" type="checkbox" checked={f.clean} onChange={(e) => setF((x) => ({ ...x, clean: e.currentTarget.checked }))} />
            <label for="field-baseline-clean">Clean: the stretch’s top 3 discords become gaps</label>
          </div>
        </>
      ) : (
        <div class="field">
          <label for="field-baseline-values">Values</label>
          <textarea
            id="field-baseline-values"
            rows={5}
            value={f.values}
            aria-invalid={errors.values ? "true" : undefined}
            aria-describedby={errors.values ? "field-baseline-values-error field-baseline-values-hint" : "field-baseline-values-hint"}
            onInput={(e) => set("values")(e.currentTarget.value)}
          />
          <p class="hint" id="field-baseline-values-hint">
            16 to 16 384 numbers separated by commas, spaces or lines, in time order
          </p>
          {errors.values && (
            <p class="error" id="field-baseline-values-error">
              {errors.values}
            </p>
          )}
        </div>
      )}
      <button type="submit" class="primary" disabled={busy}>
        {busy ? "Adding…" : "Add baseline"}
      </button>
      <FormMessage error={errors[""]} />
    </form>
  );
}

// A sensor's baseline on its page: the current one, how it got there, and (admin) Select now.
// `round` grows when the sensor's events say its baseline changed (a scheduled selection).
export function SensorBaseline({ sensor, round, onChange }: { sensor: string; round: number; onChange: () => void }) {
  const [view, reload] = useLoad(() => api.get("/api/v1/sensors/{name}/baseline", { path: { name: sensor } }), [sensor, round]);
  const { user } = useSession();
  const [problem, setProblem] = useState<Problem | null>(null);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<BaselineSelection | null>(null);
  const select = async () => {
    setBusy(true);
    const r = await api.post("/api/v1/sensors/{name}/baseline/select", { path: { name: sensor } });
    setBusy(false);
    setProblem(r.ok ? null : r.problem);
    setResult(r.ok ? r.data : null);
    if (r.ok) {
      reload();
      onChange();
    }
  };
  return (
    <section aria-labelledby="baseline-heading">
      <h2 id="baseline-heading">Baseline</h2>
      {view.state === "error" && <ProblemView problem={view.problem} retry={reload} />}
      {view.state === "ok" && (
        <>
          <p>
            {view.data.current
              ? `${view.data.current.baseline ? `“${view.data.current.baseline}” from the library` : "Its own history"} (${view.data.current.action}, ${formatTime(view.data.current.at)}): ${stats(view.data.current)}.`
              : "None chosen: the sensor learns it from its own first points."}{" "}
            <Link href="/baselines">The library</Link>
          </p>
          {view.data.history.length > 0 && (
            <Table caption={`Baselines of ${sensor}, newest first`} columns={["When", "How", "Baseline", "Statistics"]}>
              {view.data.history.slice(0, 10).map((h) => (
                <tr key={h.at + h.action}>
                  <th scope="row">{formatTime(h.at)}</th>
                  <td>{h.action}</td>
                  <td>{h.baseline ?? "own history"}</td>
                  <td>{stats(h)}</td>
                </tr>
              ))}
            </Table>
          )}
        </>
      )}
      {user?.role === "admin" && (
        <button type="button" onClick={select} disabled={busy}>
          {busy ? "Selecting…" : "Select a baseline now"}
        </button>
      )}
      {problem && (
        <p class="message error" role="alert">
          {describe(problem)}
        </p>
      )}
      {result && (
        <div role="status">
          <p>
            {result.selected ? "A baseline was selected" : "No library baseline fits"} (tried on {result.history_points} points
            of history).
          </p>
          {result.candidates.length > 0 && (
            <Table caption="Candidates tried" columns={["Baseline", "Fits", "Highest level (%)", "Why not"]}>
              {result.candidates.map((c) => (
                <tr key={c.baseline}>
                  <th scope="row">{c.baseline}</th>
                  <td>{c.fits ? "yes" : "no"}</td>
                  <td class="number">{c.max_percent?.toFixed(1) ?? "—"}</td>
                  <td>{c.why ?? ""}</td>
                </tr>
              ))}
            </Table>
          )}
        </div>
      )}
    </section>
  );
}
