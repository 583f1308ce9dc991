-- migrator:no-transaction
CREATE INDEX CONCURRENTLY teams_name_idx ON teams (name);
