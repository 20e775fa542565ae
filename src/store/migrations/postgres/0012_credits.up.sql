-- Credits (issue 16): one account per user, in integer milli-credits. `balance` is what the user
-- has; `held` is the part set aside for queued and running tasks (charged or released when they
-- end), so what a new charge or hold may take is balance - held, and the CHECKs make sure neither
-- goes negative nor held above balance whatever the concurrency. Every change of a balance has a
-- ledger entry: the sum of a user's entries is their balance. A hold is keyed by its task, so it
-- is settled (charged or released) exactly once.
CREATE TABLE credit_accounts (
  user_id BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  balance BIGINT NOT NULL DEFAULT 0 CHECK (balance >= 0),
  held BIGINT NOT NULL DEFAULT 0 CHECK (held >= 0 AND held <= balance)
);

CREATE TABLE credit_ledger (
  id BIGSERIAL PRIMARY KEY,
  user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  at TEXT NOT NULL,
  amount BIGINT NOT NULL,
  balance_after BIGINT NOT NULL,
  reason TEXT NOT NULL,
  task_id BIGINT,
  by_user BIGINT REFERENCES users (id) ON DELETE SET NULL
);
CREATE INDEX credit_ledger_user ON credit_ledger (user_id, id);

CREATE TABLE credit_holds (
  task_id BIGINT PRIMARY KEY,
  user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  amount BIGINT NOT NULL CHECK (amount >= 0),
  state TEXT NOT NULL CHECK (state IN ('held', 'charged', 'released')),
  at TEXT NOT NULL
);
