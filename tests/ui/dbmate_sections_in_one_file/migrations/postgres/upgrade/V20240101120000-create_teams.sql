-- migrate:up
CREATE TABLE teams (id bigint PRIMARY KEY, name text NOT NULL);

-- migrate:down
DROP TABLE teams;
