-- Accounts and server-wide settings. Timestamps are RFC 3339 UTC text with milliseconds
-- ("2024-05-01T12:00:00.123Z") in both dialects.
CREATE TABLE users (
  id BIGSERIAL PRIMARY KEY,
  email TEXT NOT NULL,
  name TEXT NOT NULL DEFAULT '',
  password_hash TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('admin', 'user', 'watchdog')),
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  disabled INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX users_email_lower ON users (lower(email));

CREATE TABLE settings (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
