-- Segments written from now on hold their records as columns (format 2: one JSON object of
-- arrays, each user, method, path and address stored once per segment), a fifth of the bytes
-- of format 1's array of objects; storing those bytes was most of what the audit log cost a
-- request (docs/decisions/0005-audit-writer.md). Existing segments stay as they are: the
-- reader takes both.
ALTER TABLE audit_segments ADD COLUMN format INTEGER NOT NULL DEFAULT 1;
