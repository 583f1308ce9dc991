-- Trading accounts: exchange/broker accounts (paper or live) that strategies trade on.

CREATE TABLE trading_accounts (
    id                     UUID           PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id                UUID           NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    name                   TEXT           NOT NULL,
    exchange               TEXT           NOT NULL,
    account_type           TEXT           NOT NULL DEFAULT 'spot',
    mode                   TEXT           NOT NULL DEFAULT 'paper',
    base_currency          TEXT           NOT NULL DEFAULT 'USDT',
    credentials_encrypted  BYTEA,
    initial_balance        NUMERIC(28, 10) NOT NULL DEFAULT 0,
    current_balance        NUMERIC(28, 10) NOT NULL DEFAULT 0,
    max_leverage           NUMERIC(6, 2)  NOT NULL DEFAULT 1,
    risk_limits            JSONB          NOT NULL DEFAULT '{}'::jsonb,
    status                 TEXT           NOT NULL DEFAULT 'active',
    last_synced_at         TIMESTAMPTZ,
    created_at             TIMESTAMPTZ    NOT NULL DEFAULT now(),
    updated_at             TIMESTAMPTZ    NOT NULL DEFAULT now(),
    CONSTRAINT trading_accounts_user_id_name_key UNIQUE (user_id, name),
    CONSTRAINT trading_accounts_exchange_check CHECK (exchange ~ '^[a-z][a-z0-9_]*$'),
    CONSTRAINT trading_accounts_account_type_check CHECK (account_type IN ('spot', 'margin', 'futures', 'options')),
    CONSTRAINT trading_accounts_mode_check CHECK (mode IN ('paper', 'live')),
    CONSTRAINT trading_accounts_status_check CHECK (status IN ('active', 'disabled', 'error', 'closed')),
    CONSTRAINT trading_accounts_base_currency_check CHECK (base_currency ~ '^[A-Z0-9]{2,10}$'),
    CONSTRAINT trading_accounts_initial_balance_check CHECK (initial_balance >= 0),
    CONSTRAINT trading_accounts_max_leverage_check CHECK (max_leverage BETWEEN 1 AND 125),
    CONSTRAINT trading_accounts_credentials_check CHECK (mode = 'paper' OR credentials_encrypted IS NOT NULL),
    CONSTRAINT trading_accounts_risk_limits_check CHECK (jsonb_typeof(risk_limits) = 'object')
);

CREATE INDEX trading_accounts_user_id_idx ON trading_accounts (user_id);
CREATE INDEX trading_accounts_exchange_status_idx ON trading_accounts (exchange, status);

COMMENT ON TABLE trading_accounts IS 'Exchange or broker accounts. Live accounts must carry encrypted API credentials.';
COMMENT ON COLUMN trading_accounts.risk_limits IS 'Per-account risk limits, e.g. max_position_pct, max_daily_loss, max_open_positions.';
