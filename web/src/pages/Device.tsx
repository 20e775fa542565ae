// One device: what it should run and what it runs, online state (live), its watchdogs, an
// enrollment code for a new one (shown once, with the command to run on the device), assigning
// a model directly, and where to go next (its alarms, a rollout of just this device).
import { useState } from "preact/hooks";
import { type Device as DeviceT, type Watchdog, api } from "../api/client";
import { type Problem, describe, fieldErrors } from "../api/problem";
import { Empty, Field, FormMessage, Link, ProblemView, formatTime, useLoad } from "../components/ui";
import { useEvents, useThrottled } from "../live";
import { useSession } from "../session";
import { ModelsCell, Online, WatchdogTable, modelText } from "./Fleet";

export function Device({ name, search }: { name: string; search: string }) {
  const [device, reload] = useLoad(() => api.get("/api/v1/devices/{name}", { path: { name } }), [name]);
  const [watchdogs, reloadWatchdogs] = useLoad(
    () => api.get("/api/v1/watchdogs", { query: { device: name, limit: 100 } }),
    [name],
  );
  const refresh = useThrottled(() => {
    reload();
    reloadWatchdogs();
  }, 300);
  useEvents(
    ["devices"],
    (e) => {
      const d = e.event.device;
      // online/offline name the device; command reports carry its id.
      if (typeof d === "string" ? d.toLowerCase() === name.toLowerCase() : device.state === "ok" && e.event.device_id === device.data.id) refresh();
    },
    refresh,
  );
  return (
    <>
      <p class="crumbs">
        <Link href="/fleet">Fleet</Link> /
      </p>
      <h1 tabIndex={-1}>{name}</h1>
      {new URLSearchParams(search).has("added") && (
        <p class="message success" role="status">
          The device was registered. Enroll a watchdog below to connect it.
        </p>
      )}
      {device.state === "loading" && <p aria-busy="true">Loading the device…</p>}
      {device.state === "error" &&
        (device.problem.status === 404 ? (
          <Empty title="No such device">
            <p>
              There is no device named “{name}”. <Link href="/fleet">See the fleet</Link>.
            </p>
          </Empty>
        ) : (
          <ProblemView problem={device.problem} retry={reload} />
        ))}
      {device.state === "ok" && (
        <DeviceBody
          device={device.data}
          watchdogs={watchdogs.state === "ok" ? watchdogs.data.items : []}
          onChange={refresh}
        />
      )}
    </>
  );
}

function DeviceBody({ device, watchdogs, onChange }: { device: DeviceT; watchdogs: Watchdog[]; onChange: () => void }) {
  const { user } = useSession();
  const admin = user?.role === "admin";
  const [problem, setProblem] = useState<Problem | null>(null);
  const remove = async (w: Watchdog) => {
    const r = await api.delete("/api/v1/watchdogs/{name}", { path: { name: w.name } });
    setProblem(r.ok ? null : r.problem);
    onChange();
  };
  return (
    <>
      <dl class="facts">
        <dt>State</dt>
        <dd>
          <Online online={device.online} />
        </dd>
        <dt>Model</dt>
        <dd>
          <ModelsCell model={device.model} running={device.running} />
        </dd>
        <dt>Previous model</dt>
        <dd>{modelText(device.previous_model)}</dd>
        <dt>Type</dt>
        <dd>{device.type}</dd>
        <dt>Labels</dt>
        <dd>
          {Object.keys(device.labels).length === 0
            ? "none"
            : Object.entries(device.labels).map(([k, v]) => (
                <span class="tag" key={k}>
                  {k}={v}
                </span>
              ))}
        </dd>
        <dt>Last seen</dt>
        <dd>{device.last_seen ? formatTime(device.last_seen) : "never"}</dd>
      </dl>
      <p>
        <Link href={`/alarms?device=${encodeURIComponent(device.name)}`}>Alarms of {device.name}</Link>
        {admin && (
          <>
            {" · "}
            <Link href={`/rollouts/new?select=devices&devices=${encodeURIComponent(device.name)}`}>
              Start a rollout of this device
            </Link>
          </>
        )}
      </p>

      <h2>Watchdogs</h2>
      {watchdogs.length === 0 ? (
        <p>No watchdog is enrolled for this device yet.{admin ? " Make an enrollment code below." : ""}</p>
      ) : (
        <WatchdogTable items={watchdogs} {...(admin ? { onDelete: remove } : {})} />
      )}
      {problem && (
        <p class="message error" role="alert">
          {describe(problem)}
        </p>
      )}
      {admin && <Enroll device={device.name} />}
      {admin && <Assign device={device} onAssigned={onChange} />}
    </>
  );
}

