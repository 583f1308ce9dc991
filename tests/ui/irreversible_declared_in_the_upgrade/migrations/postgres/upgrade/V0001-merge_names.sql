-- migrator:irreversible the two columns are merged
UPDATE accounts SET name = first_name || ' ' || last_name;
