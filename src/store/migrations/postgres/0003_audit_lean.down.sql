CREATE INDEX audit_log_user ON audit_log (user_id, id);
