-- Research results: backtests, parameter optimisation, the genetic algorithm's
-- populations, walk-forward windows and Monte Carlo simulations. Every table is
-- append-only and partitioned by month of creation.
CREATE TABLE IF NOT EXISTS backtest_results
(
    backtest_id            UUID,
    run_id                 UUID,
    strategy_id            UUID,
    strategy_version       UInt32,
    exchange               String,
    symbols                Array(String),
    timeframe              Enum8('1m' = 1, '5m' = 2, '15m' = 3, '1h' = 4, '4h' = 5, '1d' = 6),
    period_start           DateTime,
    period_end             DateTime,
    parameters             String,
    initial_capital        Float64,
    final_capital          Float64,
    total_return           Float64,
    annual_return          Float64,
    sharpe_ratio           Float64,
    sortino_ratio          Float64,
    calmar_ratio           Float64,
    max_drawdown           Float64,
    max_drawdown_days      UInt32,
    win_rate               Float64,
    profit_factor          Float64,
    total_trades           UInt32,
    winning_trades         UInt32,
    losing_trades          UInt32,
    avg_trade_pnl          Float64,
    exposure_time          Float64,
    total_commission       Float64,
    equity_curve_time      Array(DateTime),
    equity_curve_value     Array(Float64),
    duration_ms            UInt64,
    created_at             DateTime DEFAULT now()
)
ENGINE = MergeTree()
PARTITION BY toYYYYMM(created_at)
ORDER BY (strategy_id, created_at, backtest_id);

CREATE TABLE IF NOT EXISTS optimization_results
(
    optimization_id   UUID,
    run_id            UUID,
    strategy_id       UUID,
    method            Enum8('grid' = 1, 'random' = 2, 'bayesian' = 3, 'genetic' = 4),
    iteration         UInt32,
    parameters        String,
    param_names       Array(String),
    param_values      Array(Float64),
    objective         String,
    objective_value   Float64,
    total_return      Float64,
    sharpe_ratio      Float64,
    max_drawdown      Float64,
    win_rate          Float64,
    profit_factor     Float64,
    total_trades      UInt32,
    period_start      DateTime,
    period_end        DateTime,
    created_at        DateTime DEFAULT now()
)
ENGINE = MergeTree()
PARTITION BY toYYYYMM(created_at)
ORDER BY (strategy_id, optimization_id, iteration);

CREATE TABLE IF NOT EXISTS genetic_population
(
    optimization_id   UUID,
    generation        UInt32,
    individual        UInt32,
    gene_names        Array(String),
    genes             Array(Float64),
    fitness           Float64,
    rank              UInt32,
    is_elite          UInt8 DEFAULT 0,
    parent_a          Nullable(UInt32),
    parent_b          Nullable(UInt32),
    origin            Enum8('random' = 1, 'crossover' = 2, 'mutation' = 3, 'elite' = 4),
    total_return      Float64,
    sharpe_ratio      Float64,
    max_drawdown      Float64,
    evaluated_at      DateTime DEFAULT now()
)
ENGINE = MergeTree()
PARTITION BY toYYYYMM(evaluated_at)
ORDER BY (optimization_id, generation, individual);

CREATE TABLE IF NOT EXISTS walk_forward_results
(
    walk_forward_id       UUID,
    run_id                UUID,
    strategy_id           UUID,
    window_index          UInt32,
    in_sample_start       DateTime,
    in_sample_end         DateTime,
    out_of_sample_start   DateTime,
    out_of_sample_end     DateTime,
    optimized_parameters  String,
    is_return             Float64,
    is_sharpe_ratio       Float64,
    is_max_drawdown       Float64,
    oos_return            Float64,
    oos_sharpe_ratio      Float64,
    oos_max_drawdown      Float64,
    oos_trades            UInt32,
    efficiency_ratio      Float64,
    created_at            DateTime DEFAULT now()
)
ENGINE = MergeTree()
PARTITION BY toYYYYMM(created_at)
ORDER BY (strategy_id, walk_forward_id, window_index);

CREATE TABLE IF NOT EXISTS monte_carlo_simulations
(
    simulation_id     UUID,
    backtest_id       UUID,
    strategy_id       UUID,
    method            Enum8('trade_shuffle' = 1, 'bootstrap' = 2, 'return_resampling' = 3, 'parametric' = 4),
    iteration         UInt32,
    seed              UInt64,
    final_equity      Float64,
    total_return      Float64,
    max_drawdown      Float64,
    sharpe_ratio      Float64,
    longest_losing_streak UInt32,
    is_ruined         UInt8 DEFAULT 0,
    equity_path       Array(Float64),
    created_at        DateTime DEFAULT now()
)
ENGINE = MergeTree()
PARTITION BY toYYYYMM(created_at)
ORDER BY (strategy_id, simulation_id, iteration);
