// Uploads a model file as the next version of a model (a new model when `model` is not given),
// with the metadata the console knows (description, features, price per row, alarm threshold),
// showing how much was sent and then that the server checks the file.
import { useState } from "preact/hooks";
import { type ModelVersion, upload } from "../api/client";
import { type Problem, fieldErrors } from "../api/problem";
import { Field, FormMessage } from "../components/ui";

const kinds = ["xgboost", "linear"] as const;

type Phase = { at: "idle" } | { at: "sending"; percent: number } | { at: "checking" };

// The metadata of the form's optional fields; a field's error when one is not a number.
export function metadataOf(f: { description: string; features: string; price: string; threshold: string }): {
  metadata: Record<string, unknown>;
  errors: Record<string, string>;
} {
  const metadata: Record<string, unknown> = {};
  const errors: Record<string, string> = {};
  if (f.description.trim()) metadata.description = f.description.trim();
  const features = f.features.split(",").map((s) => s.trim()).filter(Boolean);
  if (features.length) metadata.features = features;
  for (const [key, field, text] of [["price_per_row", "price", f.price], ["alarm_threshold", "threshold", f.threshold]] as const) {
    if (!text.trim()) continue;
    const n = Number(text);
    if (Number.isFinite(n)) metadata[key] = n;
    else errors[field] = "Give a number, such as 0.5.";
  }
  if (typeof metadata.price_per_row === "number" && metadata.price_per_row < 0) errors.price = "A price is 0 or more.";
  return { metadata, errors };
}

export function UploadVersion({ model, onUploaded }: { model?: { name: string; kind: string }; onUploaded: (v: ModelVersion) => void }) {
  const [name, setName] = useState("");
  const [kind, setKind] = useState<string>(kinds[0]);
  const [file, setFile] = useState<File | null>(null);
  const [fields, setFields] = useState({ description: "", features: "", price: "", threshold: "" });
  const [problem, setProblem] = useState<Problem | null>(null);
  const [local, setLocal] = useState<Record<string, string>>({});
  const [phase, setPhase] = useState<Phase>({ at: "idle" });
  const errors = { ...fieldErrors(problem, ["name", "kind", "file"]), ...local };
  const set = (k: keyof typeof fields) => (v: string) => setFields((f) => ({ ...f, [k]: v }));

  const submit = async (e: Event) => {
    e.preventDefault();
    const { metadata, errors: bad } = metadataOf(fields);
    if (!file) bad.file = "Choose the model file.";
    if (!model && !name.trim()) bad.name = "Give the model a name.";
    setLocal(bad);
    setProblem(null);
    if (Object.keys(bad).length || !file) return;
    const form = new FormData();
    form.append("metadata", JSON.stringify(metadata));
    form.append("file", file);
    setPhase({ at: "sending", percent: 0 });
    const r = await upload("/api/v1/models/{name}/versions", {
      path: { name: model?.name ?? name.trim() },
      query: model ? {} : { kind },
      form,
      onProgress: (sent, total) => setPhase({ at: "sending", percent: total ? Math.round((100 * sent) / total) : 0 }),
      onSent: () => setPhase({ at: "checking" }),
    });
    setPhase({ at: "idle" });
    if (!r.ok) return setProblem(r.problem);
    onUploaded(r.data);
  };

  const busy = phase.at !== "idle";
  return (
    <form onSubmit={submit} noValidate class="narrow" aria-busy={busy}>
      {!model && (
        <>
          <Field label="Model name" name="name" value={name} onInput={setName} error={errors.name}
            hint="1 to 64 of A-Z a-z 0-9 . _ -" required />
          <div class="field">
            <label for="field-kind">Kind</label>
            <select id="field-kind" value={kind} onChange={(e) => setKind(e.currentTarget.value)}>
              {kinds.map((k) => (
                <option key={k} value={k}>
                  {k}
                </option>
              ))}
            </select>
            {errors.kind && <p class="error">{errors.kind}</p>}
          </div>
        </>
      )}
      <div class="field">
        <label for="field-file">Model file{model ? ` (${model.kind})` : ""}</label>
        <input id="field-file" name="file" type="file" required aria-invalid={errors.file ? "true" : undefined}
          aria-describedby={errors.file ? "field-file-error" : undefined}
          onChange={(e) => setFile(e.currentTarget.files?.[0] ?? null)} />
        {errors.file && (
          <p class="error" id="field-file-error">
            {errors.file}
          </p>
        )}
      </div>
      <Field label="Description (optional)" name="description" value={fields.description} onInput={set("description")} />
      <Field label="Feature names (optional)" name="features" value={fields.features} onInput={set("features")}
        hint="In the model's order, separated by commas." />
      <Field label="Price per row (optional)" name="price" value={fields.price} onInput={set("price")}
        error={errors.price} hint="Credits charged per predicted row; 0 when empty." />
      <Field label="Alarm threshold (optional)" name="threshold" value={fields.threshold} onInput={set("threshold")}
        error={errors.threshold} />
      <FormMessage error={errors[""]} />
      {phase.at === "sending" && (
        <p>
          <label for="upload-progress">Sending the file: {phase.percent}%</label>{" "}
          <progress id="upload-progress" max={100} value={phase.percent} />
        </p>
      )}
      {phase.at === "checking" && <p role="status">The server is checking that the model loads…</p>}
      <button type="submit" class="primary" disabled={busy}>
        {busy ? "Uploading…" : model ? "Upload the next version" : "Upload"}
      </button>
    </form>
  );
}
