CREATE TABLE users (
    id bigint PRIMARY KEY,
    name text NOT NULL
);
CREATE INDEX users_name ON users (name);
