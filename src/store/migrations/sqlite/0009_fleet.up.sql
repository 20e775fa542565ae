-- The fleet (issue 14): devices and their labels, the watchdogs on them (each signs in as a
-- user of role watchdog), single-use enrollment codes, the commands devices are sent, rollouts
-- with their per-device states and history, and alarms. Models are named (name + version), not
-- referenced by id: a device may report a model this node has never stored, and "blank" is one.
-- Timestamps are RFC 3339 UTC text, as elsewhere.
CREATE TABLE devices (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL,
  type TEXT NOT NULL DEFAULT 'unknown',
  model TEXT,                 -- desired: what it should run
  model_version INTEGER,
  running_model TEXT,         -- what its watchdog last reported
  running_version INTEGER,
  previous_model TEXT,        -- what it ran before the desired model was last changed
  previous_version INTEGER,
  last_seen TEXT,
  created_at TEXT NOT NULL,
  created_by INTEGER REFERENCES users (id) ON DELETE SET NULL
);
CREATE UNIQUE INDEX devices_name_lower ON devices (lower(name));
CREATE INDEX devices_model ON devices (lower(model), model_version);

CREATE TABLE device_labels (
  device_id INTEGER NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (device_id, key)
);
CREATE INDEX device_labels_pair ON device_labels (key, value);

CREATE TABLE watchdogs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL,
  device_id INTEGER NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
  user_id INTEGER NOT NULL UNIQUE REFERENCES users (id) ON DELETE CASCADE,
  agent TEXT NOT NULL DEFAULT '',
  running_model TEXT,
  running_version INTEGER,
  last_seen TEXT,
  created_at TEXT NOT NULL
);
CREATE UNIQUE INDEX watchdogs_name_lower ON watchdogs (lower(name));
CREATE INDEX watchdogs_device ON watchdogs (device_id);

CREATE TABLE enrollments (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  code_hash TEXT NOT NULL UNIQUE,
  device_id INTEGER NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
  expires_at TEXT NOT NULL,
  used_at TEXT,
  watchdog_id INTEGER REFERENCES watchdogs (id) ON DELETE SET NULL,
  created_at TEXT NOT NULL,
  created_by INTEGER REFERENCES users (id) ON DELETE SET NULL
);

CREATE TABLE rollouts (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  spec TEXT NOT NULL,         -- the request as accepted, a JSON object
  action TEXT NOT NULL CHECK (action IN ('update', 'rollback', 'blank')),
  target_model TEXT,
  target_version INTEGER,
  state TEXT NOT NULL CHECK (state IN ('running', 'paused', 'halted', 'completed', 'aborted')),
  reason TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL,
  created_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX rollouts_state ON rollouts (state, id);

CREATE TABLE commands (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  device_id INTEGER NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
  rollout_id INTEGER REFERENCES rollouts (id) ON DELETE SET NULL,
  action TEXT NOT NULL CHECK (action IN ('update', 'rollback', 'blank')),
  model TEXT NOT NULL,
  model_version INTEGER NOT NULL,
  -- open until the device answers with a final state; superseded by a newer command
  state TEXT NOT NULL CHECK (state IN ('open', 'downloading', 'applied', 'confirmed', 'failed',
                                       'superseded')),
  error TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX commands_device ON commands (device_id, id);

CREATE TABLE rollout_devices (
  rollout_id INTEGER NOT NULL REFERENCES rollouts (id) ON DELETE CASCADE,
  device_id INTEGER NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
  position INTEGER NOT NULL,  -- order in the rollout
  wave INTEGER NOT NULL,      -- 0 the canary, then batches
  state TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'downloading', 'applied', 'confirmed',
                                       'failed', 'timed_out', 'skipped')),
  target_model TEXT,
  target_version INTEGER,
  from_model TEXT,
  from_version INTEGER,
  command_id INTEGER REFERENCES commands (id) ON DELETE SET NULL,
  sent_at TEXT,
  switched_at TEXT,
  reason TEXT NOT NULL DEFAULT '',
  updated_at TEXT NOT NULL,
  PRIMARY KEY (rollout_id, device_id)
);
CREATE INDEX rollout_devices_state ON rollout_devices (rollout_id, state, position);
CREATE INDEX rollout_devices_device ON rollout_devices (device_id);

CREATE TABLE rollout_history (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  rollout_id INTEGER NOT NULL REFERENCES rollouts (id) ON DELETE CASCADE,
  at TEXT NOT NULL,
  by_user INTEGER REFERENCES users (id) ON DELETE SET NULL,  -- NULL: the server decided
  from_state TEXT,
  to_state TEXT NOT NULL,
  reason TEXT NOT NULL DEFAULT ''
);
CREATE INDEX rollout_history_rollout ON rollout_history (rollout_id, id);

-- One open alarm per key (device, model version, source, sensor): open_key is set while the
-- alarm is active or acknowledged and NULL once cleared, so the unique index lets concurrent
-- reports on any node meet in one row (INSERT … ON CONFLICT (open_key) DO UPDATE).
CREATE TABLE alarms (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at TEXT NOT NULL,
  last_at TEXT NOT NULL,
  count INTEGER NOT NULL DEFAULT 1,
  device_id INTEGER NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
  watchdog_id INTEGER REFERENCES watchdogs (id) ON DELETE SET NULL,
  sensor TEXT,
  model TEXT,
  model_version INTEGER,
  severity TEXT NOT NULL CHECK (severity IN ('warning', 'minor', 'major', 'critical')),
  severity_rank INTEGER NOT NULL,
  source TEXT NOT NULL CHECK (source IN ('watchdog', 'detector')),
  state TEXT NOT NULL CHECK (state IN ('active', 'acknowledged', 'cleared')),
  details TEXT NOT NULL DEFAULT '{}',
  ack_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
  ack_at TEXT,
  cleared_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
  cleared_at TEXT,
  open_key TEXT UNIQUE
);
CREATE INDEX alarms_device ON alarms (device_id, id);
CREATE INDEX alarms_state ON alarms (state, id);

-- An alarm report a watchdog resends with the same client id is stored once.
CREATE TABLE alarm_reports (
  watchdog_id INTEGER NOT NULL REFERENCES watchdogs (id) ON DELETE CASCADE,
  client_id TEXT NOT NULL,
  alarm_id INTEGER NOT NULL REFERENCES alarms (id) ON DELETE CASCADE,
  at TEXT NOT NULL,
  PRIMARY KEY (watchdog_id, client_id)
);
