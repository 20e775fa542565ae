DROP TABLE model_readers;
ALTER TABLE models DROP COLUMN description;
ALTER TABLE models DROP COLUMN owner_id;
ALTER TABLE models DROP COLUMN visibility;
