-- Builds the index without locking the table.
-- migrator:no-transaction
CREATE INDEX CONCURRENTLY users_name ON users (name);
