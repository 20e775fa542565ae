-- Emails are unique by a key made in C++ (core/unicode.h caseless_key: NFC, Unicode case
-- folding, NFC) instead of by lower(email); the email itself stays as given. SQL cannot compute
-- the key: this migration's C++ step (store/migration_steps.cpp) fills it for existing accounts,
-- in the same transaction, after this script. NOT VALID: existing rows are not checked (the step
-- fills them), every row written from now on must have a key
-- (docs/decisions/0009-unicode-emails.md).
ALTER TABLE users ADD COLUMN email_key TEXT;
ALTER TABLE users ADD CONSTRAINT users_email_key_set CHECK (email_key IS NOT NULL) NOT VALID;
CREATE UNIQUE INDEX users_email_key ON users (email_key);
DROP INDEX users_email_lower;
