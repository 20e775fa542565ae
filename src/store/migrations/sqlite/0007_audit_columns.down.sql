-- Format 2 segments back into format 1 (the JSON array of objects migration 6 reads). Each
-- value is looked up by its index, so a segment of n records takes O(n^2) steps: seconds for a
-- full one. Rolling back is meant for shortly after an upgrade.
UPDATE audit_segments SET format = 1, records = (
  SELECT '[' || group_concat(line, ',') || ']' FROM (
    SELECT json_object(
      'at', strftime('%Y-%m-%dT%H:%M:%fZ',
                     (json_extract(audit_segments.records, '$.t0') + a.value) / 1000000.0,
                     'unixepoch'),
      'request_id', json_extract(audit_segments.records, '$.rid[' || a.key || ']'),
      'user', CASE json_extract(audit_segments.records, '$.u[' || a.key || ']')
                WHEN 0 THEN json('null')
                ELSE json_object(
                  'id', json_extract(audit_segments.records, '$.users['
                        || (json_extract(audit_segments.records, '$.u[' || a.key || ']') - 1)
                        || '][0]'),
                  'email', json_extract(audit_segments.records, '$.users['
                        || (json_extract(audit_segments.records, '$.u[' || a.key || ']') - 1)
                        || '][1]')) END,
      'method', json_extract(audit_segments.records, '$.methods['
                || json_extract(audit_segments.records, '$.m[' || a.key || ']') || ']'),
      'path', json_extract(audit_segments.records, '$.paths['
              || json_extract(audit_segments.records, '$.p[' || a.key || ']') || ']'),
      'status', json_extract(audit_segments.records, '$.s[' || a.key || ']'),
      'latency_us', json_extract(audit_segments.records, '$.lat[' || a.key || ']'),
      'bytes_in', json_extract(audit_segments.records, '$.in[' || a.key || ']'),
      'bytes_out', json_extract(audit_segments.records, '$.out[' || a.key || ']'),
      'ip', json_extract(audit_segments.records, '$.ips['
            || json_extract(audit_segments.records, '$.ip[' || a.key || ']') || ']')) AS line
    FROM json_each(audit_segments.records, '$.at') a ORDER BY a.key))
WHERE format = 2;
ALTER TABLE audit_segments DROP COLUMN format;
