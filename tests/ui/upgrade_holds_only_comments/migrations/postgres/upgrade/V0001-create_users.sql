-- TODO: create the users table
/* CREATE TABLE users (id bigint); */
