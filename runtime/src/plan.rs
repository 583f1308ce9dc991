//! The plan types. The `plan!()` macro builds a `static PLAN` of these from the sources at
//! compile time (in the root crate's `src/lib.rs`); the runtime only ever reads that plan, never the
//! source files.

use std::fmt::{self, Write};
use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;
use std::sync::OnceLock;

/// The connection a data migration receives: the migration's transaction.
pub use sqlx::PgConnection;
/// One indicator of the system catalogue: the strings the runtime writes and prints.
pub use tradeforge_migrator_spec::indicators::compiled::CompiledIndicator as Indicator;
pub use tradeforge_migrator_spec::model::Category;

/// Everything `migrate` brings the servers to, in the order it does it:
/// PostgreSQL, then ClickHouse, then MongoDB, then Kafka topics, then the indicator catalogue.
#[derive(Debug)]
pub struct Plan {
    /// `sha256:<hex>` over every source file; `migrate` logs it, `plan` prints it, so a deploy
    /// can check that the binary runs the plan that was reviewed.
    pub fingerprint: &'static str,
    /// Ascending versions.
    pub postgres: &'static [Migration],
    /// Ascending versions.
    pub clickhouse: &'static [Migration],
    /// Ascending versions. Each script's `sql` is its YAML file and its `statements` are its
    /// commands, one canonical JSON document each (`transactional` is false: MongoDB's DDL is not).
    pub mongodb: &'static [Migration],
    /// In declaration order.
    pub topics: &'static [Topic],
    /// Sorted by name.
    pub indicators: Catalogue,
}

/// One upgrade/downgrade pair of SQL files, or a PostgreSQL data migration written in Rust.
/// `Copy`, like all its fields, so a test can derive an edited migration with
/// `Migration { checksum, ..*migration }`.
#[derive(Clone, Copy, Debug)]
pub struct Migration {
    pub version: u64,
    pub description: &'static str,
    /// `sha256:<hex>` of the upgrade's normalised text (LF, no BOM), or of a data migration's
    /// Rust file: what history records.
    pub checksum: &'static str,
    pub upgrade: Script,
    pub downgrade: Script,
    /// Set for a data migration: its functions run instead of SQL. Both scripts then name its
    /// `.rs` file and hold no statement, and the downgrade's `sql` is the note history stores
    /// (compiled Rust cannot be stored).
    pub data: Option<&'static DataMigration>,
    /// How the downgrade undoes it: its statements, or a declared no-op or irreversibility.
    pub reversal: Reversal,
}

/// How a migration is undone, as its downgrade file declares (`-- migrator:no-op <reason>`,
/// `-- migrator:irreversible <reason>`); a declared downgrade holds no statement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reversal {
    /// The downgrade's statements (or a data migration's function) undo it.
    Script,
    /// Nothing needs undoing: `down` runs nothing and removes the history row.
    NoOp { reason: &'static str },
    /// It cannot be undone: `down` refuses to cross it.
    Irreversible { reason: &'static str },
}

impl Migration {
    /// Whether this is a data migration written in Rust.
    pub fn is_data(&self) -> bool {
        self.data.is_some()
    }
}

/// What a data migration's function returns: any error converts into it with `?`.
pub type DataError = Box<dyn std::error::Error + Send + Sync>;

/// The boxed future of a data migration's function, borrowing the connection.
pub type DataFuture<'c> = Pin<Box<dyn Future<Output = Result<(), DataError>> + Send + 'c>>;

/// One direction of a data migration, called with the migration's transaction.
pub type DataStep = for<'c> fn(&'c mut PgConnection) -> DataFuture<'c>;

/// The two functions of a `#[data_migration]` module, as the attribute wraps them.
#[derive(Clone, Copy)]
pub struct DataMigration {
    pub upgrade: DataStep,
    pub downgrade: DataStep,
}

impl fmt::Debug for DataMigration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataMigration { .. }")
    }
}

/// One SQL file, split into statements at build time.
#[derive(Clone, Copy, Debug)]
pub struct Script {
    /// Relative to the repository root.
    pub path: &'static str,
    pub sql: &'static str,
    pub statements: &'static [&'static str],
    /// False for `-- migrator:no-transaction` scripts, which run statement by statement.
    pub transactional: bool,
}

impl Script {
    /// `text[start..end]`, in a constant: the generated plan cuts each statement out of its
    /// script's one embedded text with it, so the text is in the binary once. A bound that is
    /// not a character boundary fails the build, never the run.
    pub const fn slice(text: &'static str, start: usize, end: usize) -> &'static str {
        text.split_at(end).0.split_at(start).1
    }
}

/// One declared topic, defaults applied, config values as Kafka receives them.
#[derive(Debug)]
pub struct Topic {
    pub name: &'static str,
    pub partitions: i32,
    pub replication_factor: i16,
    /// Sorted by key.
    pub config: &'static [(&'static str, &'static str)],
    /// A tombstone: deleted by `migrate --allow-delete`, otherwise only reported.
    pub deleted: bool,
}

/// The indicator catalogue, sorted by name. The plan embeds it as one encoded text (10,000
/// indicators as Rust values took rustc 20 s per rebuild; one string literal takes none) and it is
/// decoded the first time it is read, then kept: it derefs to the slice of indicators.
pub struct Catalogue {
    encoded: &'static str,
    decoded: OnceLock<Vec<Indicator>>,
}

impl Catalogue {
    /// The catalogue `plan!()` encoded (`tradeforge_migrator_spec::indicators::compiled::encode`).
    pub const fn new(encoded: &'static str) -> Catalogue {
        Catalogue { encoded, decoded: OnceLock::new() }
    }

