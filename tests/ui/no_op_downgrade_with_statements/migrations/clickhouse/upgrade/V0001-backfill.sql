INSERT INTO prices SELECT * FROM prices_old;
