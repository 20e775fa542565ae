DROP TABLE settings;
DROP INDEX users_email_lower;
DROP TABLE users;
