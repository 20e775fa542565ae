-- The audit log is written on every request; each index is paid for on every insert. Filtering
-- by user walks the id index newest first instead (docs/decisions/0005-audit-writer.md).
DROP INDEX audit_log_user;
