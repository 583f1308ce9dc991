-- Notifications and alerts: alert_rules (user-defined triggers), notifications
-- (what was sent to a user, per channel) and email_queue (outgoing e-mail for the mail worker).

CREATE TABLE alert_rules (
    id                 UUID        PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id            UUID        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    strategy_id        UUID        REFERENCES strategies (id) ON DELETE CASCADE,
    name               TEXT        NOT NULL,
    rule_type          TEXT        NOT NULL,
    exchange           TEXT,
    symbol             TEXT,
    timeframe          TEXT,
    condition          JSONB       NOT NULL,
    channels           TEXT[]      NOT NULL DEFAULT '{in_app}',
    cooldown_seconds   INTEGER     NOT NULL DEFAULT 300,
    is_active          BOOLEAN     NOT NULL DEFAULT TRUE,
    last_triggered_at  TIMESTAMPTZ,
    trigger_count      BIGINT      NOT NULL DEFAULT 0,
    created_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT alert_rules_name_check CHECK (char_length(name) BETWEEN 1 AND 200),
    CONSTRAINT alert_rules_rule_type_check CHECK (rule_type IN ('price', 'indicator', 'signal', 'pnl', 'drawdown', 'system')),
    CONSTRAINT alert_rules_timeframe_check CHECK (timeframe IS NULL OR timeframe IN ('1m', '5m', '15m', '1h', '4h', '1d')),
    CONSTRAINT alert_rules_market_check CHECK (rule_type NOT IN ('price', 'indicator') OR symbol IS NOT NULL),
    CONSTRAINT alert_rules_condition_check CHECK (jsonb_typeof(condition) = 'object'),
    CONSTRAINT alert_rules_channels_check CHECK (cardinality(channels) > 0 AND channels <@ ARRAY['in_app', 'email', 'telegram', 'webhook', 'push']::TEXT[]),
    CONSTRAINT alert_rules_cooldown_seconds_check CHECK (cooldown_seconds >= 0),
    CONSTRAINT alert_rules_trigger_count_check CHECK (trigger_count >= 0)
);

CREATE INDEX alert_rules_user_id_idx ON alert_rules (user_id);
CREATE INDEX alert_rules_active_market_idx ON alert_rules (rule_type, exchange, symbol) WHERE is_active;
CREATE INDEX alert_rules_strategy_id_idx ON alert_rules (strategy_id) WHERE strategy_id IS NOT NULL;

COMMENT ON COLUMN alert_rules.condition IS 'The trigger, e.g. {"indicator": "rsi", "params": {"period": 14}, "operator": ">", "value": 70}.';

CREATE TABLE notifications (
    id             UUID        PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id        UUID        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    alert_rule_id  UUID        REFERENCES alert_rules (id) ON DELETE SET NULL,
    kind           TEXT        NOT NULL,
    severity       TEXT        NOT NULL DEFAULT 'info',
    channel        TEXT        NOT NULL DEFAULT 'in_app',
    title          TEXT        NOT NULL,
    body           TEXT        NOT NULL,
    payload        JSONB       NOT NULL DEFAULT '{}'::jsonb,
    status         TEXT        NOT NULL DEFAULT 'pending',
    error_message  TEXT,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    sent_at        TIMESTAMPTZ,
    read_at        TIMESTAMPTZ,
    CONSTRAINT notifications_kind_check CHECK (kind IN ('alert', 'signal', 'trade', 'strategy', 'billing', 'security', 'system')),
    CONSTRAINT notifications_severity_check CHECK (severity IN ('info', 'warning', 'critical')),
    CONSTRAINT notifications_channel_check CHECK (channel IN ('in_app', 'email', 'telegram', 'webhook', 'push')),
    CONSTRAINT notifications_status_check CHECK (status IN ('pending', 'sent', 'delivered', 'failed')),
    CONSTRAINT notifications_payload_check CHECK (jsonb_typeof(payload) = 'object')
);

CREATE INDEX notifications_user_id_created_at_idx ON notifications (user_id, created_at DESC);
CREATE INDEX notifications_unread_idx ON notifications (user_id) WHERE read_at IS NULL AND channel = 'in_app';
CREATE INDEX notifications_pending_idx ON notifications (created_at) WHERE status = 'pending';

CREATE TABLE email_queue (
    id                   BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id              UUID        REFERENCES users (id) ON DELETE SET NULL,
    notification_id      UUID        REFERENCES notifications (id) ON DELETE SET NULL,
    to_address           TEXT        NOT NULL,
    subject              TEXT        NOT NULL,
    template             TEXT,
    template_data        JSONB       NOT NULL DEFAULT '{}'::jsonb,
    body_text            TEXT,
    body_html            TEXT,
    priority             SMALLINT    NOT NULL DEFAULT 5,
    status               TEXT        NOT NULL DEFAULT 'queued',
    attempts             INTEGER     NOT NULL DEFAULT 0,
    max_attempts         INTEGER     NOT NULL DEFAULT 5,
    next_attempt_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_error           TEXT,
    provider_message_id  TEXT,
    created_at           TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at           TIMESTAMPTZ NOT NULL DEFAULT now(),
    sent_at              TIMESTAMPTZ,
    CONSTRAINT email_queue_to_address_check CHECK (to_address ~ '^[^@[:space:]]+@[^@[:space:]]+$'),
    CONSTRAINT email_queue_content_check CHECK (template IS NOT NULL OR body_text IS NOT NULL OR body_html IS NOT NULL),
    CONSTRAINT email_queue_priority_check CHECK (priority BETWEEN 1 AND 10),
    CONSTRAINT email_queue_status_check CHECK (status IN ('queued', 'sending', 'sent', 'failed', 'cancelled')),
    CONSTRAINT email_queue_attempts_check CHECK (attempts >= 0 AND max_attempts > 0 AND attempts <= max_attempts),
    CONSTRAINT email_queue_sent_check CHECK ((status = 'sent') = (sent_at IS NOT NULL))
);

CREATE INDEX email_queue_pickup_idx ON email_queue (priority, next_attempt_at) WHERE status = 'queued';
CREATE INDEX email_queue_user_id_idx ON email_queue (user_id);

COMMENT ON TABLE email_queue IS 'Outgoing e-mail. Workers claim queued rows with FOR UPDATE SKIP LOCKED, priority 1 is the most urgent.';
