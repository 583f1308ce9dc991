DROP TABLE ticks;
