-- Telemetry (issue 17): sensors and their series. A series is stored as compressed chunks of
-- points (telemetry/series_codec.h), never a row per point: an ingest batch adds one chunk per
-- sensor it carries, and a compaction later merges a sensor's small chunks into big ones (up to
-- 4 096 points). Chunks of one sensor may overlap in time (points sent out of order, or again):
-- a read merges them, and of two points at one time the chunk written later (larger id) wins.
-- series_chunks_range finds the chunks that reach into a time range.
CREATE TABLE sensors (
  id BIGSERIAL PRIMARY KEY,
  name TEXT NOT NULL,
  device_id BIGINT REFERENCES devices (id) ON DELETE SET NULL,
  unit TEXT NOT NULL DEFAULT '',
  x DOUBLE PRECISION,
  y DOUBLE PRECISION,
  z DOUBLE PRECISION,
  detector TEXT NOT NULL,            -- JSON: window, exclusion, warn_percent, ...
  pinned INTEGER NOT NULL DEFAULT 0,
  retention_days INTEGER NOT NULL DEFAULT 0,  -- 0: kept for ever
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX sensors_name_lower ON sensors (lower(name));
CREATE INDEX sensors_device ON sensors (device_id);

CREATE TABLE series_chunks (
  id BIGSERIAL PRIMARY KEY,
  sensor_id BIGINT NOT NULL REFERENCES sensors (id) ON DELETE CASCADE,
  start_ms BIGINT NOT NULL,            -- its first and last point's time, epoch milliseconds
  end_ms BIGINT NOT NULL,
  points INTEGER NOT NULL,
  data BYTEA NOT NULL
);
CREATE INDEX series_chunks_range ON series_chunks (sensor_id, end_ms);
