import { useState } from "preact/hooks";
import { type ModelDetail, type ModelVersion, api } from "../api/client";
import { type Problem, fieldErrors } from "../api/problem";
import { Empty, Field, FormMessage, Link, ProblemView, Table, formatBytes, formatTime, useLoad } from "../components/ui";
import { navigate, pathFor } from "../router";
import { useSession } from "../session";
import { UploadVersion } from "./Upload";

export function Model({ name, search }: { name: string; search: string }) {
  const uploaded = new URLSearchParams(search).get("uploaded");
  const [model, reload] = useLoad(() => api.get("/api/v1/models/{name}", { path: { name } }), [name]);
  return (
    <>
      <p class="crumbs">
        <Link href="/models">Models</Link> /
      </p>
      <h1 tabIndex={-1}>{name}</h1>
      {uploaded && (
        <p class="message success" role="status">
          Version {uploaded} was uploaded.
        </p>
      )}
      {model.state === "loading" && <p aria-busy="true">Loading the model…</p>}
      {model.state === "error" &&
        (model.problem.status === 404 ? (
          <Empty title="No such model">
            <p>
              There is no model named “{name}”. <Link href="/models">See all models</Link>.
            </p>
          </Empty>
        ) : (
          <ProblemView problem={model.problem} retry={reload} />
        ))}
      {model.state === "ok" && <ModelBody model={model.data} onChange={reload} />}
    </>
  );
}

function ModelBody({ model, onChange }: { model: ModelDetail; onChange: () => void }) {
  const { user } = useSession();
  const aliases = Object.entries(model.aliases);
  return (
    <>
      <dl class="facts">
        <dt>Kind</dt>
        <dd>{model.kind}</dd>
        <dt>Latest version</dt>
        <dd>{model.latest_version ?? "none"}</dd>
        <dt>Created</dt>
        <dd>{formatTime(model.created_at)}</dd>
        <dt>Visibility</dt>
        <dd>
          {model.visibility === "private"
            ? `private: its owner${model.owner !== null ? ` (user ${model.owner})` : ""}, ${
                model.readers.length ? `readers ${model.readers.map((r) => `user ${r}`).join(", ")}` : "no readers"
              } and admins`
            : "public: every signed-in user"}
        </dd>
        {model.description && (
          <>
            <dt>Description</dt>
            <dd>{model.description}</dd>
          </>
        )}
      </dl>
      {user?.role === "admin" && <Visibility model={model} onChanged={onChange} />}

      <p>
        <Link href={pathFor("predict", { name: model.name })}>Predict with {model.name}</Link>
      </p>

      <h2>Aliases</h2>
      {aliases.length === 0 ? (
        <p>
          No aliases.{" "}
          {user?.role === "admin"
            ? "Point one (production, canary, …) at a version with the form below."
            : "An admin can point one (production, canary, …) at a version."}
        </p>
      ) : (
        <ul class="aliases">
          {aliases.map(([alias, v]) => (
            <li key={alias}>
              <span class="tag">{alias}</span> → version {v}
            </li>
          ))}
        </ul>
      )}

      {user?.role === "admin" && model.versions.length > 0 && <MoveAlias model={model} onMoved={onChange} />}

      <h2>Versions</h2>
      {user?.role === "admin" && (
        <details class="panel">
          <summary>Upload the next version</summary>
          <UploadVersion
            model={model}
            onUploaded={(v) => {
              navigate(`${pathFor("model", { name: model.name })}?uploaded=${v.version}`, { replace: true });
              onChange();
            }}
          />
        </details>
      )}
      {model.versions.length === 0 ? (
        <p>This model has no versions left; an admin uploads the next one.</p>
      ) : (
        <Versions name={model.name} versions={model.versions} />
      )}

      {model.alias_history.length > 0 && (
        <>
          <h2>Alias moves</h2>
          <Table caption="Alias moves, newest first" columns={["When", "Alias", "From", "To"]}>
              {model.alias_history.map((h, i) => (
                <tr key={i}>
                  <td>{formatTime(h.at)}</td>
                  <td>{h.alias}</td>
                  <td>{h.from_version ?? "—"}</td>
                  <td>{h.to_version}</td>
                </tr>
              ))}
          </Table>
        </>
      )}
    </>
  );
}

