-- A rollout's devices are read in their order on every step (issue 14, S8): without this the
-- store sorted every one of them each time.
CREATE INDEX rollout_devices_position ON rollout_devices (rollout_id, position);
