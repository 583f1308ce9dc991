//! The command line: clap types whose doc comments are the `--help` text; the longer `after_help`
//! texts (examples, the environment, the exit codes) are in `cli/help.rs`.

use std::path::PathBuf;

use clap::builder::PossibleValue;
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::config::Overrides;
use crate::logging::LogFormat;
use crate::plan::SqlTarget;
use crate::targets::{TargetName, VersionTarget};

mod help;

use self::help::{
    BASELINE_AFTER_HELP, CHECK_AFTER_HELP, DOWN_AFTER_HELP, HISTORY_AFTER_HELP, IMPORT_AFTER_HELP, MAIN_AFTER_HELP,
    MIGRATE_AFTER_HELP, NEW_AFTER_HELP, PLAN_AFTER_HELP, REDO_AFTER_HELP, REPAIR_AFTER_HELP, STATUS_AFTER_HELP,
    UP_AFTER_HELP, VERIFY_AFTER_HELP,
};

/// The exit codes; `cli::exit_code` is where `--help` and deploy scripts have always found them.
pub use crate::exit_code;

/// Trade Forge Migrator: applies the migrations, Kafka topics and indicator catalogue compiled
/// into this binary.
///
/// Logs go to stderr, the plan and the summaries to stdout.
#[derive(Debug, Parser)]
#[command(name = "migrator", version, after_help = MAIN_AFTER_HELP)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// Read variables from this dotenv file before the environment; a variable already set in the
    /// environment wins over the file.
    #[arg(long, global = true, value_name = "PATH")]
    pub env_file: Option<PathBuf>,

    /// Log format on stderr: `json` (one object per line), `text`, or `auto` (text when stderr
    /// is a terminal, JSON otherwise).
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Auto, value_name = "FORMAT")]
    pub log_format: LogFormat,

    /// Log level or filter directives (`debug`, `info,sqlx=warn`) [default: `RUST_LOG`, else
    /// `info`].
    #[arg(long, global = true, value_name = "FILTER")]
    pub log_level: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply the plan: PostgreSQL → ClickHouse → MongoDB → Kafka → indicators, stopping at the first
    /// failure.
    ///
    /// Each target is health-checked first (retried until `--wait` runs out), then brought to the
    /// plan; a second run with nothing to do changes nothing. When `MIGRATE` is set to anything
    /// but `enabled`, logs that migrations are disabled and exits 0 without contacting a server.
    /// With `--dry-run`, prints the SQL and admin operations it would run and changes nothing;
    /// the Kafka broker is asked to validate the topics it would create.
    #[command(after_long_help = MIGRATE_AFTER_HELP, after_help = MIGRATE_AFTER_HELP)]
    Migrate(MigrateArgs),

    /// Show where each target stands against the plan: the version it is at, the plan's head,
    /// what is pending and what does not match (drift), without changing anything.
    ///
    /// Exits 0 when every selected target is at the plan and 4 when something is pending or
    /// wrong, so a deploy can check a database before starting the services.
    #[command(after_help = STATUS_AFTER_HELP)]
    Status(StatusArgs),

    /// For CI: exit 4, saying why, when the servers and this binary's plan disagree (pending
    /// migrations, drift, topics that differ, indicators out of date); exit 0 when they match.
    ///
    /// The same reading as `status` (`alembic check` for the whole platform); changes nothing.
    #[command(after_help = CHECK_AFTER_HELP)]
    Check(StatusArgs),

    /// Print the plan compiled into this binary (migrations, topics, indicators and the plan
    /// fingerprint) without contacting any server.
    ///
    /// With `--sql`, print every upgrade statement instead, as `migrate` would run them on empty
    /// servers (`alembic upgrade head --sql`).
    #[command(after_help = PLAN_AFTER_HELP)]
    Plan(PlanArgs),

    /// Show what was applied to PostgreSQL and ClickHouse: version, description, when, how long
    /// it took, and any migration ClickHouse left half-applied.
    #[command(after_help = HISTORY_AFTER_HELP)]
    History(HistoryArgs),

    /// Apply the pending migrations of one database, all of them or up to `--to`.
    #[command(after_help = UP_AFTER_HELP)]
    Up(UpArgs),

    /// Undo migrations of one database: the last one, or every one above `--to` (`base`: all),
    /// newest first, each with its downgrade.
    ///
    /// Asks for confirmation on a terminal; elsewhere `--yes` is required.
    #[command(after_help = DOWN_AFTER_HELP)]
    Down(DownArgs),

    /// Undo the last migration of one database and apply it again: for trying a migration out
    /// on your own database.
    ///
    /// Asks for confirmation on a terminal; elsewhere `--yes` is required.
    #[command(after_help = REDO_AFTER_HELP)]
    Redo(RedoArgs),

    /// Create the next-numbered upgrade and downgrade files of a new migration.
    ///
    /// Writes `migrations/<target>/upgrade/V<next>-<description>.sql` and its downgrade under
    /// the current directory (or `--dir`), each with a header saying what to write; the build
    /// refuses them until both hold SQL. Never overwrites a file.
    #[command(after_help = NEW_AFTER_HELP)]
    New(NewArgs),

    /// Record the plan's migrations up to a version as applied without running them, for a
    /// database whose schema another tool (Alembic, migrate.py) already created.
    ///
    /// Refuses when the database already has history.
    #[command(after_help = BASELINE_AFTER_HELP)]
    Baseline(BaselineArgs),

    /// Accept the database as it is after a fix by hand: clear a half-applied mark, record a
    /// migration whose history row was lost, record the plan's checksums and downgrades for
    /// edited migrations. Prints what it will record and asks first (`--yes` in scripts).
    #[command(after_help = REPAIR_AFTER_HELP)]
    Repair(RepairArgs),

    /// Prove that every downgrade undoes its upgrade. ONLY ON A SCRATCH DATABASE: it applies and
    /// reverts every migration.
    ///
    /// On a database with an empty history (it refuses any other), applies the migrations one at
    /// a time, then walks down to base and up again one version at a time, comparing the schema
    /// after each downgrade with the schema before the matching upgrade. The first difference
    /// fails (exit 1) naming the migration, its downgrade file and what differs. With
    /// `--create-scratch`, runs on a fresh `tfm_verify_<random>` database made on the configured
    /// server and dropped afterwards.
    #[command(after_help = VERIFY_AFTER_HELP)]
    VerifyDowngrades(VerifyDowngradesArgs),

    /// Convert another tool's migration folder (golang-migrate, dbmate, goose, sqlx) into
    /// `migrations/<target>/{upgrade,downgrade}/`, keeping the version numbers.
    ///
    /// Splits one-file formats, maps their no-transaction markers to `-- migrator:no-transaction`,
    /// and lists what needs a person: missing or empty downgrades (written with a placeholder) and
    /// what the build will refuse. Never overwrites a file.
    #[command(after_help = IMPORT_AFTER_HELP)]
    Import(ImportArgs),

    /// Back up the servers now, as `migrate --backup` does before a deploy: PostgreSQL with
    /// pg_dump, ClickHouse schema + FREEZE, Kafka topic configs; one folder per backup with a
    /// checksummed manifest. Holds the run lock.
    #[command(after_help = crate::commands::backup::BACKUP_AFTER_HELP)]
    Backup(crate::commands::backup::BackupArgs),

    /// List the backups in the backup folder, oldest first; an interrupted one is marked
    /// INCOMPLETE. Contacts no server.
    Backups(crate::commands::backup::BackupsArgs),

    /// Bring PostgreSQL back to a backup (schema, rows, history), after taking a safety backup
    /// of the current state; print the steps for ClickHouse and Kafka. Refuses a backup whose
    /// checksums do not match. Asks first (`--yes` in scripts).
    #[command(after_help = crate::commands::backup::RESTORE_AFTER_HELP)]
    Restore(crate::commands::backup::RestoreArgs),
}

