CREATE TABLE users (name text);
INSERT INTO users (name) VALUES ('alice);
