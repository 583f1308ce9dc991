-- The new column, forgotten on the other replicas.
ALTER TABLE ticks ADD COLUMN venue String;
