-- Undo V0005: drop the ohlcv_daily_mv materialized view (and with it its inner table).
DROP TABLE IF EXISTS ohlcv_daily_mv;