// A single-use code, shown once; the agent's command line to paste on the device.
function Enroll({ device }: { device: string }) {
  const [code, setCode] = useState<{ code: string; expires_at: string } | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [copied, setCopied] = useState("");
  const make = async () => {
    const r = await api.post("/api/v1/devices/{name}/enrollments", { path: { name: device }, body: {} });
    setProblem(r.ok ? null : r.problem);
    setCode(r.ok ? r.data : null);
    setCopied("");
  };
  const command = code
    ? `vigil agent --url ${location.origin} --code ${code.code} --watchdog ${device}-w \\\n  --state-dir var/agent-${device} --input rows.csv`
    : "";
  const copy = async (text: string, what: string) => {
    try {
      await navigator.clipboard.writeText(text);
      setCopied(`${what} copied.`);
    } catch {
      setCopied("Copying is not allowed here: select the text and copy it.");
    }
  };
  return (
    <section aria-labelledby="enroll-heading">
      <h2 id="enroll-heading">Enroll a watchdog</h2>
      <p>
        A code lets one agent enroll as a watchdog of this device, once, within 24 hours. It is shown only now.
      </p>
      <button type="button" onClick={make}>
        {code ? "Make another code" : "Make an enrollment code"}
      </button>
      {problem && (
        <p class="message error" role="alert">
          {describe(problem)}
        </p>
      )}
      {code && (
        <div class="code-box">
          <p>
            Code: <code class="enroll-code">{code.code}</code>{" "}
            <button type="button" onClick={() => copy(code.code, "The code was")}>
              Copy code
            </button>{" "}
            <span class="hint">valid until {formatTime(code.expires_at)}</span>
          </p>
          <p>On the device, run:</p>
          <pre>
            <code>{command}</code>
          </pre>
          <button type="button" onClick={() => copy(command.replace("\\\n  ", ""), "The command was")}>
            Copy command
          </button>
          <p class="message success" role="status">
            {copied}
          </p>
        </div>
      )}
    </section>
  );
}

function Assign({ device, onAssigned }: { device: DeviceT; onAssigned: () => void }) {
  const [model, setModel] = useState(device.model?.name ?? "");
  const [version, setVersion] = useState(device.model ? String(device.model.version) : "");
  const [problem, setProblem] = useState<Problem | null>(null);
  const [done, setDone] = useState("");
  const errors = fieldErrors(problem, ["model", "version"]);
  const submit = async (e: Event) => {
    e.preventDefault();
    const r = await api.put("/api/v1/devices/{name}/model", {
      path: { name: device.name },
      body: { model: model.trim(), version: Number(version) },
    });
    setProblem(r.ok ? null : r.problem);
    setDone(r.ok ? `${device.name} is told to run ${model.trim()}:${version}.` : "");
    if (r.ok) onAssigned();
  };
  return (
    <section aria-labelledby="assign-heading">
      <h2 id="assign-heading">Assign a model</h2>
      <p>The device’s watchdogs are told at once. For many devices, with canaries and halts, use a rollout.</p>
      <form onSubmit={submit} noValidate class="inline-form">
        <Field label="Model" name="assign-model" value={model} onInput={setModel} error={errors.model} required />
        <Field label="Version" name="assign-version" value={version} onInput={setVersion} error={errors.version} required />
        <button type="submit" disabled={!model.trim() || !version.trim()}>
          Assign
        </button>
      </form>
      <FormMessage error={errors[""]} success={done || undefined} />
    </section>
  );
}
