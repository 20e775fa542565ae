CREATE TABLE audit_log (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  request_id TEXT NOT NULL,
  user_id INTEGER,
  user_email TEXT,
  method TEXT NOT NULL,
  path TEXT NOT NULL,
  status INTEGER NOT NULL,
  latency_us INTEGER NOT NULL,
  bytes_in INTEGER NOT NULL,
  bytes_out INTEGER NOT NULL,
  ip TEXT NOT NULL
);
INSERT INTO audit_log (at, request_id, user_id, user_email, method, path, status, latency_us,
                       bytes_in, bytes_out, ip)
  SELECT CAST(round((julianday(json_extract(r.value, '$.at')) - 2440587.5) * 86400000.0)
              AS INTEGER) * 1000,
         json_extract(r.value, '$.request_id'), json_extract(r.value, '$.user.id'),
         json_extract(r.value, '$.user.email'), json_extract(r.value, '$.method'),
         json_extract(r.value, '$.path'), json_extract(r.value, '$.status'),
         json_extract(r.value, '$.latency_us'), json_extract(r.value, '$.bytes_in'),
         json_extract(r.value, '$.bytes_out'), json_extract(r.value, '$.ip')
  FROM audit_segments s, json_each(s.records) r ORDER BY s.id, r.key;
CREATE INDEX audit_log_at ON audit_log (at);
DROP INDEX audit_segments_last_at;
DROP TABLE audit_segments;
