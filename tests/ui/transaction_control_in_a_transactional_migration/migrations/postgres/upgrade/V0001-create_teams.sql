BEGIN;
CREATE TABLE teams (id bigint PRIMARY KEY, name text NOT NULL);
COMMIT;