// Who may use the model: public, or private to an owner and readers (user ids); admins only.
function Visibility({ model, onChanged }: { model: ModelDetail; onChanged: () => void }) {
  const [visibility, setVisibility] = useState(model.visibility);
  const [owner, setOwner] = useState(model.owner === null ? "" : String(model.owner));
  const [readers, setReaders] = useState(model.readers.join(", "));
  const [problem, setProblem] = useState<Problem | null>(null);
  const [done, setDone] = useState("");
  const errors = fieldErrors(problem, ["owner", "readers", "visibility"]);
  const submit = async (e: Event) => {
    e.preventDefault();
    setDone("");
    const ids = readers.split(/[\s,]+/).filter(Boolean).map(Number);
    const r = await api.patch("/api/v1/models/{name}", {
      path: { name: model.name },
      body: { visibility, owner: owner.trim() ? Number(owner) : null, readers: ids },
    });
    setProblem(r.ok ? null : r.problem);
    if (!r.ok) return;
    setDone(`${model.name} is now ${r.data.visibility}.`);
    onChanged();
  };
  return (
    <details class="panel">
      <summary>Who may use this model</summary>
      <form onSubmit={submit} noValidate class="narrow">
        <div class="field">
          <label for="field-visibility">Visibility</label>
          <select id="field-visibility" value={visibility}
            onChange={(e) => setVisibility(e.currentTarget.value as "public" | "private")}>
            <option value="public">Public: every signed-in user</option>
            <option value="private">Private: its owner, its readers and admins</option>
          </select>
        </div>
        <Field label="Owner (user id)" name="owner" value={owner} onInput={setOwner} error={errors.owner} />
        <Field label="Readers (user ids)" name="readers" value={readers} onInput={setReaders} error={errors.readers}
          hint="Separated by commas or spaces" />
        <button type="submit">Save</button>
        <FormMessage error={errors[""]} success={done || undefined} />
      </form>
    </details>
  );
}

// Points an alias (new or existing) at a version; admins only.
function MoveAlias({ model, onMoved }: { model: ModelDetail; onMoved: () => void }) {
  const [alias, setAlias] = useState("");
  const [version, setVersion] = useState(String(model.latest_version ?? model.versions[0]?.version ?? ""));
  const [problem, setProblem] = useState<Problem | null>(null);
  const [done, setDone] = useState("");
  const [busy, setBusy] = useState(false);
  const errors = fieldErrors(problem, ["alias", "version"]);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setDone("");
    const r = await api.put("/api/v1/models/{name}/aliases/{alias}", {
      path: { name: model.name, alias: alias.trim() },
      body: { version: Number(version) },
    });
    setBusy(false);
    setProblem(r.ok ? null : r.problem);
    if (!r.ok) return;
    setDone(`${r.data.alias} now points at version ${r.data.version}.`);
    onMoved();
  };

  return (
    <section aria-labelledby="move-alias-heading">
      <h2 id="move-alias-heading">Point an alias</h2>
      <form onSubmit={submit} noValidate class="inline-form">
        <Field label="Alias" name="alias" value={alias} onInput={setAlias} error={errors.alias}
          hint="An existing alias moves; a new name is created." required />
        <div class="field">
          <label for="field-version">Version</label>
          <select id="field-version" value={version} onChange={(e) => setVersion(e.currentTarget.value)}
            aria-invalid={errors.version ? "true" : undefined}>
            {model.versions.map((v) => (
              <option key={v.version} value={v.version}>
                {v.version}
              </option>
            ))}
          </select>
        </div>
        <button type="submit" class="primary" disabled={busy || !alias.trim()}>
          {busy ? "Pointing…" : "Point alias"}
        </button>
      </form>
      <FormMessage error={errors[""] ?? errors.version} success={done || undefined} />
    </section>
  );
}

function Versions({ name, versions }: { name: string; versions: ModelVersion[] }) {
  return (
    <Table caption="Versions" columns={["Version", "Created", "Size", "SHA-256", "Aliases", "Description", "File"]}>
        {versions.map((v) => (
          <tr key={v.version}>
            <th scope="row">{v.version}</th>
            <td>{formatTime(v.created_at)}</td>
            <td>{formatBytes(v.size)}</td>
            <td>
              <code title={v.sha256}>{v.sha256.slice(0, 12)}…</code>
            </td>
            <td>
              {v.aliases.map((a) => (
                <span class="tag" key={a}>
                  {a}
                </span>
              ))}
            </td>
            <td>{typeof v.metadata.description === "string" ? v.metadata.description : ""}</td>
            <td>
              <a href={`/api/v1/models/${encodeURIComponent(name)}/versions/${v.version}/artifact`} download
                aria-label={`Download version ${v.version}`}>
                Download
              </a>
            </td>
          </tr>
        ))}
    </Table>
  );
}
