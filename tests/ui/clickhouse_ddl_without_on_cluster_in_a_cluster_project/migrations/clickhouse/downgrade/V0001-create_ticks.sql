DROP TABLE ticks ON CLUSTER '{cluster}';
