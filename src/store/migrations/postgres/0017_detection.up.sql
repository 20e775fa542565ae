-- Live detection and baselines (issue 17).
--
-- A detector's alarm belongs to a sensor, and a sensor need not be on a device: alarms.device_id
-- may now be NULL.
ALTER TABLE alarms ALTER COLUMN device_id DROP NOT NULL;
CREATE INDEX alarms_sensor ON alarms (lower(sensor), id);

-- The baseline library: named normal series, uploaded or cut from a sensor's history. data holds
-- the values (telemetry/series_codec.h, a point per value at times 0, 1, 2, …).
CREATE TABLE baselines (
  id BIGSERIAL PRIMARY KEY,
  name TEXT NOT NULL,
  source TEXT NOT NULL CHECK (source IN ('upload', 'sensor', 'seed')),
  sensor TEXT,                       -- cut from this sensor (its name then)
  from_ms BIGINT,
  to_ms BIGINT,
  removed INTEGER NOT NULL DEFAULT 0,  -- windows cut out as discords when it was cleaned
  points INTEGER NOT NULL,
  mean DOUBLE PRECISION NOT NULL,
  std DOUBLE PRECISION NOT NULL,
  data BYTEA NOT NULL,
  created_at TEXT NOT NULL,
  created_by BIGINT REFERENCES users (id) ON DELETE SET NULL
);
CREATE UNIQUE INDEX baselines_name_lower ON baselines (lower(name));

-- A sensor's baselines over time; its newest row is the one it is judged against. A row keeps
-- its own copy of the values (an augmentation adds the sensor's cleaned history to them).
CREATE TABLE sensor_baselines (
  id BIGSERIAL PRIMARY KEY,
  sensor_id BIGINT NOT NULL REFERENCES sensors (id) ON DELETE CASCADE,
  at TEXT NOT NULL,
  action TEXT NOT NULL CHECK (action IN ('set', 'select', 'augment')),
  baseline_id BIGINT REFERENCES baselines (id) ON DELETE SET NULL,
  baseline TEXT,                     -- the library entry's name then
  by_user BIGINT REFERENCES users (id) ON DELETE SET NULL,  -- NULL: the schedule
  points INTEGER NOT NULL,
  mean DOUBLE PRECISION NOT NULL,
  std DOUBLE PRECISION NOT NULL,
  data BYTEA NOT NULL,
  details TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX sensor_baselines_sensor ON sensor_baselines (sensor_id, id);
