-- System indicators: the indicator catalogue that the migrator syncs from
-- indicators/data/indicators.json. definition_hash lets the sync skip unchanged rows.

CREATE TABLE system_indicators (
    name             TEXT        PRIMARY KEY,
    display_name     TEXT        NOT NULL,
    category         TEXT        NOT NULL,
    description      TEXT,
    parameters       JSONB       NOT NULL DEFAULT '[]'::jsonb,
    outputs          JSONB       NOT NULL,
    definition_hash  TEXT        NOT NULL,
    is_active        BOOLEAN     NOT NULL DEFAULT TRUE,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT system_indicators_category_check CHECK (category IN ('trend', 'momentum', 'volatility', 'volume', 'other'))
);

CREATE INDEX system_indicators_category_idx ON system_indicators (category) WHERE is_active;

COMMENT ON TABLE system_indicators IS 'Built-in indicator catalogue, written only by the migrator indicator sync.';
COMMENT ON COLUMN system_indicators.definition_hash IS 'SHA-256 of the indicator definition. The sync skips rows whose hash is unchanged.';
