-- Emails are unique by a key made in C++ (core/unicode.h caseless_key: NFC, Unicode case
-- folding, NFC) instead of by lower(email), which folds ASCII only; the email itself stays as
-- given. SQL cannot compute the key: this migration's C++ step (store/migration_steps.cpp) fills
-- it for existing accounts, in the same transaction, after this script. The column is nullable
-- because SQLite cannot add a NOT NULL column without a default; every insert sets it
-- (docs/decisions/0009-unicode-emails.md).
ALTER TABLE users ADD COLUMN email_key TEXT;
CREATE UNIQUE INDEX users_email_key ON users (email_key);
DROP INDEX users_email_lower;
