-- Strategies: strategy configurations, their runs (backtests, optimisations,
-- paper and live trading) and per-user access grants to shared strategies.

CREATE TABLE strategies (
    id             UUID        PRIMARY KEY DEFAULT gen_random_uuid(),
    owner_id       UUID        NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    name           TEXT        NOT NULL,
    description    TEXT,
    strategy_type  TEXT        NOT NULL DEFAULT 'indicator',
    status         TEXT        NOT NULL DEFAULT 'draft',
    visibility     TEXT        NOT NULL DEFAULT 'private',
    symbols        TEXT[]      NOT NULL DEFAULT '{}',
    timeframe      TEXT        NOT NULL DEFAULT '1h',
    config         JSONB       NOT NULL DEFAULT '{}'::jsonb,
    parameters     JSONB       NOT NULL DEFAULT '{}'::jsonb,
    risk_settings  JSONB       NOT NULL DEFAULT '{}'::jsonb,
    version        INTEGER     NOT NULL DEFAULT 1,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    archived_at    TIMESTAMPTZ,
    CONSTRAINT strategies_owner_id_name_key UNIQUE (owner_id, name),
    CONSTRAINT strategies_name_check CHECK (char_length(name) BETWEEN 1 AND 200),
    CONSTRAINT strategies_strategy_type_check CHECK (strategy_type IN ('indicator', 'ml', 'genetic', 'grid', 'arbitrage', 'custom')),
    CONSTRAINT strategies_status_check CHECK (status IN ('draft', 'active', 'paused', 'archived')),
    CONSTRAINT strategies_visibility_check CHECK (visibility IN ('private', 'shared', 'public')),
    CONSTRAINT strategies_timeframe_check CHECK (timeframe IN ('1m', '5m', '15m', '1h', '4h', '1d')),
    CONSTRAINT strategies_version_check CHECK (version >= 1),
    CONSTRAINT strategies_archived_check CHECK ((status = 'archived') = (archived_at IS NOT NULL)),
    CONSTRAINT strategies_config_check CHECK (jsonb_typeof(config) = 'object'),
    CONSTRAINT strategies_parameters_check CHECK (jsonb_typeof(parameters) = 'object')
);

CREATE INDEX strategies_owner_id_status_idx ON strategies (owner_id, status);
CREATE INDEX strategies_public_idx ON strategies (updated_at DESC) WHERE visibility = 'public' AND status <> 'archived';
CREATE INDEX strategies_symbols_idx ON strategies USING gin (symbols);

COMMENT ON TABLE strategies IS 'Strategy configurations. version is bumped on every change of config or parameters.';

CREATE TABLE strategy_runs (
    id                  UUID           PRIMARY KEY DEFAULT gen_random_uuid(),
    strategy_id         UUID           NOT NULL REFERENCES strategies (id) ON DELETE CASCADE,
    strategy_version    INTEGER        NOT NULL,
    trading_account_id  UUID           REFERENCES trading_accounts (id) ON DELETE RESTRICT,
    started_by          UUID           REFERENCES users (id) ON DELETE SET NULL,
    run_type            TEXT           NOT NULL,
    status              TEXT           NOT NULL DEFAULT 'queued',
    parameters          JSONB          NOT NULL DEFAULT '{}'::jsonb,
    symbols             TEXT[]         NOT NULL DEFAULT '{}',
    timeframe           TEXT           NOT NULL,
    period_start        TIMESTAMPTZ,
    period_end          TIMESTAMPTZ,
    initial_capital     NUMERIC(28, 10),
    final_capital       NUMERIC(28, 10),
    result_summary      JSONB,
    error_message       TEXT,
    created_at          TIMESTAMPTZ    NOT NULL DEFAULT now(),
    started_at          TIMESTAMPTZ,
    finished_at         TIMESTAMPTZ,
    CONSTRAINT strategy_runs_run_type_check CHECK (run_type IN ('backtest', 'optimization', 'walk_forward', 'monte_carlo', 'paper', 'live')),
    CONSTRAINT strategy_runs_status_check CHECK (status IN ('queued', 'running', 'completed', 'failed', 'cancelled')),
    CONSTRAINT strategy_runs_timeframe_check CHECK (timeframe IN ('1m', '5m', '15m', '1h', '4h', '1d')),
    CONSTRAINT strategy_runs_strategy_version_check CHECK (strategy_version >= 1),
    CONSTRAINT strategy_runs_account_check CHECK (run_type NOT IN ('paper', 'live') OR trading_account_id IS NOT NULL),
    CONSTRAINT strategy_runs_period_check CHECK (period_start IS NULL OR period_end IS NULL OR period_end > period_start),
    CONSTRAINT strategy_runs_initial_capital_check CHECK (initial_capital IS NULL OR initial_capital > 0),
    CONSTRAINT strategy_runs_finished_check CHECK (finished_at IS NULL OR (started_at IS NOT NULL AND finished_at >= started_at))
);

CREATE INDEX strategy_runs_strategy_id_created_at_idx ON strategy_runs (strategy_id, created_at DESC);
CREATE INDEX strategy_runs_trading_account_id_idx ON strategy_runs (trading_account_id) WHERE trading_account_id IS NOT NULL;
CREATE INDEX strategy_runs_pending_idx ON strategy_runs (created_at) WHERE status IN ('queued', 'running');

COMMENT ON TABLE strategy_runs IS 'One execution of a strategy. Detailed results (trades, metrics, equity) live in ClickHouse under the same run id.';

CREATE TABLE strategy_access (
    strategy_id   UUID        NOT NULL REFERENCES strategies (id) ON DELETE CASCADE,
    user_id       UUID        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    access_level  TEXT        NOT NULL DEFAULT 'view',
    granted_by    UUID        REFERENCES users (id) ON DELETE SET NULL,
    granted_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at    TIMESTAMPTZ,
    CONSTRAINT strategy_access_pkey PRIMARY KEY (strategy_id, user_id),
    CONSTRAINT strategy_access_access_level_check CHECK (access_level IN ('view', 'run', 'edit', 'admin'))
);

CREATE INDEX strategy_access_user_id_idx ON strategy_access (user_id);

COMMENT ON TABLE strategy_access IS 'Access granted to other users on a strategy. The owner always has full access and needs no row.';
