-- Format 2 segments back into format 1 (the JSON array of objects migration 6 reads). Every
-- column's cells go into a temporary table first (json_each parses each array once), so the
-- records are put back together by index lookups instead of walking the JSON for each value.
CREATE TEMP TABLE audit_cells AS
  SELECT s.id AS seg, c.key AS col, e.key AS k, e.value AS v
  FROM audit_segments s, json_each(s.records) c, json_each(c.value) e
  WHERE s.format = 2 AND c.type = 'array'
  UNION ALL
  SELECT s.id, 't0', 0, json_extract(s.records, '$.t0') FROM audit_segments s WHERE s.format = 2;
CREATE INDEX temp.audit_cells_at ON audit_cells (seg, col, k);
UPDATE audit_segments SET format = 1, records = (
  SELECT '[' || group_concat(line, ',') || ']' FROM (
    SELECT json_object(
      'at', strftime('%Y-%m-%dT%H:%M:%fZ', (t0.v + a.v) / 1000000.0, 'unixepoch'),
      'request_id', rid.v,
      'user', CASE u.v WHEN 0 THEN json('null')
                ELSE json_object('id', json_extract(users.v, '$[0]'),
                                 'email', json_extract(users.v, '$[1]')) END,
      'method', methods.v, 'path', paths.v, 'status', s.v, 'latency_us', lat.v,
      'bytes_in', bin.v, 'bytes_out', bout.v, 'ip', ips.v) AS line
    FROM audit_cells a
      JOIN audit_cells t0 ON t0.seg = a.seg AND t0.col = 't0' AND t0.k = 0
      JOIN audit_cells rid ON rid.seg = a.seg AND rid.col = 'rid' AND rid.k = a.k
      JOIN audit_cells u ON u.seg = a.seg AND u.col = 'u' AND u.k = a.k
      LEFT JOIN audit_cells users ON users.seg = a.seg AND users.col = 'users'
                                  AND users.k = u.v - 1
      JOIN audit_cells m ON m.seg = a.seg AND m.col = 'm' AND m.k = a.k
      JOIN audit_cells methods ON methods.seg = a.seg AND methods.col = 'methods'
                               AND methods.k = m.v
      JOIN audit_cells p ON p.seg = a.seg AND p.col = 'p' AND p.k = a.k
      JOIN audit_cells paths ON paths.seg = a.seg AND paths.col = 'paths' AND paths.k = p.v
      JOIN audit_cells s ON s.seg = a.seg AND s.col = 's' AND s.k = a.k
      JOIN audit_cells lat ON lat.seg = a.seg AND lat.col = 'lat' AND lat.k = a.k
      JOIN audit_cells bin ON bin.seg = a.seg AND bin.col = 'in' AND bin.k = a.k
      JOIN audit_cells bout ON bout.seg = a.seg AND bout.col = 'out' AND bout.k = a.k
      JOIN audit_cells ip ON ip.seg = a.seg AND ip.col = 'ip' AND ip.k = a.k
      JOIN audit_cells ips ON ips.seg = a.seg AND ips.col = 'ips' AND ips.k = ip.v
    WHERE a.seg = audit_segments.id AND a.col = 'at'
    ORDER BY a.k))
WHERE format = 2;
DROP TABLE audit_cells;
ALTER TABLE audit_segments DROP COLUMN format;
