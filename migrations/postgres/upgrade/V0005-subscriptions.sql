-- Subscriptions: the billing plan of each user and its limits. At most one
-- current (trialing, active or past_due) subscription per user.

CREATE TABLE subscriptions (
    id                    UUID           PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id               UUID           NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    plan                  TEXT           NOT NULL,
    status                TEXT           NOT NULL DEFAULT 'active',
    billing_period        TEXT           NOT NULL DEFAULT 'monthly',
    price                 NUMERIC(12, 2) NOT NULL DEFAULT 0,
    currency              TEXT           NOT NULL DEFAULT 'USD',
    limits                JSONB          NOT NULL DEFAULT '{}'::jsonb,
    payment_provider      TEXT,
    external_id           TEXT,
    auto_renew            BOOLEAN        NOT NULL DEFAULT TRUE,
    current_period_start  TIMESTAMPTZ    NOT NULL DEFAULT now(),
    current_period_end    TIMESTAMPTZ,
    trial_ends_at         TIMESTAMPTZ,
    cancelled_at          TIMESTAMPTZ,
    created_at            TIMESTAMPTZ    NOT NULL DEFAULT now(),
    updated_at            TIMESTAMPTZ    NOT NULL DEFAULT now(),
    CONSTRAINT subscriptions_plan_check CHECK (plan IN ('free', 'basic', 'pro', 'enterprise')),
    CONSTRAINT subscriptions_status_check CHECK (status IN ('trialing', 'active', 'past_due', 'cancelled', 'expired')),
    CONSTRAINT subscriptions_billing_period_check CHECK (billing_period IN ('monthly', 'yearly', 'lifetime')),
    CONSTRAINT subscriptions_price_check CHECK (price >= 0),
    CONSTRAINT subscriptions_currency_check CHECK (currency ~ '^[A-Z]{3}$'),
    CONSTRAINT subscriptions_period_check CHECK (current_period_end IS NULL OR current_period_end > current_period_start),
    CONSTRAINT subscriptions_lifetime_check CHECK ((billing_period = 'lifetime') = (current_period_end IS NULL)),
    CONSTRAINT subscriptions_trial_check CHECK (status <> 'trialing' OR trial_ends_at IS NOT NULL),
    CONSTRAINT subscriptions_limits_check CHECK (jsonb_typeof(limits) = 'object'),
    CONSTRAINT subscriptions_external_id_key UNIQUE (payment_provider, external_id)
);

CREATE UNIQUE INDEX subscriptions_user_id_current_key ON subscriptions (user_id) WHERE status IN ('trialing', 'active', 'past_due');
CREATE INDEX subscriptions_user_id_idx ON subscriptions (user_id, created_at DESC);
CREATE INDEX subscriptions_renewal_idx ON subscriptions (current_period_end) WHERE status IN ('trialing', 'active', 'past_due') AND auto_renew;

COMMENT ON COLUMN subscriptions.limits IS 'Plan limits, e.g. max_strategies, max_live_accounts, max_backtests_per_day.';
