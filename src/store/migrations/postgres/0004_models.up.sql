-- The model registry: models, immutable numbered versions (never reused: models.next_version
-- only grows), aliases with their history, and artifacts stored once per sha256, in 1 MiB
-- chunks so cluster nodes share them and a range can be read without the whole file.
CREATE TABLE models (
  id BIGSERIAL PRIMARY KEY,
  name TEXT NOT NULL,
  kind TEXT NOT NULL,
  next_version INTEGER NOT NULL DEFAULT 1,
  created_at TEXT NOT NULL,
  created_by BIGINT REFERENCES users (id) ON DELETE SET NULL
);
CREATE UNIQUE INDEX models_name_lower ON models (lower(name));

CREATE TABLE artifacts (
  sha256 TEXT PRIMARY KEY,
  size BIGINT NOT NULL,
  chunks INTEGER NOT NULL,
  created_at TEXT NOT NULL
);
CREATE TABLE artifact_chunks (
  sha256 TEXT NOT NULL REFERENCES artifacts (sha256) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  bytes BYTEA NOT NULL,
  PRIMARY KEY (sha256, seq)
);

CREATE TABLE model_versions (
  model_id BIGINT NOT NULL REFERENCES models (id) ON DELETE CASCADE,
  version INTEGER NOT NULL,
  sha256 TEXT NOT NULL REFERENCES artifacts (sha256),
  size BIGINT NOT NULL,
  metadata TEXT NOT NULL,
  created_at TEXT NOT NULL,
  created_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
  PRIMARY KEY (model_id, version)
);
CREATE INDEX model_versions_sha256 ON model_versions (sha256);

CREATE TABLE model_aliases (
  model_id BIGINT NOT NULL REFERENCES models (id) ON DELETE CASCADE,
  alias TEXT NOT NULL,
  version INTEGER NOT NULL,
  updated_at TEXT NOT NULL,
  updated_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
  PRIMARY KEY (model_id, alias)
);

CREATE TABLE model_alias_history (
  id BIGSERIAL PRIMARY KEY,
  model_id BIGINT NOT NULL REFERENCES models (id) ON DELETE CASCADE,
  alias TEXT NOT NULL,
  from_version INTEGER,
  to_version INTEGER NOT NULL,
  at TEXT NOT NULL,
  by_user BIGINT REFERENCES users (id) ON DELETE SET NULL
);
CREATE INDEX model_alias_history_model ON model_alias_history (model_id, id);
