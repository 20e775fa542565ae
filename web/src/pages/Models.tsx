import { useState } from "preact/hooks";
import { type ModelSummary, api } from "../api/client";
import { Empty, Link, ProblemView, Table, formatTime, useLoad } from "../components/ui";
import { navigate, pathFor } from "../router";
import { useSession } from "../session";
import { UploadVersion } from "./Upload";

export function Models() {
  const [more, setMore] = useState<ModelSummary[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [page, reload] = useLoad(() => api.get("/api/v1/models", { query: { limit: 100 } }), []);

  const loadMore = async (from: string) => {
    const r = await api.get("/api/v1/models", { query: { limit: 100, cursor: from } });
    if (r.ok) {
      setMore((m) => [...m, ...r.data.items]);
      setCursor(r.data.next_cursor);
    }
  };

  const { user } = useSession();
  return (
    <>
      <h1 tabIndex={-1}>Models</h1>
      {user?.role === "admin" && (
        <details class="panel">
          <summary>Upload a model</summary>
          <UploadVersion onUploaded={(v) => navigate(pathFor("model", { name: v.model }) + "?uploaded=" + v.version)} />
        </details>
      )}
      {page.state === "loading" && <p aria-busy="true">Loading the models…</p>}
      {page.state === "error" && <ProblemView problem={page.problem} retry={reload} />}
      {page.state === "ok" &&
        (page.data.items.length === 0 ? (
          <NoModels />
        ) : (
          <ModelTable
            items={[...page.data.items, ...more]}
            next={more.length ? cursor : page.data.next_cursor}
            onMore={loadMore}
          />
        ))}
    </>
  );
}

function ModelTable({ items, next, onMore }: { items: ModelSummary[]; next: string | null; onMore: (c: string) => void }) {
  return (
    <>
      <Table caption="Models, by name" columns={["Name", "Kind", "Latest version", "Aliases", "Created"]}>
          {items.map((m) => (
            <tr key={m.name}>
              <th scope="row">
                <Link href={pathFor("model", { name: m.name })}>{m.name}</Link>
                {m.visibility === "private" && <span class="tag">private</span>}
              </th>
              <td>{m.kind}</td>
              <td>{m.latest_version ?? "none"}</td>
              <td>
                {Object.entries(m.aliases).map(([alias, v]) => (
                  <span class="tag" key={alias}>
                    {alias} → {v}
                  </span>
                ))}
              </td>
              <td>{formatTime(m.created_at)}</td>
            </tr>
          ))}
      </Table>
      {next && (
        <button type="button" onClick={() => onMore(next)}>
          Show more models
        </button>
      )}
    </>
  );
}

function NoModels() {
  const { user } = useSession();
  return (
    <Empty title="No models yet">
      {user?.role === "admin" ? (
        <>
          <p>Upload the first one with “Upload a model” above, or through the API, for example:</p>
          <pre>
            <code>
              {"curl -u EMAIL:PASSWORD -X POST 'http://" + location.host +
                "/api/v1/models/NAME/versions?kind=xgboost' \\\n  -H 'Content-Type: application/octet-stream' --data-binary @model.ubj"}
            </code>
          </pre>
          <p>
            or with <code>vigil model push</code>. Every call is described in the <a href="/docs">API docs</a>.
          </p>
        </>
      ) : (
        <p>An admin uploads models; ask one to add the model you need. They appear here at once.</p>
      )}
    </Empty>
  );
}
