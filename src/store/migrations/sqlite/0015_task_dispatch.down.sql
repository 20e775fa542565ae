DROP INDEX tasks_active;
CREATE INDEX tasks_queue ON tasks (status, id);
DROP INDEX tasks_finished;
DROP INDEX tasks_undispatched;
ALTER TABLE tasks DROP COLUMN dispatched;
