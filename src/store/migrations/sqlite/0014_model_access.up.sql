-- Model visibility (issue 16): a model is public (the default) or private, with an owner and
-- readers; a private model is listed, read, downloaded and predicted with only by its owner, its
-- readers and admins. A description of the model as a whole.
ALTER TABLE models ADD COLUMN visibility TEXT NOT NULL DEFAULT 'public';
-- SQLite cannot drop a column that is a foreign key (the down migration): no REFERENCES here;
-- an owner id of a deleted user owns nothing.
ALTER TABLE models ADD COLUMN owner_id INTEGER;
ALTER TABLE models ADD COLUMN description TEXT NOT NULL DEFAULT '';
CREATE TABLE model_readers (
  model_id INTEGER NOT NULL REFERENCES models (id) ON DELETE CASCADE,
  user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  PRIMARY KEY (model_id, user_id)
);
CREATE INDEX model_readers_user ON model_readers (user_id);
