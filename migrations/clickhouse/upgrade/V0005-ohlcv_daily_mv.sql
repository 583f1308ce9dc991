-- Daily candles: a materialized view folding closed 1-minute candles of ohlcv_data
-- into one candle per exchange, symbol and day. It stores aggregate states, so read it
-- with the -Merge combinators, e.g. argMinMerge(open), maxMerge(high), sumMerge(volume),
-- grouped by exchange, symbol, day. Only rows inserted after it exists are folded in.
CREATE MATERIALIZED VIEW IF NOT EXISTS ohlcv_daily_mv
ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMM(day)
ORDER BY (exchange, symbol, day)
AS SELECT
    exchange,
    symbol,
    toDate(open_time) AS day,
    argMinState(open, open_time) AS open,
    maxState(high) AS high,
    minState(low) AS low,
    argMaxState(close, open_time) AS close,
    sumState(volume) AS volume,
    sumState(quote_volume) AS quote_volume,
    sumState(toUInt64(trades_count)) AS trades_count,
    countState() AS candles
FROM ohlcv_data
WHERE timeframe = '1m' AND is_closed = 1
GROUP BY exchange, symbol, day;
