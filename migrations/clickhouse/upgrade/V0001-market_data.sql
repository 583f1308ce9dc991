-- Market data: OHLCV candles for every timeframe (ohlcv_data) and raw trades
-- from the exchange feeds (tick_data). Monthly partitions for candles, daily for ticks.
-- ohlcv_data keeps the latest version of each candle (ReplacingMergeTree on updated_at)
-- because the feed re-sends the forming candle until it closes (is_closed = 1).
CREATE TABLE IF NOT EXISTS ohlcv_data
(
    exchange      String,
    symbol        String,
    timeframe     Enum8('1m' = 1, '5m' = 2, '15m' = 3, '1h' = 4, '4h' = 5, '1d' = 6),
    open_time     DateTime,
    open          Float64,
    high          Float64,
    low           Float64,
    close         Float64,
    volume        Float64,
    quote_volume  Float64 DEFAULT 0,
    trades_count  UInt32 DEFAULT 0,
    is_closed     UInt8 DEFAULT 1,
    source        String DEFAULT '',
    updated_at    DateTime DEFAULT now()
)
ENGINE = ReplacingMergeTree(updated_at)
PARTITION BY toYYYYMM(open_time)
ORDER BY (exchange, symbol, timeframe, open_time);

-- One row per exchange trade. trade_time_ms keeps the millisecond precision
-- that DateTime cannot hold.
CREATE TABLE IF NOT EXISTS tick_data
(
    exchange       String,
    symbol         String,
    trade_time     DateTime,
    trade_time_ms  UInt64,
    trade_id       String,
    price          Float64,
    quantity       Float64,
    side           Enum8('unknown' = 0, 'buy' = 1, 'sell' = 2),
    best_bid       Nullable(Float64),
    best_ask       Nullable(Float64),
    received_at    DateTime DEFAULT now()
)
ENGINE = MergeTree()
PARTITION BY toYYYYMMDD(trade_time)
ORDER BY (exchange, symbol, trade_time, trade_time_ms);
