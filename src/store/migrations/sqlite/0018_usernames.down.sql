DROP INDEX users_username_lower;
ALTER TABLE users DROP COLUMN username;
