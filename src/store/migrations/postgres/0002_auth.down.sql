DROP INDEX audit_log_user;
DROP INDEX audit_log_at;
DROP TABLE audit_log;
DROP INDEX tokens_user;
DROP TABLE tokens;
