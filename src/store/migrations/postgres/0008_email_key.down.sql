DROP INDEX users_email_key;
ALTER TABLE users DROP COLUMN email_key;
CREATE UNIQUE INDEX users_email_lower ON users (lower(email));
