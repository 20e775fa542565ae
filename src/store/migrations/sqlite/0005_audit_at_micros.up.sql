-- audit_log.at becomes microseconds since the Unix epoch (INTEGER) instead of RFC 3339 text: a
-- row is written on every request, and an integer is cheaper to bind, store and index than 24
-- characters (docs/decisions/0005-audit-writer.md). The API still speaks RFC 3339.
-- SQLite cannot change a column's type, so the table is rebuilt; ids are kept.
CREATE TABLE audit_log_new (
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
INSERT INTO audit_log_new (id, at, request_id, user_id, user_email, method, path, status,
                           latency_us, bytes_in, bytes_out, ip)
  SELECT id, coalesce(CAST(round((julianday(at) - 2440587.5) * 86400000.0) AS INTEGER), 0) * 1000,
         request_id, user_id, user_email, method, path, status, latency_us, bytes_in, bytes_out, ip
  FROM audit_log ORDER BY id;
DROP INDEX audit_log_at;
DROP TABLE audit_log;
ALTER TABLE audit_log_new RENAME TO audit_log;
CREATE INDEX audit_log_at ON audit_log (at);
