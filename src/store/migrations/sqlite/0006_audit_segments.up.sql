-- The audit log is stored a batch at a time: one row per batch the writer commits (a segment of
-- up to 8192 records), holding the records as a JSON array — the same objects, in the same
-- order, as the access log's lines. A row and an index entry per request cost more CPU than
-- the rest of a simple request (docs/decisions/0005-audit-writer.md); a segment costs one.
-- Record ids are id * 65536 + the record's position in its segment.
CREATE TABLE audit_segments (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  first_at INTEGER NOT NULL,  -- the earliest record's at, microseconds since the Unix epoch
  last_at INTEGER NOT NULL,   -- the latest one's
  count INTEGER NOT NULL,
  records TEXT NOT NULL       -- JSON array, oldest first
);
CREATE INDEX audit_segments_last_at ON audit_segments (last_at);
INSERT INTO audit_segments (first_at, last_at, count, records)
  SELECT min(at), max(at), count(*), '[' || group_concat(line, ',') || ']'
  FROM (SELECT (id - 1) / 8192 AS grp, at,
               json_object('at', strftime('%Y-%m-%dT%H:%M:%fZ', at / 1000000.0, 'unixepoch'),
                           'request_id', request_id,
                           'user', CASE WHEN user_id IS NULL THEN json('null')
                                        ELSE json_object('id', user_id,
                                                         'email', coalesce(user_email, '')) END,
                           'method', method, 'path', path, 'status', status,
                           'latency_us', latency_us, 'bytes_in', bytes_in,
                           'bytes_out', bytes_out, 'ip', ip) AS line
        FROM audit_log ORDER BY id)
  GROUP BY grp ORDER BY grp;
DROP INDEX audit_log_at;
DROP TABLE audit_log;
