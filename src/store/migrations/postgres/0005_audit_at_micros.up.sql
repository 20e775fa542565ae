-- audit_log.at becomes microseconds since the Unix epoch (BIGINT) instead of RFC 3339 text: a
-- row is written on every request, and an integer is cheaper to bind, store and index than 24
-- characters (docs/decisions/0005-audit-writer.md). The API still speaks RFC 3339.
ALTER TABLE audit_log ALTER COLUMN at TYPE BIGINT
  USING round(extract(epoch FROM at::timestamptz) * 1000000)::bigint;