/// `migrator migrate`.
#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// Only these targets, in the fixed order whatever order they are given in [default: all]
    #[arg(value_enum, value_name = "TARGET")]
    pub targets: Vec<TargetName>,

    /// Delete the Kafka topics that `kafka_topics.yml` marks `deleted: true`; without it they are
    /// only reported.
    #[arg(long)]
    pub allow_delete: bool,

    /// Print the SQL statements and admin operations `migrate` would run against the servers as
    /// they are now, in order, and change nothing (no run lock is taken).
    #[arg(long)]
    pub dry_run: bool,

    #[command(flatten)]
    pub backup: crate::commands::backup::MigrateBackupArgs,

    #[command(flatten)]
    pub connection: ConnectionArgs,

    #[command(flatten)]
    pub lock: LockArgs,
}

/// How `status` and `check` print.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Lines for people.
    #[default]
    Text,
    /// One JSON document, for machines.
    Json,
}

/// `migrator status` and `migrator check`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Only these targets, in the fixed order [default: all]
    #[arg(value_enum, value_name = "TARGET")]
    pub targets: Vec<TargetName>,

    /// `text` for people, `json` for machines
    #[arg(long, value_enum, default_value_t = OutputFormat::Text, value_name = "FORMAT")]
    pub format: OutputFormat,

    #[command(flatten)]
    pub connection: ConnectionArgs,
}

