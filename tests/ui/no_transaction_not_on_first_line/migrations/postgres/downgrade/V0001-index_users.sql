-- migrator:no-transaction
DROP INDEX CONCURRENTLY users_name;
