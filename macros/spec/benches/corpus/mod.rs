//! The generated corpus of sources, shaped like real ones, shared by the spec crate's `compile`
//! bench (`mod corpus;`) and the benchmark kit in `benches/kit/` (included with `#[path]`).
//!
//! A file both include, rather than a `pub` module of the spec crate behind a feature: it keeps
//! bench-only code out of the library that every build runs, and enabling a feature from a
//! dev-dependency would compile the spec crate (and everything above it) twice, once for
//! `cargo build` and once for `cargo test`.

use std::fmt::Write as _;
use std::path::Path;

/// The migration that creates the indicator catalogue, exactly as this repository has it: the
/// indicators target syncs into that table, so every corpus starts with it (as version 1).
const SYSTEM_INDICATORS_UPGRADE: &str =
    include_str!("../../../../migrations/postgres/upgrade/V0007-system_indicators.sql");
const SYSTEM_INDICATORS_DOWNGRADE: &str =
    include_str!("../../../../migrations/postgres/downgrade/V0007-system_indicators.sql");

/// One generated upgrade/downgrade pair.
pub struct Migration {
    pub version: u64,
    pub description: String,
    pub upgrade: String,
    pub downgrade: String,
}

impl Migration {
    /// `V00042-create_t42.sql`.
    pub fn file_name(&self) -> String {
        format!("V{:05}-{}.sql", self.version, self.description)
    }
}

/// `count` PostgreSQL migrations: V1 creates `system_indicators`, V2 a lookup table with a few
/// rows, then one table each (columns, a default holding a `;`, an index, comments), every third
/// with a foreign key to the previous table and every fifth also adding a column to it.
pub fn postgres(count: usize) -> Vec<Migration> {
    (1..=count as u64)
        .map(|version| match version {
            1 => Migration {
                version,
                description: "system_indicators".into(),
                upgrade: SYSTEM_INDICATORS_UPGRADE.into(),
                downgrade: SYSTEM_INDICATORS_DOWNGRADE.into(),
            },
            2 => postgres_lookup_table(version),
            _ => postgres_table(version),
        })
        .collect()
}

fn postgres_lookup_table(version: u64) -> Migration {
    Migration {
        version,
        description: "currencies".into(),
        upgrade:
            "-- The currencies every account may hold.\nCREATE TABLE currencies (\n    code CHAR(3) PRIMARY KEY,\n    \
                  name TEXT NOT NULL,\n    decimals SMALLINT NOT NULL DEFAULT 2\n);\n\
                  INSERT INTO currencies (code, name, decimals) VALUES\n    ('USD', 'US dollar', 2),\n    \
                  ('EUR', 'Euro', 2),\n    ('JPY', 'Yen', 0),\n    ('BTC', 'Bitcoin; on-chain', 8);\n"
                .into(),
        downgrade: "-- Undo: drop currencies.\nDROP TABLE currencies;\n".into(),
    }
}

fn postgres_table(version: u64) -> Migration {
    let previous = version - 1;
    let foreign_key = if version.is_multiple_of(3) && previous > 2 {
        format!(",\n    parent_id BIGINT REFERENCES t{previous} (id) ON DELETE CASCADE")
    } else {
        String::new()
    };
    let mut upgrade = format!(
        "-- Creates t{version}.\nCREATE TABLE t{version} (\n    id BIGSERIAL PRIMARY KEY,\n    \
         name TEXT NOT NULL DEFAULT 'a;b',\n    amount NUMERIC(20, 8) NOT NULL DEFAULT 0,\n    \
         status TEXT NOT NULL CHECK (status IN ('new', 'open', 'closed')),\n    \
         created_at TIMESTAMPTZ NOT NULL DEFAULT now(){foreign_key}\n);\n\
         /* lookups by name; and by time */\nCREATE INDEX t{version}_name_idx ON t{version} (name);\n\
         CREATE INDEX t{version}_created_idx ON t{version} (created_at) WHERE status <> 'closed';\n\
         COMMENT ON TABLE t{version} IS 'generated; for the bench';\n\
         COMMENT ON COLUMN t{version}.amount IS 'in the currency''s smallest unit';\n"
    );
    let mut downgrade = format!("-- Undo V{version}.\n");
    if version.is_multiple_of(5) && previous > 2 {
        let _ = write!(
            upgrade,
            "ALTER TABLE t{previous} ADD COLUMN extra_{version} TEXT;\n\
             ALTER TABLE t{previous} ALTER COLUMN name SET DEFAULT 'v{version}';\n"
        );
        let _ = write!(
            downgrade,
            "ALTER TABLE t{previous} ALTER COLUMN name SET DEFAULT 'a;b';\nALTER TABLE t{previous} DROP COLUMN extra_{version};\n"
        );
    }
    let _ = writeln!(downgrade, "DROP TABLE t{version};");
    Migration { version, description: format!("create_t{version}"), upgrade, downgrade }
}

