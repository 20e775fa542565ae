DROP INDEX commands_device_state;
ALTER TABLE commands DROP COLUMN confirm_s;
ALTER TABLE watchdogs DROP COLUMN online_until;
ALTER TABLE devices DROP COLUMN online_until;
