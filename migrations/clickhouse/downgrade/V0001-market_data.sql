-- Undo V0001: drop tick_data and ohlcv_data.
DROP TABLE IF EXISTS tick_data;
DROP TABLE IF EXISTS ohlcv_data;