/// `migrator plan`.
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Print every upgrade statement (with `;`), then the topic and indicator operations, as they
    /// would run on empty servers; no server is contacted.
    #[arg(long)]
    pub sql: bool,

    /// With `--sql`: only these targets [default: all]
    #[arg(value_enum, value_name = "TARGET", requires = "sql")]
    pub targets: Vec<TargetName>,

    /// With `--sql`: the ClickHouse statements as they run on this cluster (`ON CLUSTER` it)
    /// rather than on a single server [env: CLICKHOUSE_CLUSTER]
    #[arg(long, value_name = "NAME", requires = "sql")]
    pub clickhouse_cluster: Option<String>,

    /// Check that this binary's plan was compiled from the sources under ROOT (the folder
    /// holding `migrations/`): recompute the fingerprint from the files and compare; exit 1 when
    /// they differ (a stale build)
    #[arg(long, value_name = "ROOT", conflicts_with = "sql")]
    pub check_sources: Option<PathBuf>,
}

/// `migrator history`.
#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// Only this database [default: postgres and clickhouse]
    #[arg(long, value_enum, value_name = "TARGET")]
    pub target: Option<SqlTarget>,

    /// Also show each migration's checksum (and whether the plan's file still has it), the
    /// size of the downgrade stored with it, and the backup (in `--backup-dir`) that preceded
    /// each run
    #[arg(short, long)]
    pub verbose: bool,

    #[command(flatten)]
    pub backup: crate::commands::backup::BackupDirArgs,

    #[command(flatten)]
    pub connection: ConnectionArgs,
}

/// `migrator up`.
#[derive(Debug, Args)]
pub struct UpArgs {
    /// The database to migrate
    #[arg(long, value_enum, value_name = "TARGET")]
    pub target: SqlTarget,

    /// The last version to apply (`5`, `V0005`, or `head`) [default: head, every pending one]
    #[arg(long, value_name = "VERSION", value_parser = parse_upgrade_target)]
    pub to: Option<UpgradeTarget>,

    #[command(flatten)]
    pub connection: ConnectionArgs,

    #[command(flatten)]
    pub lock: LockArgs,
}

/// `migrator down`.
#[derive(Debug, Args)]
pub struct DownArgs {
    /// The database to roll back
    #[arg(long, value_enum, value_name = "TARGET")]
    pub target: SqlTarget,

    /// The version to stay at (`3`, `V0003`), or `base` to undo everything [default: undo only
    /// the last applied migration]
    #[arg(long, value_name = "VERSION", value_parser = parse_version_target)]
    pub to: Option<VersionTarget>,

    /// Do not ask for confirmation (required when stdin is not a terminal)
    #[arg(short, long)]
    pub yes: bool,

    #[command(flatten)]
    pub connection: ConnectionArgs,

    #[command(flatten)]
    pub lock: LockArgs,
}

/// `migrator redo`.
#[derive(Debug, Args)]
pub struct RedoArgs {
    /// The database whose last migration to redo
    #[arg(long, value_enum, value_name = "TARGET")]
    pub target: SqlTarget,

