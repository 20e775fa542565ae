-- Format 2 segments back into format 1 (the JSON array of objects migration 6 reads).
UPDATE audit_segments s SET format = 1, records = (
  SELECT json_agg(json_build_object(
           'at', to_char(to_timestamp(((c ->> 't0')::bigint + a.v::bigint) / 1000000.0)
                           AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
           'request_id', c -> 'rid' ->> (a.n - 1)::int,
           'user', CASE (c -> 'u' ->> (a.n - 1)::int)::int
                     WHEN 0 THEN NULL
                     ELSE json_build_object(
                       'id', (c -> 'users' -> ((c -> 'u' ->> (a.n - 1)::int)::int - 1) ->> 0)::bigint,
                       'email', c -> 'users' -> ((c -> 'u' ->> (a.n - 1)::int)::int - 1) ->> 1) END,
           'method', c -> 'methods' ->> (c -> 'm' ->> (a.n - 1)::int)::int,
           'path', c -> 'paths' ->> (c -> 'p' ->> (a.n - 1)::int)::int,
           'status', (c -> 's' ->> (a.n - 1)::int)::integer,
           'latency_us', (c -> 'lat' ->> (a.n - 1)::int)::bigint,
           'bytes_in', (c -> 'in' ->> (a.n - 1)::int)::bigint,
           'bytes_out', (c -> 'out' ->> (a.n - 1)::int)::bigint,
           'ip', c -> 'ips' ->> (c -> 'ip' ->> (a.n - 1)::int)::int) ORDER BY a.n)::text
  FROM (SELECT s.records::jsonb AS c) cols,
       jsonb_array_elements_text(cols.c -> 'at') WITH ORDINALITY AS a (v, n))
WHERE s.format = 2;
ALTER TABLE audit_segments DROP COLUMN format;
