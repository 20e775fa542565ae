-- The audit log is stored a batch at a time: one row per batch the writer commits (a segment of
-- up to 8192 records), holding the records as a JSON array — the same objects, in the same
-- order, as the access log's lines. A row and an index entry per request cost more CPU than
-- the rest of a simple request (docs/decisions/0005-audit-writer.md); a segment costs one.
-- Record ids are id * 65536 + the record's position in its segment.
CREATE TABLE audit_segments (
  id BIGSERIAL PRIMARY KEY,
  first_at BIGINT NOT NULL,  -- the earliest record's at, microseconds since the Unix epoch
  last_at BIGINT NOT NULL,   -- the latest one's
  count INTEGER NOT NULL,
  records TEXT NOT NULL      -- JSON array, oldest first
);
CREATE INDEX audit_segments_last_at ON audit_segments (last_at);
INSERT INTO audit_segments (first_at, last_at, count, records)
  SELECT min(at), max(at), count(*), '[' || string_agg(line, ',' ORDER BY id) || ']'
  FROM (SELECT id, (id - 1) / 8192 AS grp, at,
               json_build_object(
                 'at', to_char(to_timestamp(at / 1000000.0) AT TIME ZONE 'UTC',
                               'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                 'request_id', request_id,
                 'user', CASE WHEN user_id IS NULL THEN NULL
                              ELSE json_build_object('id', user_id,
                                                     'email', coalesce(user_email, '')) END,
                 'method', method, 'path', path, 'status', status, 'latency_us', latency_us,
                 'bytes_in', bytes_in, 'bytes_out', bytes_out, 'ip', ip)::text AS line
        FROM audit_log) AS records
  GROUP BY grp ORDER BY grp;
DROP TABLE audit_log;