    /// Do not ask for confirmation (required when stdin is not a terminal)
    #[arg(short, long)]
    pub yes: bool,

    #[command(flatten)]
    pub connection: ConnectionArgs,

    #[command(flatten)]
    pub lock: LockArgs,
}

/// `migrator new`.
#[derive(Debug, Args)]
pub struct NewArgs {
    /// The database the migration is for
    #[arg(value_enum, value_name = "TARGET")]
    pub target: SqlTarget,

    /// What the migration does, e.g. "add orders table" (becomes `add_orders_table` in the file
    /// names)
    #[arg(value_name = "DESCRIPTION")]
    pub description: String,

    /// The sources root holding `migrations/` [default: the current directory]
    #[arg(long, value_name = "ROOT")]
    pub dir: Option<PathBuf>,

    /// Create a PostgreSQL data migration in Rust (`migrations/postgres/data/<description>.rs`)
    /// instead of an SQL pair
    #[arg(long)]
    pub data: bool,
}

/// `migrator import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The tool the folder comes from
    #[arg(value_enum, value_name = "TOOL")]
    pub tool: crate::commands::import::Tool,

    /// The folder holding its migration files
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,

    /// The database the migrations are for
    #[arg(long, value_enum, value_name = "TARGET")]
    pub target: SqlTarget,

    /// The `migrations` folder of the sources root to write into
    #[arg(long, value_name = "FOLDER", default_value = "migrations")]
    pub into: PathBuf,
}

/// `migrator baseline`.
#[derive(Debug, Args)]
pub struct BaselineArgs {
    /// The database to baseline
    #[arg(long, value_enum, value_name = "TARGET")]
    pub target: SqlTarget,

    /// The last version whose schema is already there (`7`, `V0007`)
    #[arg(value_name = "VERSION", value_parser = parse_version)]
    pub version: u64,

    #[command(flatten)]
    pub connection: ConnectionArgs,

    #[command(flatten)]
    pub lock: LockArgs,
}

/// `migrator verify-downgrades`.
#[derive(Debug, Args)]
pub struct VerifyDowngradesArgs {
    /// Only this database [default: postgres and clickhouse]
    #[arg(long, value_enum, value_name = "TARGET")]
    pub target: Option<SqlTarget>,

    /// Create a fresh `tfm_verify_<random>` database on the configured server (PostgreSQL: needs
    /// CREATEDB), verify there and drop it afterwards; without it, the configured database must
    /// be a scratch database with an empty history
    #[arg(long)]
    pub create_scratch: bool,

    /// Report every downgrade that does not undo its upgrade, not only the first: the walk goes
    /// on, expecting what a broken downgrade left behind, and the run fails at the end
    #[arg(long)]
    pub keep_going: bool,

    #[command(flatten)]
    pub connection: ConnectionArgs,
}

/// `migrator repair`.
#[derive(Debug, Args)]
pub struct RepairArgs {
    /// Only this database [default: postgres and clickhouse]
    #[arg(long, value_enum, value_name = "TARGET")]
    pub target: Option<SqlTarget>,

    /// Do not ask for confirmation (required when stdin is not a terminal)
    #[arg(short, long)]
    pub yes: bool,

    #[command(flatten)]
    pub connection: ConnectionArgs,

    #[command(flatten)]
    pub lock: LockArgs,
}

/// Where the servers are; each flag wins over its environment variable.
#[derive(Debug, Args)]
#[command(next_help_heading = "Connections")]
pub struct ConnectionArgs {
    /// PostgreSQL URL [env: DATABASE_URL]
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,

    /// ClickHouse HTTP URL [env: CLICKHOUSE_URL]
    #[arg(long, value_name = "URL")]
    pub clickhouse_url: Option<String>,

    /// The ClickHouse cluster the database lives on (its name in `system.clusters`): DDL runs
    /// `ON CLUSTER` it and the history is replicated [env: CLICKHOUSE_CLUSTER]
    #[arg(long, value_name = "NAME")]
    pub clickhouse_cluster: Option<String>,

