-- Tasks (issue 16): asynchronous predictions. The row is the truth about a task whatever the
-- queue (embedded: this table is the queue; RabbitMQ: messages carry the id). A worker claims a
-- task with a lease (lease_owner, lease_until); a claim whose lease ran out may be taken over,
-- and finishing is guarded by status = 'running', so a task is finished once however often it
-- was delivered. Its cost is held in credit_holds under its id until then.
CREATE TABLE tasks (
  id BIGSERIAL PRIMARY KEY,
  user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  model TEXT NOT NULL,
  version INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'rejected', 'failed',
                                         'cancelled')),
  input TEXT NOT NULL,
  row_count INTEGER NOT NULL,
  cost BIGINT NOT NULL DEFAULT 0,
  idempotency_key TEXT,
  request_hash TEXT,
  created_at TEXT NOT NULL,
  started_at TEXT,
  finished_at TEXT,
  result TEXT,
  error TEXT,
  attempts INTEGER NOT NULL DEFAULT 0,
  lease_owner TEXT,
  lease_until TEXT
);
CREATE UNIQUE INDEX tasks_idempotency ON tasks (user_id, idempotency_key)
  WHERE idempotency_key IS NOT NULL;
CREATE INDEX tasks_queue ON tasks (status, id);
CREATE INDEX tasks_user ON tasks (user_id, id);
