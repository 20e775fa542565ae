-- Tasks on RabbitMQ (issue 16): a task is stored first, then its id is published. dispatched = 1
-- once the broker confirmed that message; a queued task still at 0 a while after it was made
-- (its node died between the two, or the broker was away) is published again by a sweep. The
-- embedded queue reads the table itself and ignores the column. Serving nodes look for tasks that
-- other processes finished (events, waiting requests) by finished_at. The queue's index keeps only
-- the tasks still to do (the index of every status was rewritten at each change of a task).
ALTER TABLE tasks ADD COLUMN dispatched INTEGER NOT NULL DEFAULT 0;
CREATE INDEX tasks_undispatched ON tasks (id) WHERE status = 'queued' AND dispatched = 0;
CREATE INDEX tasks_finished ON tasks (finished_at) WHERE finished_at IS NOT NULL;
DROP INDEX tasks_queue;
CREATE INDEX tasks_active ON tasks (id) WHERE status IN ('queued', 'running');