/// `count` ClickHouse migrations valid on 18.16 and current releases: one MergeTree table each,
/// every fourth also adding a column to the previous table.
pub fn clickhouse(count: usize) -> Vec<Migration> {
    (1..=count as u64)
        .map(|version| {
            let previous = version - 1;
            let mut upgrade = format!(
                "-- Ticks of feed {version}.\nCREATE TABLE IF NOT EXISTS c{version} (\n    symbol String,\n    \
                 ts DateTime,\n    price Float64,\n    volume UInt64 DEFAULT 0,\n    note String DEFAULT 'a;b'\n) \
                 ENGINE = MergeTree()\nPARTITION BY toYYYYMM(ts)\nORDER BY (symbol, ts);\n"
            );
            let mut downgrade = format!("-- Undo V{version}.\n");
            if version % 4 == 0 {
                let _ = writeln!(upgrade, "ALTER TABLE c{previous} ADD COLUMN extra_{version} Float64 DEFAULT 0;");
                let _ = writeln!(downgrade, "ALTER TABLE c{previous} DROP COLUMN extra_{version};");
            }
            let _ = writeln!(downgrade, "DROP TABLE IF EXISTS c{version};");
            Migration { version, description: format!("create_c{version}"), upgrade, downgrade }
        })
        .collect()
}

/// `count` topics named `<prefix><index>` (a prefix unique to the run keeps runs apart on a
/// shared broker), with defaults, a list-valued cleanup policy, sizes and durations.
pub fn kafka_topics(count: usize, prefix: &str) -> String {
    let mut text =
        String::from("defaults:\n  partitions: 3\n  replication_factor: 1\n  config:\n    retention.ms: 7d\ntopics:\n");
    for index in 0..count {
        let _ = write!(
            text,
            "  - name: {prefix}{index}\n    partitions: 6\n    config:\n      cleanup.policy: [compact, delete]\n      \
             retention.bytes: 1GiB\n      min.insync.replicas: 1\n"
        );
    }
    text
}

/// `count` indicator definitions as one JSON file, each with three parameters and two outputs.
pub fn indicators(count: usize) -> String {
    let definitions: Vec<serde_json::Value> = (0..count)
        .map(|index| {
            serde_json::json!({
                "name": format!("indicator_{index}"),
                "display_name": format!("Indicator {index}"),
                "category": "momentum",
                "description": "generated for the bench",
                "parameters": [
                    {"name": "period", "type": "integer", "default": 14, "min": 2, "max": 500},
                    {"name": "factor", "type": "float", "default": 2, "min": 0.1, "max": 10.0},
                    {"name": "source", "type": "enum", "default": "close", "values": ["open", "high", "low", "close"]}
                ],
                "outputs": [{"name": "value", "type": "float"}, {"name": "signal", "type": "boolean"}]
            })
        })
        .collect();
    serde_json::to_string_pretty(&definitions).expect("the generated definitions serialise")
}

/// Writes `migrations` as `migrations/<target>/{upgrade,downgrade}/<file>` under `root`.
pub fn write_migrations(root: &Path, target: &str, migrations: &[Migration]) {
    for migration in migrations {
        let name = migration.file_name();
        write(root, &format!("migrations/{target}/upgrade/{name}"), &migration.upgrade);
        write(root, &format!("migrations/{target}/downgrade/{name}"), &migration.downgrade);
    }
}

/// Writes `text` to `root/relative`, creating folders; a file that already holds `text` is left
/// alone, so an unchanged corpus does not make cargo rebuild the crate that compiles it.
pub fn write(root: &Path, relative: &str, text: &str) {
    let path = root.join(relative);
    if std::fs::read_to_string(&path).is_ok_and(|existing| existing == text) {
        return;
    }
    std::fs::create_dir_all(path.parent().expect("relative paths have a parent")).expect("create a corpus folder");
    std::fs::write(path, text).expect("write a corpus file");
}
