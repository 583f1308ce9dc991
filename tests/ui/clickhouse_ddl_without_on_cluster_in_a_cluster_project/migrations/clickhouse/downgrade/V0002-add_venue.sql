ALTER TABLE ticks ON CLUSTER '{cluster}' DROP COLUMN venue;
