DROP INDEX tasks_finished;
DROP INDEX tasks_undispatched;
ALTER TABLE tasks DROP COLUMN dispatched;
