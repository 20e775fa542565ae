CREATE TABLE audit_log (
  id BIGSERIAL PRIMARY KEY,
  at BIGINT NOT NULL,
  request_id TEXT NOT NULL,
  user_id BIGINT,
  user_email TEXT,
  method TEXT NOT NULL,
  path TEXT NOT NULL,
  status INTEGER NOT NULL,
  latency_us BIGINT NOT NULL,
  bytes_in BIGINT NOT NULL,
  bytes_out BIGINT NOT NULL,
  ip TEXT NOT NULL
);
INSERT INTO audit_log (at, request_id, user_id, user_email, method, path, status, latency_us,
                       bytes_in, bytes_out, ip)
  SELECT round(extract(epoch FROM (r ->> 'at')::timestamptz) * 1000000)::bigint,
         r ->> 'request_id', (r -> 'user' ->> 'id')::bigint, r -> 'user' ->> 'email',
         r ->> 'method', r ->> 'path', (r ->> 'status')::integer,
         (r ->> 'latency_us')::bigint, (r ->> 'bytes_in')::bigint, (r ->> 'bytes_out')::bigint,
         r ->> 'ip'
  FROM audit_segments s, json_array_elements(s.records::json) WITH ORDINALITY AS e (r, n)
  ORDER BY s.id, e.n;
CREATE INDEX audit_log_at ON audit_log (at);
DROP TABLE audit_segments;
