// The fleet: devices with their desired and running models and whether they are online (live,
// from the `devices` topic), filters in the URL, an admin's form to register a device, and the
// watchdogs.
import { useState } from "preact/hooks";
import { type Device, type Watchdog, api } from "../api/client";
import { type Problem, fieldErrors } from "../api/problem";
import { Empty, Field, FormMessage, Link, ProblemView, Table, formatTime, useLoad } from "../components/ui";
import { useEvents, useThrottled } from "../live";
import { navigate, pathFor } from "../router";
import { useSession } from "../session";
import { parseLabels } from "./rollout-logic";

export const modelText = (m: { name: string; version: number } | null) => (m ? `${m.name}:${m.version}` : "none");

// A device's models: desired, and what it runs when that differs.
export function ModelsCell({ model, running }: { model: Device["model"]; running: Device["running"] }) {
  const differs = modelText(model) !== modelText(running);
  return (
    <>
      {modelText(model)}
      {differs && <span class="hint"> (runs {modelText(running)})</span>}
    </>
  );
}

export function Online({ online }: { online: boolean }) {
  return <span class={`state ${online ? "ok" : "off"}`}>{online ? "online" : "offline"}</span>;
}

export function Fleet({ search }: { search: string }) {
  const q = new URLSearchParams(search);
  const filter = { type: q.get("type") ?? "", label: q.get("label") ?? "", online: q.get("online") ?? "" };
  const [more, setMore] = useState<Device[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const query = { limit: 100, type: filter.type || undefined, label: filter.label || undefined, online: filter.online || undefined };
  const [page, reload] = useLoad(() => api.get("/api/v1/devices", { query }), [search]);
  const [watchdogs, reloadWatchdogs] = useLoad(() => api.get("/api/v1/watchdogs", { query: { limit: 100 } }), []);
  // online/offline flip a row at once; command reports change running models: reload, at most
  // every half second.
  const [online, setOnline] = useState<Record<string, boolean>>({});
  const refresh = useThrottled(() => {
    setOnline({});
    setMore([]);
    reload();
    reloadWatchdogs();
  }, 500);
  useEvents(
    ["devices"],
    (e) => {
      const kind = e.event.kind;
      if ((kind === "online" || kind === "offline") && typeof e.event.device === "string") {
        const name = e.event.device;
        setOnline((o) => ({ ...o, [name.toLowerCase()]: kind === "online" }));
      }
      refresh();
    },
    refresh,
  );
  const { user } = useSession();

  const loadMore = async (from: string) => {
    const r = await api.get("/api/v1/devices", { query: { ...query, cursor: from } });
    if (r.ok) {
      setMore((m) => [...m, ...r.data.items]);
      setCursor(r.data.next_cursor);
    }
  };
  const items = page.state === "ok" ? [...page.data.items, ...more] : [];
  const next = page.state === "ok" ? (more.length ? cursor : page.data.next_cursor) : null;
  const filtered = Boolean(filter.type || filter.label || filter.online);

  return (
    <>
      <h1 tabIndex={-1}>Fleet</h1>
      <p>
        Devices, the model each should run and the one its watchdog reports. Move many at once with a{" "}
        <Link href="/rollouts">rollout</Link>.
      </p>
      {user?.role === "admin" && (
        <details class="panel">
          <summary>Register a device</summary>
          <AddDevice onAdded={(d) => navigate(pathFor("device", { name: d.name }) + "?added")} />
        </details>
      )}
      <DeviceFilters filter={filter} />
      {page.state === "loading" && <p aria-busy="true">Loading the devices…</p>}
      {page.state === "error" && <ProblemView problem={page.problem} retry={reload} />}
      {page.state === "ok" &&
        (items.length === 0 ? (
          filtered ? (
            <Empty title="No device matches">
              <p>
                Change the filters, or <Link href="/fleet">show every device</Link>.
              </p>
            </Empty>
          ) : (
            <Empty title="No devices yet">
              <p>
                {user?.role === "admin"
                  ? "Register the first one with “Register a device” above, then enroll a watchdog on its page: the page gives the command to run on the device."
                  : "An admin registers devices; they appear here at once."}
              </p>
            </Empty>
          )
        ) : (
          <>
            <Table caption="Devices" columns={["Name", "Type", "Labels", "Model (desired)", "State", "Last seen"]}>
              {items.map((d) => (
                <tr key={d.id}>
                  <th scope="row">
                    <Link href={pathFor("device", { name: d.name })}>{d.name}</Link>
                  </th>
                  <td>{d.type}</td>
                  <td>
                    {Object.entries(d.labels).map(([k, v]) => (
                      <span class="tag" key={k}>
                        {k}={v}
                      </span>
                    ))}
                  </td>
                  <td>
                    <ModelsCell model={d.model} running={d.running} />
                  </td>
                  <td>
                    <Online online={online[d.name.toLowerCase()] ?? d.online} />
                  </td>
                  <td>{d.last_seen ? formatTime(d.last_seen) : "never"}</td>
                </tr>
              ))}
            </Table>
            {next && (
              <button type="button" onClick={() => loadMore(next)}>
                Show more devices
              </button>
            )}
          </>
        ))}

      <h2>Watchdogs</h2>
      {watchdogs.state === "error" && <ProblemView problem={watchdogs.problem} retry={reloadWatchdogs} />}
      {watchdogs.state === "ok" &&
        (watchdogs.data.items.length === 0 ? (
          <p>No watchdog is enrolled yet. Enroll one from its device’s page.</p>
        ) : (
          <WatchdogTable items={watchdogs.data.items} />
        ))}
    </>
  );
}

export function WatchdogTable({ items, onDelete }: { items: Watchdog[]; onDelete?: (w: Watchdog) => void }) {
  return (
    <Table caption="Watchdogs" columns={["Name", "Device", "Agent", "Runs", "State", "Last seen", ...(onDelete ? [""] : [])]}>
      {items.map((w) => (
        <tr key={w.name}>
          <th scope="row">{w.name}</th>
          <td>
            <Link href={pathFor("device", { name: w.device })}>{w.device}</Link>
          </td>
          <td>{w.agent || "not connected yet"}</td>
          <td>{modelText(w.running)}</td>
          <td>
            <Online online={w.online} />
          </td>
          <td>{w.last_seen ? formatTime(w.last_seen) : "never"}</td>
          {onDelete && (
            <td>
              <button type="button" onClick={() => onDelete(w)} aria-label={`Delete watchdog ${w.name}`}>
                Delete
              </button>
            </td>
          )}
        </tr>
      ))}
    </Table>
  );
}

function DeviceFilters({ filter }: { filter: { type: string; label: string; online: string } }) {
  const [type, setType] = useState(filter.type);
  const [label, setLabel] = useState(filter.label);
  const [online, setOnline] = useState(filter.online);
  const apply = (e: Event) => {
    e.preventDefault();
    const q = new URLSearchParams();
    if (type.trim()) q.set("type", type.trim());
    if (label.trim()) q.set("label", label.trim());
    if (online) q.set("online", online);
    const s = q.toString();
    navigate(s ? `/fleet?${s}` : "/fleet");
  };
  return (
    <form class="inline-form filters" onSubmit={apply} aria-label="Filter devices">
      <Field label="Type" name="type" value={type} onInput={setType} />
      <Field label="Label" name="label" value={label} onInput={setLabel} hint="key:value" />
      <div class="field">
        <label for="field-online">State</label>
        <select id="field-online" value={online} onChange={(e) => setOnline(e.currentTarget.value)}>
          <option value="">Any</option>
          <option value="true">Online</option>
          <option value="false">Offline</option>
        </select>
      </div>
      <button type="submit">Filter</button>
    </form>
  );
}

function AddDevice({ onAdded }: { onAdded: (d: Device) => void }) {
  const [name, setName] = useState("");
  const [type, setType] = useState("");
  const [labels, setLabels] = useState("");
  const [problem, setProblem] = useState<Problem | null>(null);
  const [labelError, setLabelError] = useState("");
  const [busy, setBusy] = useState(false);
  const errors = fieldErrors(problem, ["name", "type", "labels"]);

  const submit = async (e: Event) => {
    e.preventDefault();
    let parsed: Record<string, string> | undefined;
    if (labels.trim()) {
      const l = parseLabels(labels);
      if ("error" in l) return setLabelError(l.error);
      parsed = l.labels;
    }
    setLabelError("");
    setBusy(true);
    const r = await api.post("/api/v1/devices", {
      body: { name: name.trim(), ...(type.trim() ? { type: type.trim() } : {}), ...(parsed ? { labels: parsed } : {}) },
    });
    setBusy(false);
    setProblem(r.ok ? null : r.problem);
    if (r.ok) onAdded(r.data);
  };
  return (
    <form onSubmit={submit} noValidate class="narrow">
      <Field label="Name" name="name" value={name} onInput={setName} error={errors.name} required
        hint="1–64 letters, digits, dots, dashes or underscores" />
      <Field label="Type (optional)" name="device-type" value={type} onInput={setType} error={errors.type}
        hint="camera, misc, … (default unknown)" />
      <Field label="Labels (optional)" name="labels" value={labels} onInput={setLabels} error={labelError || errors.labels}
        hint="site=north, floor=2" />
      <button type="submit" class="primary" disabled={busy || !name.trim()}>
        {busy ? "Registering…" : "Register device"}
      </button>
      <FormMessage error={errors[""]} />
    </form>
  );
}