    /// A catalogue of these indicators, for a plan built in code (tests).
    pub fn of(indicators: Vec<Indicator>) -> Catalogue {
        Catalogue { encoded: "[]", decoded: OnceLock::from(indicators) }
    }
}

/// No indicators.
impl Default for Catalogue {
    fn default() -> Catalogue {
        Catalogue::of(Vec::new())
    }
}

impl Deref for Catalogue {
    type Target = [Indicator];

    fn deref(&self) -> &[Indicator] {
        self.decoded.get_or_init(|| {
            tradeforge_migrator_spec::indicators::compiled::decode(self.encoded).unwrap_or_else(|error| {
                panic!("the catalogue compiled into this binary does not decode (a bug): {error}")
            })
        })
    }
}

impl fmt::Debug for Catalogue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter().map(|indicator| &indicator.name)).finish()
    }
}

impl Plan {
    /// The migrations of one versioned database target.
    pub fn migrations(&self, target: SqlTarget) -> &'static [Migration] {
        match target {
            SqlTarget::Postgres => self.postgres,
            SqlTarget::ClickHouse => self.clickhouse,
            SqlTarget::MongoDb => self.mongodb,
        }
    }

    /// The stable, reviewable text form printed by `migrator plan` and snapshot-tested in CI.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = self.write_text(&mut out);
        out
    }

    fn write_text(&self, out: &mut String) -> fmt::Result {
        writeln!(out, "plan {}", self.fingerprint)?;
        for target in [SqlTarget::Postgres, SqlTarget::ClickHouse] {
            let migrations = self.migrations(target);
            writeln!(out, "\n{}: {} migrations", target.name(), migrations.len())?;
            for migration in migrations {
                write_migration(out, migration)?;
            }
        }
        writeln!(out, "\nmongodb: {} migrations", self.mongodb.len())?;
        for migration in self.mongodb {
            write_mongodb_migration(out, migration)?;
        }
        writeln!(out, "\nkafka: {} topics", self.topics.len())?;
        for topic in self.topics {
            write_topic(out, topic)?;
        }
        writeln!(out, "\nindicators: {} definitions", self.indicators.len())?;
        for indicator in self.indicators.iter() {
            out.push_str(&indicator.plan_text);
        }
        Ok(())
    }
}

fn write_migration(out: &mut String, migration: &Migration) -> fmt::Result {
    if migration.is_data() {
        writeln!(out, "  V{} {}  {}", migration.version, migration.description, migration.checksum)?;
        return writeln!(out, "    data      {} (Rust, upgrade and downgrade)", migration.upgrade.path);
    }
    let mode = if migration.upgrade.transactional { "" } else { " (no transaction)" };
    writeln!(out, "  V{} {}  {}", migration.version, migration.description, migration.checksum)?;
    writeln!(out, "    upgrade   {} ({}){mode}", migration.upgrade.path, statements(&migration.upgrade))?;
    let downgrade = match migration.reversal {
        Reversal::Script => statements(&migration.downgrade),
        Reversal::NoOp { reason } => format!("declared no-op: {reason}"),
        Reversal::Irreversible { reason } => format!("declared irreversible: {reason}"),
    };
    writeln!(out, "    downgrade {} ({downgrade})", migration.downgrade.path)
}

fn write_mongodb_migration(out: &mut String, migration: &Migration) -> fmt::Result {
    let commands = |script: &Script| match script.statements.len() {
        1 => "1 command".to_string(),
        count => format!("{count} commands"),
    };
    writeln!(out, "  V{} {}  {}", migration.version, migration.description, migration.checksum)?;
    writeln!(out, "    upgrade   {} ({})", migration.upgrade.path, commands(&migration.upgrade))?;
    let downgrade = match migration.reversal {
        Reversal::Script => commands(&migration.downgrade),
        Reversal::NoOp { reason } => format!("declared no-op: {reason}"),
        Reversal::Irreversible { reason } => format!("declared irreversible: {reason}"),
    };
    writeln!(out, "    downgrade {} ({downgrade})", migration.downgrade.path)
}

fn statements(script: &Script) -> String {
    match script.statements.len() {
        1 => "1 statement".to_string(),
        count => format!("{count} statements"),
    }
}

fn write_topic(out: &mut String, topic: &Topic) -> fmt::Result {
    if topic.deleted {
        return writeln!(out, "  {}  deleted (tombstone)", topic.name);
    }
    write!(out, "  {}  partitions={} replication_factor={}", topic.name, topic.partitions, topic.replication_factor)?;
    for (key, value) in topic.config {
        write!(out, " {key}={value}")?;
    }
    writeln!(out)
}

/// The databases with versioned migrations (the two SQL databases and MongoDB, whose commands
/// the plan carries as its statements); they share the migration model and the engine, and
/// differ in how they apply it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SqlTarget {
    Postgres,
    ClickHouse,
    MongoDb,
}

impl SqlTarget {
    pub fn name(self) -> &'static str {
        match self {
            SqlTarget::Postgres => "postgres",
            SqlTarget::ClickHouse => "clickhouse",
            SqlTarget::MongoDb => "mongodb",
        }
    }
}