    /// With a ClickHouse cluster: run even when some of its hosts do not answer before the run;
    /// their DDL waits in the cluster's queue until they are back
    #[arg(long)]
    pub allow_lagging_replicas: bool,

    /// Kafka brokers, `host:port` separated by commas [env: KAFKA_BOOTSTRAP_SERVERS]
    #[arg(long, value_name = "SERVERS")]
    pub kafka_bootstrap_servers: Option<String>,

    /// A librdkafka property as `key=value` (`security.protocol=SASL_SSL`); repeatable, wins
    /// over the same key in `KAFKA_CONFIG`
    #[arg(long, value_name = "KEY=VALUE")]
    pub kafka_config: Vec<String>,

    /// How long to wait for each server to pass its health check (`30s`, `2m`) [default: 60s]
    #[arg(long, value_name = "DURATION")]
    pub wait: Option<String>,

    /// How long one PostgreSQL migration waits for a table lock another session holds before it
    /// fails, naming that session (PostgreSQL `lock_timeout`; `0s`: no limit) [default: 10s]
    /// [env: MIGRATOR_MIGRATION_LOCK_TIMEOUT]
    #[arg(long, value_name = "DURATION", help_heading = "Timeouts")]
    pub migration_lock_timeout: Option<String>,

    /// How long one migration statement may run (PostgreSQL `statement_timeout`, ClickHouse
    /// `max_execution_time`; `0s`: no limit) [default: no limit] [env: MIGRATOR_STATEMENT_TIMEOUT]
    #[arg(long, value_name = "DURATION", help_heading = "Timeouts")]
    pub statement_timeout: Option<String>,

    /// How long a server may leave a request unanswered before the run stops, naming the server
    /// (a stalled connection); a migration's own SQL gets this on top of `--statement-timeout`
    /// [default: 30s] [env: MIGRATOR_IO_TIMEOUT]
    #[arg(long, value_name = "DURATION", help_heading = "Timeouts")]
    pub io_timeout: Option<String>,
}

/// The PostgreSQL advisory lock that keeps two migrators from changing the servers at once.
#[derive(Debug, Args)]
#[command(next_help_heading = "Run lock")]
pub struct LockArgs {
    /// How long to wait for a run lock held by another migrator (`30s`, `5m`; `0s` tries once)
    /// [default: 5m] [env: MIGRATOR_LOCK_TIMEOUT]
    #[arg(long, value_name = "DURATION")]
    pub lock_timeout: Option<String>,

    /// A direct PostgreSQL URL to hold the run lock on, when DATABASE_URL goes through PgBouncer;
    /// parts it leaves out come from DATABASE_URL [env: MIGRATOR_LOCK_DATABASE_URL]
    #[arg(long, value_name = "URL")]
    pub lock_database_url: Option<String>,
}

/// Where `up` stops.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UpgradeTarget {
    /// Every pending migration.
    Head,
    /// Up to and including this version.
    Version(u64),
}

impl UpgradeTarget {
    /// The `to` of `VersionedTarget::upgrade_to`.
    pub fn as_option(self) -> Option<u64> {
        match self {
            UpgradeTarget::Head => None,
            UpgradeTarget::Version(version) => Some(version),
        }
    }
}

/// `7`, `07`, `V7`, `v0007` → 7. Zero is not a version (it stands for `base`).
pub fn parse_version(text: &str) -> Result<u64, String> {
    let digits = text.trim().strip_prefix(['V', 'v']).unwrap_or(text.trim());
    let malformed = || format!("`{text}` is not a migration version; write it like `7`, `V7` or `V0007`");
    if digits.is_empty() || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(malformed());
    }
    match digits.parse::<u64>() {
        Ok(0) => Err(format!("`{text}`: version 0 stands for the database before any migration; write `base`")),
        Ok(version) => Ok(version),
        Err(_) => Err(malformed()),
    }
}

/// `base` or a version, for `down --to`.
pub fn parse_version_target(text: &str) -> Result<VersionTarget, String> {
    if text.trim().eq_ignore_ascii_case("base") {
        return Ok(VersionTarget::Base);
    }
    parse_version(text).map(VersionTarget::Version).map_err(|error| format!("{error}, or `base`"))
}

