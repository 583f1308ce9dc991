CREATE TABLE accounts (id bigint, email text, display_name text);
