DROP INDEX tasks_undispatched;
ALTER TABLE tasks DROP COLUMN dispatched;
