-- Users and authentication: users, user_sessions (refresh-token sessions),
-- api_keys (integration keys, only hashes are stored) and user_permissions.

CREATE TABLE users (
    id                  UUID        PRIMARY KEY DEFAULT gen_random_uuid(),
    email               TEXT        NOT NULL,
    username            TEXT        NOT NULL,
    password_hash       TEXT        NOT NULL,
    full_name           TEXT,
    role                TEXT        NOT NULL DEFAULT 'user',
    status              TEXT        NOT NULL DEFAULT 'pending',
    email_verified_at   TIMESTAMPTZ,
    two_factor_enabled  BOOLEAN     NOT NULL DEFAULT FALSE,
    two_factor_secret   TEXT,
    timezone            TEXT        NOT NULL DEFAULT 'UTC',
    locale              TEXT        NOT NULL DEFAULT 'en',
    preferences         JSONB       NOT NULL DEFAULT '{}'::jsonb,
    last_login_at       TIMESTAMPTZ,
    created_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT users_role_check CHECK (role IN ('user', 'trader', 'admin', 'support')),
    CONSTRAINT users_status_check CHECK (status IN ('pending', 'active', 'suspended', 'deleted')),
    CONSTRAINT users_email_check CHECK (email ~ '^[^@[:space:]]+@[^@[:space:]]+$'),
    CONSTRAINT users_username_check CHECK (username ~ '^[A-Za-z0-9_.-]{3,50}$'),
    CONSTRAINT users_two_factor_check CHECK (NOT two_factor_enabled OR two_factor_secret IS NOT NULL),
    CONSTRAINT users_preferences_check CHECK (jsonb_typeof(preferences) = 'object')
);

CREATE UNIQUE INDEX users_email_key ON users (lower(email));
CREATE UNIQUE INDEX users_username_key ON users (lower(username));
CREATE INDEX users_status_idx ON users (status);

COMMENT ON TABLE users IS 'Platform users. E-mail and username are unique case-insensitively.';

CREATE TABLE user_sessions (
    id                  UUID        PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id             UUID        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    refresh_token_hash  TEXT        NOT NULL,
    ip_address          INET,
    user_agent          TEXT,
    created_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_seen_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at          TIMESTAMPTZ NOT NULL,
    revoked_at          TIMESTAMPTZ,
    CONSTRAINT user_sessions_refresh_token_hash_key UNIQUE (refresh_token_hash),
    CONSTRAINT user_sessions_expiry_check CHECK (expires_at > created_at)
);

CREATE INDEX user_sessions_user_id_idx ON user_sessions (user_id) WHERE revoked_at IS NULL;
CREATE INDEX user_sessions_expires_at_idx ON user_sessions (expires_at);

COMMENT ON TABLE user_sessions IS 'Active and revoked login sessions, keyed by a hash of the refresh token.';

CREATE TABLE api_keys (
    id            UUID        PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id       UUID        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name          TEXT        NOT NULL,
    key_prefix    TEXT        NOT NULL,
    key_hash      TEXT        NOT NULL,
    scopes        TEXT[]      NOT NULL DEFAULT '{}',
    allowed_ips   CIDR[],
    last_used_at  TIMESTAMPTZ,
    expires_at    TIMESTAMPTZ,
    revoked_at    TIMESTAMPTZ,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT api_keys_key_prefix_key UNIQUE (key_prefix),
    CONSTRAINT api_keys_key_hash_key UNIQUE (key_hash),
    CONSTRAINT api_keys_user_id_name_key UNIQUE (user_id, name),
    CONSTRAINT api_keys_name_check CHECK (char_length(name) BETWEEN 1 AND 100),
    CONSTRAINT api_keys_key_prefix_check CHECK (char_length(key_prefix) BETWEEN 6 AND 16)
);

CREATE INDEX api_keys_user_id_idx ON api_keys (user_id) WHERE revoked_at IS NULL;

COMMENT ON TABLE api_keys IS 'API keys for integrations. Only a hash of the secret is stored, the prefix identifies the key in the UI.';

CREATE TABLE user_permissions (
    id          BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     UUID        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    permission  TEXT        NOT NULL,
    granted_by  UUID        REFERENCES users (id) ON DELETE SET NULL,
    granted_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at  TIMESTAMPTZ,
    CONSTRAINT user_permissions_user_id_permission_key UNIQUE (user_id, permission),
    CONSTRAINT user_permissions_permission_check CHECK (permission ~ '^[a-z][a-z0-9_]*(\.([a-z][a-z0-9_]*|\*))+$')
);

CREATE INDEX user_permissions_permission_idx ON user_permissions (permission);

COMMENT ON TABLE user_permissions IS 'Fine-grained permissions on top of users.role, e.g. strategies.publish or trading.live.';
