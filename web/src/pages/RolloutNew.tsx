// The rollout wizard: which devices (a model version, labels, a list, all), what to do (update to a
// version, roll back, blank), how (canary, batches, rate, halting thresholds), a preview of what
// it would hit as the form changes, then start. A link fills it in (from an alarm or a device).
import { useEffect, useState } from "preact/hooks";
import { type RolloutPreview, api } from "../api/client";
import { type Problem, describe } from "../api/problem";
import { Field, FormMessage, Link, useLoad } from "../components/ui";
import { navigate, pathFor } from "../router";
import { type WizardForm, describePreview, formField, formFromQuery, requestFrom } from "./rollout-logic";

export function RolloutNew({ search }: { search: string }) {
  const [form, setForm] = useState<WizardForm>(() => formFromQuery(search));
  const [problem, setProblem] = useState<Problem | null>(null);
  const [busy, setBusy] = useState(false);
  const set = <K extends keyof WizardForm>(k: K) => (v: WizardForm[K]) => setForm((f) => ({ ...f, [k]: v }));

  // The target's versions, newest first; the newest is the default.
  const [target, setTarget] = useState(form.target_model.trim());
  useEffect(() => {
    const t = setTimeout(() => setTarget(form.target_model.trim()), 300);
    return () => clearTimeout(t);
  }, [form.target_model]);
  const [versions] = useLoad(
    () => (target ? api.get("/api/v1/models/{name}", { path: { name: target } }) : Promise.resolve({ ok: false as const, problem: { status: 0, title: "", detail: "", errors: [] } })),
    [target],
  );
  const known = versions.state === "ok" ? [...versions.data.versions].map((v) => v.version).sort((a, b) => b - a) : [];
  useEffect(() => {
    if (form.action === "update" && !form.target_version && known.length) setForm((f) => ({ ...f, target_version: String(known[0]) }));
  }, [known.join(), form.action]);

  const built = requestFrom(form);
  const local = "errors" in built ? built.errors : {};
  const serverErrors: Record<string, string> = {};
  let general = "";
  if (problem) {
    for (const e of problem.errors) {
      const f = formField(e.field, form);
      if (f) serverErrors[f] = e.message.charAt(0).toUpperCase() + e.message.slice(1);
      else general += ` ${e.message}`;
    }
    if (!problem.errors.length) general = describe(problem);
  }
  const [touched, setTouched] = useState(false);
  const errors: Record<string, string> = { ...(touched ? local : {}), ...serverErrors };

  // The preview, 300 ms after the form last changed.
  const [preview, setPreview] = useState<{ state: "none" } | { state: "ok"; data: RolloutPreview } | { state: "error"; problem: Problem }>({ state: "none" });
  const key = "request" in built ? JSON.stringify(built.request) : "";
  useEffect(() => {
    if (!("request" in built)) return setPreview({ state: "none" });
    let live = true;
    const body = built.request;
    const t = setTimeout(async () => {
      const r = await api.post("/api/v1/rollouts/preview", { body });
      if (live) setPreview(r.ok ? { state: "ok", data: r.data } : { state: "error", problem: r.problem });
    }, 300);
    return () => {
      live = false;
      clearTimeout(t);
    };
  }, [key]);

  const submit = async (e: Event) => {
    e.preventDefault();
    setTouched(true);
    if (!("request" in built)) return;
    setBusy(true);
    const r = await api.post("/api/v1/rollouts", { body: built.request });
    setBusy(false);
    setProblem(r.ok ? null : r.problem);
    if (r.ok) navigate(pathFor("rollout", { id: String(r.data.id) }) + "?started");
  };

  const num = (k: keyof WizardForm & string, label: string, hint: string) => (
    <Field label={label} name={k} value={String(form[k])} onInput={set(k) as (v: string) => void} error={errors[k]} hint={hint} />
  );

  return (
    <>
      <p class="crumbs">
        <Link href="/rollouts">Rollouts</Link> /
      </p>
      <h1 tabIndex={-1}>Start a rollout</h1>
      <form onSubmit={submit} noValidate class="wizard">
        <fieldset>
          <legend>1. Which devices</legend>
          <div class="choices" role="radiogroup" aria-label="Select devices by">
            {(
              [
                ["model", "Those on a model version"],
                ["labels", "Those with labels"],
                ["devices", "A list of devices"],
                ["all", "Every device"],
              ] as const
            ).map(([v, label]) => (
              <label key={v} class="choice">
                <input type="radio" name="select" value={v} checked={form.select === v} onChange={() => set("select")(v)} />
                {label}
              </label>
            ))}
          </div>
          {form.select === "model" && (
            <div class="inline-form">
              <Field label="Model" name="model" value={form.model} onInput={set("model")} error={errors.model} />
              <Field label="Version" name="version" value={form.version} onInput={set("version")} error={errors.version} />
            </div>
          )}
          {form.select === "labels" && (
            <Field label="Labels" name="labels" value={form.labels} onInput={set("labels")} error={errors.labels}
              hint="site=north, floor=2 (all must match)" />
          )}
          {form.select === "devices" && (
            <Field label="Devices" name="devices" value={form.devices} onInput={set("devices")} error={errors.devices}
              hint="Names, separated by commas or spaces" />
          )}
        </fieldset>

        <fieldset>
          <legend>2. What to do</legend>
          <div class="choices" role="radiogroup" aria-label="Action">
            {(
              [
                ["update", "Update to a version"],
                ["rollback", "Roll back to each device’s previous model"],
                ["blank", "Park on the blank model (never alarms)"],
              ] as const
            ).map(([v, label]) => (
              <label key={v} class="choice">
                <input type="radio" name="action" value={v} checked={form.action === v} onChange={() => set("action")(v)} />
                {label}
              </label>
            ))}
          </div>
          {form.action === "update" && (
            <div class="inline-form">
              <Field label="Target model" name="target_model" value={form.target_model} onInput={set("target_model")}
                error={errors.target_model} />
              <div class="field">
                <label for="field-target_version">Target version</label>
                <select id="field-target_version" value={form.target_version} onChange={(e) => set("target_version")(e.currentTarget.value)}
                  aria-invalid={errors.target_version ? "true" : undefined}
                  aria-describedby={errors.target_version ? "field-target_version-error" : undefined}>
                  {!known.includes(Number(form.target_version)) && <option value={form.target_version}>{form.target_version || "choose"}</option>}
                  {known.map((v) => (
                    <option key={v} value={v}>
                      {v}
                      {v === known[0] ? " (latest)" : ""}
                    </option>
                  ))}
                </select>
                {errors.target_version && (
                  <p class="error" id="field-target_version-error">
                    {errors.target_version}
                  </p>
                )}
              </div>
            </div>
          )}
        </fieldset>

        <fieldset>
          <legend>3. How</legend>
          <div class="grid-form">
            {num("canary_percent", "Canary %", "Devices that go first (at least one when not 0)")}
            {num("batch_size", "Batch size", "Devices per wave after the canary")}
            {num("rate_per_minute", "Rate per minute", "0: no limit")}
            {num("max_failure_percent", "Halt above % failed", "Failed or timed out")}
            {num("min_sample", "After devices finished", "Before the failure rule applies")}
            {num("max_alarm_percent", "Halt above % alarming", "Major or critical alarms; 0: off")}
            {num("device_timeout_s", "Device timeout (s)", "From sent to confirmed")}
            {num("confirm_s", "Confirm after (s)", "Running without a failure")}
          </div>
          <label class="choice">
            <input type="checkbox" checked={form.auto_rollback} onChange={(e) => set("auto_rollback")(e.currentTarget.checked)} />
            On a halt, send the switched devices back
          </label>
        </fieldset>

        <section aria-labelledby="preview-heading" class="preview">
          <h2 id="preview-heading">Preview</h2>
          <div role="status">
            {preview.state === "none" && <p>Fill in the form to see which devices it would move.</p>}
            {preview.state === "error" && <p class="error">{describe(preview.problem)}</p>}
            {preview.state === "ok" && (
              <>
                <p>{describePreview(preview.data, form.action)}</p>
                {preview.data.sample.length > 0 && (
                  <p class="hint">
                    First: {preview.data.sample.join(", ")}
                    {preview.data.devices > preview.data.sample.length ? ", …" : ""}
                  </p>
                )}
              </>
            )}
          </div>
        </section>

        <button type="submit" class="primary" disabled={busy}>
          {busy ? "Starting…" : "Start rollout"}
        </button>
        <FormMessage error={general.trim() || (touched && Object.keys(local).length ? "Some values need a look: see the fields above." : undefined)} />
      </form>
    </>
  );
}
