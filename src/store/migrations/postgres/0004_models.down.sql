DROP TABLE model_alias_history;
DROP TABLE model_aliases;
DROP TABLE model_versions;
DROP TABLE artifact_chunks;
DROP TABLE artifacts;
DROP TABLE models;
