CREATE TABLE users (
    name text DEFAULT 'café'
);
