-- Indicator values computed from ohlcv_data, and the trading signals strategies emit.
-- indicators is long-format: one row per output of an indicator instance
-- (params_key identifies the parameter set, e.g. period=14,source=close).
CREATE TABLE IF NOT EXISTS indicators
(
    exchange     String,
    symbol       String,
    timeframe    Enum8('1m' = 1, '5m' = 2, '15m' = 3, '1h' = 4, '4h' = 5, '1d' = 6),
    indicator    String,
    params_key   String,
    output       String,
    open_time    DateTime,
    value        Float64,
    computed_at  DateTime DEFAULT now()
)
ENGINE = ReplacingMergeTree(computed_at)
PARTITION BY toYYYYMM(open_time)
ORDER BY (exchange, symbol, timeframe, indicator, params_key, output, open_time);

-- Signals from backtests, paper and live trading. run_id links to strategy_runs in PostgreSQL.
CREATE TABLE IF NOT EXISTS signals
(
    signal_id    UUID,
    strategy_id  UUID,
    run_id       UUID,
    mode         Enum8('backtest' = 1, 'paper' = 2, 'live' = 3),
    signal_time  DateTime,
    exchange     String,
    symbol       String,
    timeframe    Enum8('1m' = 1, '5m' = 2, '15m' = 3, '1h' = 4, '4h' = 5, '1d' = 6),
    action       Enum8('enter_long' = 1, 'exit_long' = 2, 'enter_short' = 3, 'exit_short' = 4),
    price        Float64,
    strength     Float64 DEFAULT 1,
    stop_loss    Nullable(Float64),
    take_profit  Nullable(Float64),
    reason       String DEFAULT '',
    metadata     String DEFAULT '{}',
    created_at   DateTime DEFAULT now()
)
ENGINE = MergeTree()
PARTITION BY toYYYYMM(signal_time)
ORDER BY (strategy_id, run_id, signal_time, symbol);
