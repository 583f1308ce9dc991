-- Undo V0003: drop portfolio_snapshots, strategy_metrics and trades.
DROP TABLE IF EXISTS portfolio_snapshots;
DROP TABLE IF EXISTS strategy_metrics;
DROP TABLE IF EXISTS trades;
