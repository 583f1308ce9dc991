UPDATE accounts SET region = 'eu' WHERE region IS NULL;
