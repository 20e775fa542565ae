-- Sleep records (issue 18): what a record file holds, parsed once by the collector or an upload
-- (records/record_service.h), so serving never opens HDF5 and cluster nodes share them.
-- A file is stored once: sha256 is its content's hash. user_id is the Vigil user its `user`
-- attribute named by username (kept as username when that account goes); device_id the device
-- its `device` attribute named (registered when unknown). Times are Unix seconds, as in the file.
CREATE TABLE records (
  id BIGSERIAL PRIMARY KEY,
  sha256 TEXT NOT NULL,
  user_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
  username TEXT NOT NULL,
  device_id BIGINT REFERENCES devices (id) ON DELETE SET NULL,
  device TEXT NOT NULL,
  dreempy_version TEXT NOT NULL,
  start_time BIGINT NOT NULL,
  stop_time BIGINT NOT NULL,
  sleep_start_time BIGINT NOT NULL,
  sleep_stop_time BIGINT NOT NULL,
  sleep_score DOUBLE PRECISION NOT NULL,
  number_of_stimulations BIGINT NOT NULL,
  number_of_wake BIGINT NOT NULL,
  attributes TEXT NOT NULL,          -- JSON object: every root attribute of the file
  hypnogram BYTEA NOT NULL,           -- a signed byte per 30 s epoch from start_time
  epochs INTEGER NOT NULL,
  artefact_s BIGINT NOT NULL,          -- seconds in each stage (records/hypnogram.h)
  wake_s BIGINT NOT NULL,
  n1_s BIGINT NOT NULL,
  n2_s BIGINT NOT NULL,
  n3_s BIGINT NOT NULL,
  rem_s BIGINT NOT NULL,
  asleep_s BIGINT NOT NULL,
  efficiency DOUBLE PRECISION,
  sleep_latency_s BIGINT,
  rem_latency_s BIGINT,
  file_name TEXT NOT NULL,
  file_bytes BIGINT NOT NULL,
  source TEXT NOT NULL CHECK (source IN ('dropzone', 'upload')),
  created_at TEXT NOT NULL,
  created_by BIGINT REFERENCES users (id) ON DELETE SET NULL
);
CREATE UNIQUE INDEX records_sha256 ON records (sha256);
CREATE INDEX records_start ON records (start_time, id);
CREATE INDEX records_user ON records (user_id, start_time);
CREATE INDEX records_device ON records (device_id, start_time);

-- A record's signal channels, in the file's order (idx from 0).
CREATE TABLE record_channels (
  record_id BIGINT NOT NULL REFERENCES records (id) ON DELETE CASCADE,
  idx INTEGER NOT NULL,
  modality TEXT NOT NULL,
  name TEXT NOT NULL,
  fs DOUBLE PRECISION NOT NULL,
  unit TEXT NOT NULL,
  samples BIGINT NOT NULL,
  PRIMARY KEY (record_id, idx)
);

-- A channel's samples in compressed runs (records/signal_codec.h) of up to 16 384 samples;
-- first_sample is the index of its first sample (sample i is at start_time + i / fs).
CREATE TABLE record_chunks (
  record_id BIGINT NOT NULL REFERENCES records (id) ON DELETE CASCADE,
  channel INTEGER NOT NULL,
  first_sample BIGINT NOT NULL,
  samples INTEGER NOT NULL,
  data BYTEA NOT NULL,
  PRIMARY KEY (record_id, channel, first_sample)
);
