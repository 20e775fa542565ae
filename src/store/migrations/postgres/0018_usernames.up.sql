-- An optional unique name of a user (issue 18): a sleep-record file's `user` attribute names a
-- user by it. ASCII letters, digits, '.', '_' and '-' (auth/user_store.h), unique ignoring case.
ALTER TABLE users ADD COLUMN username TEXT;
CREATE UNIQUE INDEX users_username_lower ON users (lower(username));
