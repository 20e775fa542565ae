import { type ModelDetail, type ModelVersion, api } from "../api/client";
import { Empty, Link, ProblemView, Table, formatBytes, formatTime, useLoad } from "../components/ui";

export function Model({ name }: { name: string }) {
  const [model, reload] = useLoad(() => api.get("/api/v1/models/{name}", { path: { name } }), [name]);
  return (
    <>
      <p class="crumbs">
        <Link href="/models">Models</Link> /
      </p>
      <h1 tabIndex={-1}>{name}</h1>
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
      {model.state === "ok" && <ModelBody model={model.data} />}
    </>
  );
}

function ModelBody({ model }: { model: ModelDetail }) {
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
      </dl>

      <h2>Aliases</h2>
      {aliases.length === 0 ? (
        <p>No aliases. An admin can point one (production, canary, …) at a version with PUT /api/v1/models/{model.name}/aliases/NAME.</p>
      ) : (
        <ul class="aliases">
          {aliases.map(([alias, v]) => (
            <li key={alias}>
              <span class="tag">{alias}</span> → version {v}
            </li>
          ))}
        </ul>
      )}

      <h2>Versions</h2>
      {model.versions.length === 0 ? (
        <p>This model has no versions left; an admin uploads the next one.</p>
      ) : (
        <Versions versions={model.versions} />
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

function Versions({ versions }: { versions: ModelVersion[] }) {
  return (
    <Table caption="Versions" columns={["Version", "Created", "Size", "SHA-256", "Aliases", "Description"]}>
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
          </tr>
        ))}
    </Table>
  );
}
