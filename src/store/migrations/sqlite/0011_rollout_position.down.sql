DROP INDEX rollout_devices_position;
