-- Trading history: trades (one row per position, re-inserted as it changes),
-- strategy_metrics (additive daily counters per strategy run) and portfolio_snapshots
-- (periodic account equity). trades and portfolio_snapshots keep the latest row
-- per key (ReplacingMergeTree), strategy_metrics sums its counters (SummingMergeTree).
CREATE TABLE IF NOT EXISTS trades
(
    trade_id       UUID,
    strategy_id    UUID,
    run_id         UUID,
    account_id     UUID,
    mode           Enum8('backtest' = 1, 'paper' = 2, 'live' = 3),
    exchange       String,
    symbol         String,
    side           Enum8('long' = 1, 'short' = 2),
    status         Enum8('open' = 1, 'closed' = 2, 'cancelled' = 3, 'liquidated' = 4),
    entry_time     DateTime,
    entry_price    Float64,
    exit_time      Nullable(DateTime),
    exit_price     Nullable(Float64),
    quantity       Float64,
    leverage       Float64 DEFAULT 1,
    commission     Float64 DEFAULT 0,
    slippage       Float64 DEFAULT 0,
    pnl            Float64 DEFAULT 0,
    pnl_pct        Float64 DEFAULT 0,
    entry_order_id String DEFAULT '',
    exit_order_id  String DEFAULT '',
    exit_reason    String DEFAULT '',
    tags           Array(String),
    updated_at     DateTime DEFAULT now()
)
ENGINE = ReplacingMergeTree(updated_at)
PARTITION BY toYYYYMM(entry_time)
ORDER BY (strategy_id, run_id, entry_time, trade_id);

CREATE TABLE IF NOT EXISTS strategy_metrics
(
    metric_date     Date,
    strategy_id     UUID,
    run_id          UUID,
    mode            Enum8('backtest' = 1, 'paper' = 2, 'live' = 3),
    symbol          String,
    trades_count    UInt64,
    winning_trades  UInt64,
    losing_trades   UInt64,
    gross_profit    Float64,
    gross_loss      Float64,
    net_pnl         Float64,
    commission      Float64,
    traded_volume   Float64,
    signals_count   UInt64
)
ENGINE = SummingMergeTree((trades_count, winning_trades, losing_trades, gross_profit, gross_loss, net_pnl, commission, traded_volume, signals_count))
PARTITION BY toYYYYMM(metric_date)
ORDER BY (strategy_id, run_id, mode, symbol, metric_date);

CREATE TABLE IF NOT EXISTS portfolio_snapshots
(
    account_id         UUID,
    snapshot_time      DateTime,
    mode               Enum8('backtest' = 1, 'paper' = 2, 'live' = 3),
    base_currency      String,
    total_equity       Float64,
    cash_balance       Float64,
    positions_value    Float64,
    unrealized_pnl     Float64,
    realized_pnl       Float64,
    margin_used        Float64 DEFAULT 0,
    open_positions     UInt32,
    drawdown           Float64 DEFAULT 0,
    position_symbols   Array(String),
    position_sizes     Array(Float64),
    position_values    Array(Float64),
    inserted_at        DateTime DEFAULT now()
)
ENGINE = ReplacingMergeTree(inserted_at)
PARTITION BY toYYYYMM(snapshot_time)
ORDER BY (account_id, snapshot_time);
