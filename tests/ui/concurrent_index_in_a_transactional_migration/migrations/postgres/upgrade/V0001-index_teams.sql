CREATE TABLE teams (id bigint PRIMARY KEY, name text NOT NULL);
CREATE INDEX CONCURRENTLY teams_name_idx ON teams (name);