/// `head` or a version, for `up --to`.
pub fn parse_upgrade_target(text: &str) -> Result<UpgradeTarget, String> {
    if text.trim().eq_ignore_ascii_case("head") {
        return Ok(UpgradeTarget::Head);
    }
    parse_version(text).map(UpgradeTarget::Version).map_err(|error| format!("{error}, or `head`"))
}

/// `--target postgres|clickhouse` and `new <postgres|clickhouse>`: only the SQL databases have
/// versions. Spelt as `TargetName` spells them.
impl ValueEnum for SqlTarget {
    fn value_variants<'a>() -> &'a [Self] {
        &[SqlTarget::Postgres, SqlTarget::ClickHouse, SqlTarget::MongoDb]
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(self.name()))
    }
}

/// The databases `--target` names, or both when it is not given.
pub fn sql_targets(target: Option<SqlTarget>) -> Vec<SqlTarget> {
    target.map_or_else(|| vec![SqlTarget::Postgres, SqlTarget::ClickHouse, SqlTarget::MongoDb], |target| vec![target])
}

impl MigrateArgs {
    /// The selected targets in run order, each once; all of them when none is named.
    pub fn selected_targets(&self) -> Vec<TargetName> {
        in_run_order(&self.targets)
    }
}

impl StatusArgs {
    /// The selected targets in run order, each once; all of them when none is named.
    pub fn selected_targets(&self) -> Vec<TargetName> {
        in_run_order(&self.targets)
    }
}

impl PlanArgs {
    /// The selected targets in run order, each once; all of them when none is named.
    pub fn selected_targets(&self) -> Vec<TargetName> {
        in_run_order(&self.targets)
    }
}

pub(crate) fn in_run_order(named: &[TargetName]) -> Vec<TargetName> {
    if named.is_empty() {
        return TargetName::ALL.to_vec();
    }
    let mut targets = named.to_vec();
    targets.sort();
    targets.dedup();
    targets
}

impl ConnectionArgs {
    /// The connection flags, without run-lock settings (for commands that take no lock).
    pub fn overrides(&self) -> Overrides {
        Overrides {
            database_url: self.database_url.clone(),
            clickhouse_url: self.clickhouse_url.clone(),
            clickhouse_cluster: self.clickhouse_cluster.clone(),
            allow_lagging_replicas: self.allow_lagging_replicas,
            kafka_bootstrap_servers: self.kafka_bootstrap_servers.clone(),
            kafka_config: self.kafka_config.clone(),
            wait: self.wait.clone(),
            migration_lock_timeout: self.migration_lock_timeout.clone(),
            statement_timeout: self.statement_timeout.clone(),
            io_timeout: self.io_timeout.clone(),
            ..Overrides::default()
        }
    }

    /// The connection flags together with the run-lock flags.
    pub fn overrides_with_lock(&self, lock: &LockArgs) -> Overrides {
        Overrides {
            lock_database_url: lock.lock_database_url.clone(),
            lock_timeout: lock.lock_timeout.clone(),
            ..self.overrides()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_read_with_or_without_v_and_zeros() {
        for text in ["7", "07", "V7", "v0007", " V0007 "] {
            assert_eq!(parse_version(text), Ok(7), "{text}");
        }
        for text in ["", "V", "x7", "7a", "-1", "V 7", "99999999999999999999999"] {
            assert!(parse_version(text).is_err(), "{text}");
        }
        assert!(parse_version("0").unwrap_err().contains("`base`"));
    }

    #[test]
    fn down_takes_base_and_up_takes_head() {
        assert_eq!(parse_version_target("base"), Ok(VersionTarget::Base));
        assert_eq!(parse_version_target("V3"), Ok(VersionTarget::Version(3)));
        assert!(parse_version_target("head").is_err());
        assert_eq!(parse_upgrade_target("HEAD"), Ok(UpgradeTarget::Head));
        assert_eq!(parse_upgrade_target("0005"), Ok(UpgradeTarget::Version(5)));
        assert!(parse_upgrade_target("base").is_err());
    }

    #[test]
    fn the_command_line_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
