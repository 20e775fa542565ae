DROP TABLE sensor_baselines;
DROP TABLE baselines;
DROP INDEX alarms_sensor;
-- Alarms without a device (a detector's on a sensor without one) go; device_id is NOT NULL again.
DELETE FROM alarms WHERE device_id IS NULL;
ALTER TABLE alarms ALTER COLUMN device_id SET NOT NULL;
