import { describe, expect, it } from "vitest";
import { healthFigures, parsePrometheus, total } from "./metrics";

// As vigil serve renders it (MetricsRegistry::render), trimmed; the predict rows are made up.
const text = `# HELP vigil_audit_dropped_total Audit records dropped because the writer fell behind
# TYPE vigil_audit_dropped_total counter
vigil_audit_dropped_total 3
# HELP vigil_audit_queue_depth Audit records waiting to be written
# TYPE vigil_audit_queue_depth gauge
vigil_audit_queue_depth 0
# HELP vigil_audit_written_total Audit records written
# TYPE vigil_audit_written_total counter
vigil_audit_written_total 10
# HELP vigil_http_connections Open HTTP connections
# TYPE vigil_http_connections gauge
vigil_http_connections 1
# HELP vigil_http_request_duration_seconds Time from request head to response, by route
# TYPE vigil_http_request_duration_seconds histogram
vigil_http_request_duration_seconds_bucket{route="/healthz",method="GET",le="5.0000000000000002e-05"} 1
vigil_http_request_duration_seconds_bucket{route="/healthz",method="GET",le="+Inf"} 2
vigil_http_request_duration_seconds_sum{route="/healthz",method="GET"} 3.6429e-05
vigil_http_request_duration_seconds_count{route="/healthz",method="GET"} 2
vigil_http_request_duration_seconds_sum{route="/api/v1/users",method="POST"} 0.028125698000000001
vigil_http_request_duration_seconds_count{route="/api/v1/users",method="POST"} 3
vigil_http_request_duration_seconds_sum{route="/docs",method="GET"} 0
vigil_http_request_duration_seconds_count{route="/docs",method="GET"} 0
# HELP vigil_http_requests_total HTTP requests by route and status
# TYPE vigil_http_requests_total counter
vigil_http_requests_total{route="/healthz",method="GET",status="200"} 2
vigil_http_requests_total{route="/api/v1/users",method="POST",status="201"} 1
vigil_http_requests_total{route="/api/v1/users",method="POST",status="422"} 1
vigil_http_requests_total{route="/api/v1/users",method="POST",status="409"} 1
vigil_http_requests_total{route="/api/v1/ws/events",method="GET",status="101"} 1
vigil_http_requests_total{route="/api/v1/users/{id}",method="DELETE",status="409"} 1
# HELP vigil_predict_rows_total Rows predicted
# TYPE vigil_predict_rows_total counter
vigil_predict_rows_total{model="leak-risk"} 10
vigil_predict_rows_total{model="blank"} 5
# HELP vigil_websocket_sessions WebSocket sessions open
# TYPE vigil_websocket_sessions gauge
vigil_websocket_sessions 1
`;

describe("parsePrometheus", () => {
  const m = parsePrometheus(text);

  it("reads samples, labels, types and help", () => {
    expect(m.samples[0]).toEqual({ name: "vigil_audit_dropped_total", labels: {}, value: 3 });
    expect(m.types.vigil_http_request_duration_seconds).toBe("histogram");
    expect(m.help.vigil_http_connections).toBe("Open HTTP connections");
    const inf = m.samples.find((s) => s.labels.le === "+Inf");
    expect(inf).toEqual({
      name: "vigil_http_request_duration_seconds_bucket",
      labels: { route: "/healthz", method: "GET", le: "+Inf" },
      value: 2,
    });
  });

  it("unescapes label values and reads special numbers and timestamps", () => {
    const s = parsePrometheus(
      'a{path="C:\\\\x",q="say \\"hi\\"",n="1\\n2"} +Inf\nb NaN\nc -Inf\nd 1.5e3 1700000000000\n',
    ).samples;
    expect(s[0]).toEqual({ name: "a", labels: { path: "C:\\x", q: 'say "hi"', n: "1\n2" }, value: Infinity });
    expect(Number.isNaN(s[1]!.value)).toBe(true);
    expect(s[2]!.value).toBe(-Infinity);
    expect(s[3]).toEqual({ name: "d", labels: {}, value: 1500 });
  });

  it("skips lines it cannot read", () => {
    const s = parsePrometheus('ok 1\n{nolabel="x"} 2\nbroken{a="x} 3\nnovalue\nwords here\nlast 4').samples;
    expect(s.map((x) => x.name)).toEqual(["ok", "last"]);
  });

  it("sums a metric over the labels that match", () => {
    expect(total(m, "vigil_predict_rows_total")).toBe(15);
    expect(total(m, "vigil_http_requests_total", (l) => l.route === "/api/v1/users")).toBe(3);
    expect(total(m, "vigil_http_request_duration_seconds_count")).toBe(5);
    expect(total(m, "vigil_no_such_metric")).toBeNull();
  });
});

describe("healthFigures", () => {
  it("takes the figures the health page shows", () => {
    const f = healthFigures(parsePrometheus(text));
    expect(f.requests).toBe(7);
    expect(f.byClass).toEqual({ "1xx": 1, "2xx": 3, "4xx": 3 });
    expect(f.meanLatency).toBeCloseTo((3.6429e-5 + 0.028125698) / 5);
    expect(f.connections).toBe(1);
    expect(f.webSockets).toBe(1);
    expect(f.auditWritten).toBe(10);
    expect(f.auditDropped).toBe(3);
    expect(f.auditQueue).toBe(0);
    expect(f.inferenceRows).toBe(15);
    expect(f.deviceSessions).toBeNull(); // not in this text
  });

  it("has nothing for an empty text", () => {
    const f = healthFigures(parsePrometheus(""));
    expect(f.requests).toBeNull();
    expect(f.byClass).toEqual({});
    expect(f.meanLatency).toBeNull();
    expect(f.inferenceRows).toBeNull();
  });

  it("counts no predictions as 0 rows when the server reports other metrics", () => {
    expect(healthFigures(parsePrometheus("vigil_audit_written_total 1")).inferenceRows).toBe(0);
  });
});
