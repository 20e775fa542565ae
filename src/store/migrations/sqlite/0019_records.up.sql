-- Sleep records (issue 18): what a record file holds, parsed once by the collector or an upload
-- (records/record_service.h), so serving never opens HDF5 and cluster nodes share them.
-- A file is stored once: sha256 is its content's hash. user_id is the Vigil user its `user`
-- attribute named by username (kept as username when that account goes); device_id the device
-- its `device` attribute named (registered when unknown). Times are Unix seconds, as in the file.
CREATE TABLE records (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  sha256 TEXT NOT NULL,
  user_id INTEGER REFERENCES users (id) ON DELETE SET NULL,
  username TEXT NOT NULL,
  device_id INTEGER REFERENCES devices (id) ON DELETE SET NULL,
  device TEXT NOT NULL,
  dreempy_version TEXT NOT NULL,
  start_time INTEGER NOT NULL,
  stop_time INTEGER NOT NULL,
  sleep_start_time INTEGER NOT NULL,
  sleep_stop_time INTEGER NOT NULL,
  sleep_score REAL NOT NULL,
  number_of_stimulations INTEGER NOT NULL,
  number_of_wake INTEGER NOT NULL,
  attributes TEXT NOT NULL,          -- JSON object: every root attribute of the file
  hypnogram BLOB NOT NULL,           -- a signed byte per 30 s epoch from start_time
  epochs INTEGER NOT NULL,
  artefact_s INTEGER NOT NULL,          -- seconds in each stage (records/hypnogram.h)
  wake_s INTEGER NOT NULL,
  n1_s INTEGER NOT NULL,
  n2_s INTEGER NOT NULL,
  n3_s INTEGER NOT NULL,
  rem_s INTEGER NOT NULL,
  asleep_s INTEGER NOT NULL,
  efficiency REAL,
  sleep_latency_s INTEGER,
  rem_latency_s INTEGER,
  file_name TEXT NOT NULL,
  file_bytes INTEGER NOT NULL,
  source TEXT NOT NULL CHECK (source IN ('dropzone', 'upload')),
  created_at TEXT NOT NULL,
  created_by INTEGER REFERENCES users (id) ON DELETE SET NULL
);
CREATE UNIQUE INDEX records_sha256 ON records (sha256);
CREATE INDEX records_start ON records (start_time, id);
CREATE INDEX records_user ON records (user_id, start_time);
CREATE INDEX records_device ON records (device_id, start_time);

-- A record's signal channels, in the file's order (idx from 0).
CREATE TABLE record_channels (
  record_id INTEGER NOT NULL REFERENCES records (id) ON DELETE CASCADE,
  idx INTEGER NOT NULL,
  modality TEXT NOT NULL,
  name TEXT NOT NULL,
  fs REAL NOT NULL,
  unit TEXT NOT NULL,
  samples INTEGER NOT NULL,
  PRIMARY KEY (record_id, idx)
);

-- A channel's samples in compressed runs (records/signal_codec.h) of up to 16 384 samples;
-- first_sample is the index of its first sample (sample i is at start_time + i / fs).
CREATE TABLE record_chunks (
  record_id INTEGER NOT NULL REFERENCES records (id) ON DELETE CASCADE,
  channel INTEGER NOT NULL,
  first_sample INTEGER NOT NULL,
  samples INTEGER NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY (record_id, channel, first_sample)
);
