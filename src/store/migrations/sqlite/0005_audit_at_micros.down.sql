CREATE TABLE audit_log_old (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at TEXT NOT NULL,
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
INSERT INTO audit_log_old (id, at, request_id, user_id, user_email, method, path, status,
                           latency_us, bytes_in, bytes_out, ip)
  SELECT id, strftime('%Y-%m-%dT%H:%M:%fZ', at / 1000000.0, 'unixepoch'), request_id, user_id,
         user_email, method, path, status, latency_us, bytes_in, bytes_out, ip
  FROM audit_log ORDER BY id;
DROP INDEX audit_log_at;
DROP TABLE audit_log;
ALTER TABLE audit_log_old RENAME TO audit_log;
CREATE INDEX audit_log_at ON audit_log (at);
