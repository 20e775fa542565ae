// The Prometheus text format (0.0.4, what GET /metrics answers) read into samples, and the few
// figures the health page shows taken from them. Pure: no DOM, no fetch (unit tests beside it).

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Metrics {
  samples: Sample[];
  // By family name: its # TYPE (counter, gauge, histogram, …) and # HELP.
  types: Record<string, string>;
  help: Record<string, string>;
}

const nameRe = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;

function number(text: string): number {
  if (text === "+Inf" || text === "Inf") return Infinity;
  if (text === "-Inf") return -Infinity;
  if (text === "NaN") return NaN;
  return text.trim() === "" ? NaN : Number(text);
}

// {a="x",b="y \"q\""} at the start of `s`: the labels and the rest after the closing brace, or
// null when it is not well formed.
function labelsAt(s: string): { labels: Record<string, string>; rest: string } | null {
  const labels: Record<string, string> = {};
  let i = 1; // past "{"
  for (;;) {
    while (s[i] === " " || s[i] === ",") i++;
    if (s[i] === "}") return { labels, rest: s.slice(i + 1) };
    const name = nameRe.exec(s.slice(i))?.[0];
    if (!name) return null;
    i += name.length;
    while (s[i] === " ") i++;
    if (s[i] !== "=" || s[i + 1] !== '"') return null;
    i += 2;
    let value = "";
    for (;;) {
      const c = s[i];
      if (c === undefined) return null;
      if (c === '"') break;
      if (c === "\\") {
        const e = s[i + 1];
        value += e === "n" ? "\n" : (e ?? "");
        i += 2;
      } else {
        value += c;
        i++;
      }
    }
    labels[name] = value;
    i++; // past the closing quote
  }
}

// Every sample of the text; lines it cannot read are skipped (a figure missing beats a page
// that does not show).
export function parsePrometheus(text: string): Metrics {
  const out: Metrics = { samples: [], types: {}, help: {} };
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line) continue;
    if (line.startsWith("#")) {
      const m = /^#\s*(TYPE|HELP)\s+(\S+)\s*(.*)$/.exec(line);
      if (m?.[1] === "TYPE") out.types[m[2]!] = m[3]!.trim();
      else if (m?.[1] === "HELP") out.help[m[2]!] = m[3]!.replace(/\\n/g, "\n").replace(/\\\\/g, "\\");
      continue;
    }
    const name = nameRe.exec(line)?.[0];
    if (!name) continue;
    let rest = line.slice(name.length);
    let labels: Record<string, string> = {};
    if (rest.startsWith("{")) {
      const l = labelsAt(rest);
      if (!l) continue;
      labels = l.labels;
      rest = l.rest;
    }
    const token = rest.trim().split(/\s+/)[0] ?? "";
    const value = number(token);
    if (Number.isNaN(value) && token !== "NaN") continue;
    out.samples.push({ name, labels, value });
  }
  return out;
}

// The sum of the samples called `name` whose labels pass `where`; null when there are none (the
// server does not have that metric, or has not counted anything under it yet).
export function total(m: Metrics, name: string, where: (labels: Record<string, string>) => boolean = () => true): number | null {
  let sum: number | null = null;
  for (const s of m.samples) {
    if (s.name === name && where(s.labels)) sum = (sum ?? 0) + s.value;
  }
  return sum;
}

export interface HealthFigures {
  requests: number | null;
  // Requests by status class ("2xx", "3xx", "4xx", "5xx"), the classes that occurred.
  byClass: Record<string, number>;
  // Mean request latency in seconds, from the latency histograms' sums and counts.
  meanLatency: number | null;
  connections: number | null;
  webSockets: number | null;
  deviceSessions: number | null;
  auditWritten: number | null;
  auditDropped: number | null;
  auditFailed: number | null;
  auditQueue: number | null;
  inferenceRows: number | null;
  modelsCached: number | null;
}

// The health page's figures from /metrics.
export function healthFigures(m: Metrics): HealthFigures {
  const byClass: Record<string, number> = {};
  for (const s of m.samples) {
    if (s.name !== "vigil_http_requests_total") continue;
    const cls = /^[1-5]\d\d$/.test(s.labels.status ?? "") ? `${s.labels.status![0]}xx` : "other";
    byClass[cls] = (byClass[cls] ?? 0) + s.value;
  }
  const latencySum = total(m, "vigil_http_request_duration_seconds_sum");
  const latencyCount = total(m, "vigil_http_request_duration_seconds_count");
  return {
    requests: total(m, "vigil_http_requests_total"),
    byClass,
    meanLatency: latencySum !== null && latencyCount ? latencySum / latencyCount : null,
    connections: total(m, "vigil_http_connections"),
    webSockets: total(m, "vigil_websocket_sessions"),
    deviceSessions: total(m, "vigil_fleet_sessions"),
    auditWritten: total(m, "vigil_audit_written_total"),
    auditDropped: total(m, "vigil_audit_dropped_total"),
    auditFailed: total(m, "vigil_audit_failed_total"),
    auditQueue: total(m, "vigil_audit_queue_depth"),
    // Counted per model from its first prediction on: none yet when absent.
    inferenceRows: total(m, "vigil_predict_rows_total") ?? (m.samples.length ? 0 : null),
    modelsCached: total(m, "vigil_model_cache_entries"),
  };
}
