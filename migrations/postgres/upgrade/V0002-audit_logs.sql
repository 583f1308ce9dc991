-- Audit log: an append-only journal of user, API-key and system actions.

CREATE TABLE audit_logs (
    id           BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    occurred_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    actor_type   TEXT        NOT NULL DEFAULT 'user',
    user_id      UUID        REFERENCES users (id) ON DELETE SET NULL,
    api_key_id   UUID        REFERENCES api_keys (id) ON DELETE SET NULL,
    action       TEXT        NOT NULL,
    entity_type  TEXT,
    entity_id    TEXT,
    outcome      TEXT        NOT NULL DEFAULT 'success',
    ip_address   INET,
    user_agent   TEXT,
    request_id   UUID,
    old_values   JSONB,
    new_values   JSONB,
    metadata     JSONB       NOT NULL DEFAULT '{}'::jsonb,
    CONSTRAINT audit_logs_actor_type_check CHECK (actor_type IN ('user', 'api_key', 'service', 'system')),
    CONSTRAINT audit_logs_outcome_check CHECK (outcome IN ('success', 'failure', 'denied')),
    CONSTRAINT audit_logs_action_check CHECK (action ~ '^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$'),
    CONSTRAINT audit_logs_entity_check CHECK (entity_id IS NULL OR entity_type IS NOT NULL)
);

CREATE INDEX audit_logs_occurred_at_brin ON audit_logs USING brin (occurred_at);
CREATE INDEX audit_logs_user_id_occurred_at_idx ON audit_logs (user_id, occurred_at DESC);
CREATE INDEX audit_logs_entity_idx ON audit_logs (entity_type, entity_id);
CREATE INDEX audit_logs_action_idx ON audit_logs (action);

COMMENT ON TABLE audit_logs IS 'Append-only audit journal. action is dotted, e.g. user.login or strategy.update.';
