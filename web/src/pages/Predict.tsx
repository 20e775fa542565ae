// Predict with a model: a form built from the chosen version's feature names (empty = missing),
// the prediction, its band (the version's metadata `bands`), and what moved it: the per-feature
// contributions as bars.
import { useState } from "preact/hooks";
import { type ModelDetail, api } from "../api/client";
import { type Problem, fieldErrors } from "../api/problem";
import { Empty, Field, FormMessage, Link, ProblemView, Table, useLoad } from "../components/ui";
import { navigate, pathFor } from "../router";
import { type Band, bandOf, bandsOf, barsOf, featuresOf } from "./predict-logic";

export function Predict({ name }: { name: string | undefined }) {
  const [models] = useLoad(() => api.get("/api/v1/models", { query: { limit: 1000 } }), []);
  return (
    <>
      <h1 tabIndex={-1}>Predict</h1>
      {models.state === "error" && <ProblemView problem={models.problem} />}
      {models.state === "ok" && (
        <div class="field narrow">
          <label for="predict-model">Model</label>
          <select id="predict-model" value={name ?? ""}
            onChange={(e) => navigate(pathFor("predict", { name: e.currentTarget.value }))}>
            {!name && <option value="">Choose a model</option>}
            {models.data.items.map((m) => (
              <option key={m.name} value={m.name}>
                {m.name}
              </option>
            ))}
          </select>
        </div>
      )}
      {name && <PredictWith key={name} name={name} />}
    </>
  );
}

function PredictWith({ name }: { name: string }) {
  const [model, reload] = useLoad(() => api.get("/api/v1/models/{name}", { path: { name } }), [name]);
  if (model.state === "loading") return <p aria-busy="true">Loading the model…</p>;
  if (model.state === "error") return <ProblemView problem={model.problem} retry={reload} />;
  return <PredictForm model={model.data} />;
}

type Prediction = { value: number | number[]; contributions?: Record<string, number> | undefined };

function PredictForm({ model }: { model: ModelDetail }) {
  const initial = model.aliases.production ?? model.latest_version ?? 0;
  const [version, setVersion] = useState(String(initial));
  const [texts, setTexts] = useState<Record<string, string>>({});
  const [problem, setProblem] = useState<Problem | null>(null);
  const [local, setLocal] = useState<Record<string, string>>({});
  const [result, setResult] = useState<Prediction | null>(null);
  const [busy, setBusy] = useState(false);
  const chosen = model.versions.find((v) => String(v.version) === version);
  const names = Array.isArray(chosen?.metadata.features)
    ? chosen.metadata.features.filter((f): f is string => typeof f === "string")
    : [];
  const keys = names.map((n) => `features.${n}`);
  const errors = { ...fieldErrors(problem, keys), ...local };

  // The form's row, or null when a field is not a number (said next to it).
  const row = () => {
    const { features, errors: bad } = featuresOf(names, texts);
    setLocal(bad);
    setProblem(null);
    setResult(null);
    return Object.keys(bad).length ? null : features;
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    const features = row();
    if (!features) return;
    setBusy(true);
    const r = await api.post("/api/v1/predict/{name}", {
      path: { name: model.name },
      query: { version, explain: true },
      body: { features },
    });
    setBusy(false);
    if (!r.ok) return setProblem(r.problem);
    const value = r.data.predictions[0] ?? Number.NaN;
    const c = r.data.contributions?.[0];
    // Several classes: the contributions to the most likely one.
    const best = Array.isArray(value) ? value.indexOf(Math.max(...value)) : 0;
    setResult({ value, contributions: Array.isArray(c) ? c[best] : c });
  };

  // The same row as a task: queued, run by a worker, charged when done; its page shows the result.
  const runTask = async () => {
    const features = row();
    if (!features) return;
    setBusy(true);
    const r = await api.post("/api/v1/tasks", {
      body: { model: model.name, version: Number(version), rows: [features], explain: true },
    });
    setBusy(false);
    if (!r.ok) {
      // The task's rows are named rows[0].<feature>; the form's fields features.<feature>.
      const errors = r.problem.errors.map((e) => ({ ...e, field: e.field.replace(/^rows\[0\]\./, "features.") }));
      return setProblem({ ...r.problem, errors });
    }
    navigate(pathFor("task", { id: String(r.data.id) }));
  };

  return (
    <>
      <div class="field narrow">
        <label for="predict-version">Version</label>
        <select id="predict-version" value={version} onChange={(e) => (setVersion(e.currentTarget.value), setResult(null))}>
          {model.versions.map((v) => (
            <option key={v.version} value={v.version}>
              {v.version}
              {v.aliases.length ? ` (${v.aliases.join(", ")})` : ""}
            </option>
          ))}
        </select>
      </div>
      {names.length === 0 ? (
        <Empty title="No feature names">
          <p>
            Version {version} of {model.name} does not list its features, so there is no form to fill in. An admin can
            upload it again with feature names on <Link href={pathFor("model", { name: model.name })}>its page</Link>.
          </p>
        </Empty>
      ) : (
        <form onSubmit={submit} noValidate class="narrow">
          <p class="hint">Leave a field empty when its value is missing.</p>
          {names.map((n) => (
            <Field key={n} label={n} name={`features.${n}`} value={texts[n] ?? ""} error={errors[`features.${n}`]}
              onInput={(v) => setTexts((t) => ({ ...t, [n]: v }))} />
          ))}
          <FormMessage error={errors[""]} />
          <div class="form-actions">
            <button type="submit" class="primary" disabled={busy}>
              {busy ? "Predicting…" : "Predict"}
            </button>
            <button type="button" disabled={busy} onClick={runTask}>
              Run as a task
            </button>
          </div>
        </form>
      )}
      {result && <Outcome result={result} bands={bandsOf(chosen?.metadata ?? {})} />}
    </>
  );
}

const fmt = (n: number) => (Number.isFinite(n) ? Number(n.toPrecision(4)).toString() : "—");

function Outcome({ result, bands }: { result: Prediction; bands: Band[] }) {
  const single = typeof result.value === "number" ? result.value : null;
  const band = single === null ? null : bandOf(single, bands);
  return (
    <section aria-labelledby="outcome-heading" class="outcome">
      <h2 id="outcome-heading">Prediction</h2>
      <p class="prediction" role="status">
        {single !== null
          ? fmt(single)
          : (result.value as number[]).map((p, k) => `class ${k}: ${fmt(p)}`).join(", ")}
        {band && (
          <span class="band">
            <span class="swatch" style={{ background: band.color ?? "currentColor" }} aria-hidden="true" />
            {band.label}
          </span>
        )}
      </p>
      {result.contributions && (
        <>
          <h3>What moved it</h3>
          <Table caption="Contribution of each feature, largest first, in the model's margin" columns={["Feature", "Contribution", ""]}>
            {barsOf(result.contributions).map((b) => (
              <tr key={b.name}>
                <th scope="row">{b.name}</th>
                <td class="number">{fmt(b.value)}</td>
                <td class="bar-cell" aria-hidden="true">
                  <span class={`bar ${b.value < 0 ? "neg" : "pos"}`} style={{ width: `${b.percent}%` }} />
                </td>
              </tr>
            ))}
          </Table>
        </>
      )}
    </section>
  );
}
