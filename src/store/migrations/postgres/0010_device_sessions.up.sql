-- Device sessions (issue 14): a device or watchdog is online while its lease runs. The node
-- holding its WebSocket session sets online_until a little ahead of now and renews it while
-- the session lives, and clears it when the session ends; a node that dies leaves leases that
-- simply run out, so every node of a cluster reads the same answer from the store.
ALTER TABLE devices ADD COLUMN online_until TEXT;
ALTER TABLE watchdogs ADD COLUMN online_until TEXT;
-- How long the agent keeps a new model without failing before it reports confirmed.
ALTER TABLE commands ADD COLUMN confirm_s INTEGER NOT NULL DEFAULT 0;
-- The newest unfinished command of a device is what a hello looks for.
CREATE INDEX commands_device_state ON commands (device_id, state, id);
