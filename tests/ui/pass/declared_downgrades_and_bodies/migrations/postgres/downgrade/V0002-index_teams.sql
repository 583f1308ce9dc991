-- migrator:no-transaction
DROP INDEX CONCURRENTLY teams_name_idx;
