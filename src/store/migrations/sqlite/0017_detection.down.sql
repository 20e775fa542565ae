DROP TABLE sensor_baselines;
DROP TABLE baselines;
-- Alarms without a device (a detector's on a sensor without one) go; device_id is NOT NULL again.
DELETE FROM alarms WHERE device_id IS NULL;
CREATE TEMP TABLE alarm_reports_kept AS SELECT * FROM alarm_reports;
CREATE TABLE alarms_old (
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
INSERT INTO alarms_old SELECT id, at, last_at, count, device_id, watchdog_id, sensor, model,
  model_version, severity, severity_rank, source, state, details, ack_by, ack_at, cleared_by,
  cleared_at, open_key FROM alarms ORDER BY id;
DROP INDEX alarms_device;
DROP INDEX alarms_state;
DROP INDEX alarms_sensor;
DROP TABLE alarms;
ALTER TABLE alarms_old RENAME TO alarms;
CREATE INDEX alarms_device ON alarms (device_id, id);
CREATE INDEX alarms_state ON alarms (state, id);
DELETE FROM alarm_reports;
INSERT INTO alarm_reports SELECT * FROM alarm_reports_kept WHERE alarm_id IN (SELECT id FROM alarms);
DROP TABLE alarm_reports_kept;
