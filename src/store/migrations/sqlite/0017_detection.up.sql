-- Live detection and baselines (issue 17).
--
-- A detector's alarm belongs to a sensor, and a sensor need not be on a device: alarms.device_id
-- may now be NULL. SQLite cannot drop a NOT NULL, so the table is rebuilt with its ids; the
-- reports that point at alarms are kept aside meanwhile (dropping alarms would cascade to them).
CREATE TEMP TABLE alarm_reports_kept AS SELECT * FROM alarm_reports;
CREATE TABLE alarms_new (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at TEXT NOT NULL,
  last_at TEXT NOT NULL,
  count INTEGER NOT NULL DEFAULT 1,
  device_id INTEGER REFERENCES devices (id) ON DELETE CASCADE,
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
INSERT INTO alarms_new SELECT id, at, last_at, count, device_id, watchdog_id, sensor, model,
  model_version, severity, severity_rank, source, state, details, ack_by, ack_at, cleared_by,
  cleared_at, open_key FROM alarms ORDER BY id;
DROP INDEX alarms_device;
DROP INDEX alarms_state;
DROP TABLE alarms;
ALTER TABLE alarms_new RENAME TO alarms;
CREATE INDEX alarms_device ON alarms (device_id, id);
CREATE INDEX alarms_state ON alarms (state, id);
CREATE INDEX alarms_sensor ON alarms (lower(sensor), id);
DELETE FROM alarm_reports;
INSERT INTO alarm_reports SELECT * FROM alarm_reports_kept;
DROP TABLE alarm_reports_kept;

-- The baseline library: named normal series, uploaded or cut from a sensor's history. data holds
-- the values (telemetry/series_codec.h, a point per value at times 0, 1, 2, …).
CREATE TABLE baselines (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL,
  source TEXT NOT NULL CHECK (source IN ('upload', 'sensor', 'seed')),
  sensor TEXT,                       -- cut from this sensor (its name then)
  from_ms INTEGER,
  to_ms INTEGER,
  removed INTEGER NOT NULL DEFAULT 0,  -- windows cut out as discords when it was cleaned
  points INTEGER NOT NULL,
  mean REAL NOT NULL,
  std REAL NOT NULL,
  data BLOB NOT NULL,
  created_at TEXT NOT NULL,
  created_by INTEGER REFERENCES users (id) ON DELETE SET NULL
);
CREATE UNIQUE INDEX baselines_name_lower ON baselines (lower(name));

-- A sensor's baselines over time; its newest row is the one it is judged against. A row keeps
-- its own copy of the values (an augmentation adds the sensor's cleaned history to them).
CREATE TABLE sensor_baselines (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  sensor_id INTEGER NOT NULL REFERENCES sensors (id) ON DELETE CASCADE,
  at TEXT NOT NULL,
  action TEXT NOT NULL CHECK (action IN ('set', 'select', 'augment')),
  baseline_id INTEGER REFERENCES baselines (id) ON DELETE SET NULL,
  baseline TEXT,                     -- the library entry's name then
  by_user INTEGER REFERENCES users (id) ON DELETE SET NULL,  -- NULL: the schedule
  points INTEGER NOT NULL,
  mean REAL NOT NULL,
  std REAL NOT NULL,
  data BLOB NOT NULL,
  details TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX sensor_baselines_sensor ON sensor_baselines (sensor_id, id);
