//! PostgreSQL: applies `plan.postgres` in ascending version order, each migration in one
//! transaction together with its `migration_history` row; undoes migrations newest first; and
//! gives the operator `baseline`, `repair`, the pending SQL and the run lock.
//!
//! - History: `migration_history` (see `postgres/history.rs`) keeps each applied migration's
//!   checksum and its downgrade as applied, so an older binary that meets versions it does not
//!   know (after an application rollback) can still undo them.
//! - Drift (see `postgres/drift.rs`): `migrate`/`up` and the dry run refuse before running
//!   anything when a newer release migrated the database, when an applied migration is gone from
//!   the plan below its head, or when an applied migration's file changed; `status` lists all of
//!   them. `down` only refuses edited migrations; `repair` accepts the drift it can.
//! - Running a script (see `postgres/execute.rs`): whole in one transaction with its history
//!   change, or statement by statement for `-- migrator:no-transaction` scripts.
//! - The run lock (see `postgres/lock.rs`, [`RunLock`]): a session advisory lock on a connection
//!   of its own, refused behind a transaction-pooling PgBouncer.
//!
//! # Adopting a database managed by Alembic (or any other tool)
//!
//! 1. `alembic current` prints the revision the database is at. Find the migration of
//!    `migrations/postgres` that brings a fresh database to the same schema, say V7; check it by
//!    comparing `pg_dump --schema-only` of the database with that of a scratch database brought
//!    there with `up --to 7`.
//! 2. Run `baseline` at V7 ([`VersionedTarget::baseline`]): it records V1..V7 in
//!    `migration_history` as applied, with the plan's checksums and downgrades and an execution
//!    time of 0, and runs nothing. It refuses a database whose history is not empty.
//! 3. `migrate` then applies only V8 onwards.
//!
//! The migrator never reads or writes `alembic_version`: leave it while Alembic may still run
//! against the database, and drop it (`DROP TABLE alembic_version`) once Alembic is retired.
//!
//! # What guards ClickHouse and Kafka
//!
//! ClickHouse has no session locks and Kafka no locks at all, so the PostgreSQL run lock is the
//! one lock of a run: whoever wires the commands takes [`RunLock`] whenever PostgreSQL is
//! configured and reachable, before the first target runs, even when the run migrates only
//! ClickHouse, Kafka or the indicators, and holds it until the last target is done.

mod catalog;
mod connection;
mod execute;
mod history;
mod intent;
mod lock;
pub mod schema;
mod watch;

use sqlx::Connection as _;

use self::connection::bounded;
pub(crate) use self::connection::{describe_error, is_undefined_table, Connection};
use self::execute::Step;
pub use self::history::HistoryRow;
pub use self::lock::{working_application_name, RunLock, RUN_LOCK_KEY};
use super::versioned::runner::Backend;
pub use super::versioned::Direction;
use super::versioned::{self, VersionedError};
use super::{
    ApplyOptions, Changes, Checkpoint, Failure, HistoryEntry, Status, Stop, Target, TargetName, VersionedTarget,
};
use crate::config::PostgresConfig;
use crate::plan::{Migration, Plan};

#[derive(Debug, thiserror::Error)]
pub enum PostgresError {
    /// A refusal shared with the other SQL target (`targets::versioned`), boxed to keep the
    /// error small.
    #[error(transparent)]
    Versioned(Box<VersionedError>),
    #[error("cannot connect to PostgreSQL at `{server}`: {reason}; {fix}")]
    Connect {
        server: String,
        reason: String,
        fix: String,
        /// Waiting cannot fix it (a refused password, a missing database, TLS): see
        /// [`PostgresError::is_permanent`].
        permanent: bool,
    },
    #[error("`{server}`: unsupported connection parameter `{key}` in DATABASE_URL; supported: {supported}")]
    UnsupportedParameter { server: String, key: String, supported: String },
    #[error("`{server}`: invalid `sslmode={value}` in DATABASE_URL; use disable, allow, prefer, require, verify-ca or verify-full")]
    InvalidSslMode { server: String, value: String },
    #[error("`{server}`: cannot {action}: {reason}")]
    Query { server: String, action: String, reason: String },
    #[error("{location}: {direction} of V{version} {description} failed on `{server}`: {reason}; {consequence}")]
    Migration {
        server: String,
        direction: Direction,
        version: u64,
        // Boxed strings keep the error, returned everywhere, small.
        description: Box<str>,
        /// `path` or `path:line:column` of the failing SQL; for a downgrade stored in history,
        /// `` `migration_history` (downgrade_sql of V<n>) ``.
        location: String,
        reason: String,
        /// What state the failure left the database in, and what to do.
        consequence: Box<str>,
    },
    #[error("`{server}`: `migration_history` holds version {version}, which no migration file can have; fix or delete that row")]
    InvalidHistoryVersion { server: String, version: i64 },
    #[error("{path}: version {version} does not fit PostgreSQL's BIGINT; renumber the migration")]
    VersionOutOfRange { path: &'static str, version: u64 },
    #[error(
        "`{server}`: the downgrade of V{version} stored in `migration_history` cannot be split into statements: \
         {reason}; undo V{version} by hand, then delete its row"
    )]
    StoredDowngradeUnreadable { server: String, version: u64, reason: String },
    #[error(
        "`{server}`: {label} is a Rust data migration that this release does not know (history says: `{note}`); \
         its downgrade exists only as code in the release that applied it: run `down` with that release"
    )]
    UnknownDataMigration { server: String, label: String, note: String },
    #[error(
        "`{server}`: the row of V{version} disappeared from `migration_history` during its downgrade; another \
         migrator is running against this database without the run lock: stop it, then check `history`"
    )]
    HistoryRowVanished { server: String, version: u64 },
    #[error(
        "run lock: {source}; the lock connection uses MIGRATOR_LOCK_DATABASE_URL when it is set, else DATABASE_URL"
    )]
    LockConnection { source: Box<PostgresError> },
    #[error(
        "`{server}`: the run lock (PostgreSQL advisory lock {key}) is still taken after {waited}, {holder}: another \
         migrator is running against this database; let it finish and run again, or wait longer with \
         `--lock-timeout`{terminate}",
        key = RUN_LOCK_KEY,
        terminate = pid.map(|pid| format!(
            "; if that migrator is stuck, end {} with `SELECT pg_terminate_backend({pid})`",
            if *working { "its working session (it then stops and releases the lock)" } else { "that session" }
        )).unwrap_or_default()
    )]
    LockTimeout {
        server: String,
        waited: String,
        holder: String,
        /// The session to end: the holder's working session when it names one, else the lock's.
        pid: Option<i32>,
        working: bool,
    },
    #[error(
        "`{server}`: cannot hold the run lock through this connection: it does not keep one server session \
         (two statements on it ran in backends {first} and {second}, and another connection was given backend \
         {other}), as behind PgBouncer in transaction or \
         statement pooling, where a session lock protects nothing; set MIGRATOR_LOCK_DATABASE_URL (or \
         `--lock-database-url`) to a direct, non-pooled URL of the same database, used for the lock alone"
    )]
    LockBehindPooler { server: String, first: i32, other: i32, second: i32 },
    #[error(
        "`{server}` did not answer within {waited} (--io-timeout) while {action}: {reason}; the connection or the \
         server stalled, and the run stopped; {consequence}; check the server and the network between, or raise \
         --io-timeout (MIGRATOR_IO_TIMEOUT) if the server is only slow"
    )]
    Stalled { server: String, action: String, waited: String, reason: String, consequence: String },
    /// The run lock was lost or a signal asked to stop (see `targets::checkpoint`).
    #[error("{0}")]
    Stopped(#[from] Stop),
    /// A stop between the statements of a `-- migrator:no-transaction` script (only a lost lock
    /// stops there).
    #[error(
        "{source}, after statement {done} of {total} of V{version} {description}'s `-- migrator:no-transaction` \
         {direction}: those statements stay applied and V{version} is {recorded}; {next}"
    )]
    StoppedPartWay {
        source: Stop,
        direction: Direction,
        version: u64,
        description: Box<str>,
        done: usize,
        total: usize,
        recorded: &'static str,
        /// What the next run does about it.
        next: &'static str,
    },
}

impl From<VersionedError> for PostgresError {
    fn from(error: VersionedError) -> Self {
        PostgresError::Versioned(Box::new(error))
    }
}

/// Applies `plan.postgres` to one database. Connects on first use (normally the health check).
pub struct PostgresTarget {
    connection: Connection,
    checkpoint: Checkpoint,
}

impl PostgresTarget {
    pub fn new(config: &PostgresConfig) -> Self {
        PostgresTarget { connection: Connection::new(config), checkpoint: Checkpoint::default() }
    }

    /// The applied migrations in ascending version order; empty when `migration_history` does
    /// not exist yet. Creates nothing.
    pub async fn history(&mut self) -> Result<Vec<HistoryRow>, PostgresError> {
        let server = self.connection.server();
        let config = self.connection.config().clone();
        let connection = self.connection.get().await?;
        let read = history::read_if_exists(connection, &server);
        Ok(bounded(&config, &server, "reading `migration_history`", read).await?.unwrap_or_default())
    }

    /// The database's schema as sorted text lines, `migration_history` left out (see
    /// `postgres/schema.rs`): what `verify-downgrades` compares.
    pub async fn schema_dump(&mut self) -> Result<String, PostgresError> {
        let server = self.connection.server();
        let connection = self.connection.get().await?;
        schema::dump(connection, &server).await
    }

    /// Creates `migration_history` if it is missing and reads it.
    async fn prepare_history(&mut self) -> Result<Vec<HistoryRow>, PostgresError> {
        let server = self.connection.server();
        let config = self.connection.config().clone();
        let connection = self.connection.get().await?;
        bounded(&config, &server, "reading `migration_history`", history::read_or_create(connection, &server)).await
    }

    /// The connection the health check opened, for the run lock to take over (see
    /// `commands::lock`): one connection fewer per run.
    pub(crate) fn into_connection(self) -> Option<sqlx::PgConnection> {
        self.connection.into_inner()
    }
}

impl Target for PostgresTarget {
    type Error = PostgresError;

    fn name(&self) -> TargetName {
        TargetName::Postgres
    }

    fn set_checkpoint(&mut self, checkpoint: Checkpoint) {
        self.checkpoint = checkpoint;
    }

    async fn health_check(&mut self) -> Result<(), PostgresError> {
        self.connection.health_check().await
    }

    fn is_permanent(error: &PostgresError) -> bool {
        error.is_permanent()
    }

    async fn status(&mut self, plan: &Plan) -> Result<Status, PostgresError> {
        let server = self.connection.server();
        let config = self.connection.config().clone();
        let connection = self.connection.get().await?;
        let read = async {
            let read = history::read_if_exists(connection, &server).await?;
            let intents = intent::read(connection, &server).await?;
            let refusal = match &read {
                None if !plan.postgres.is_empty() => {
                    let tables = catalog::tables_besides_history(connection, &server).await?;
                    versioned::refuse_schema_without_history(plan.postgres, tables, &server, TargetName::Postgres)
                }
                _ => Ok(()),
            };
            Ok((read, intents, refusal))
        };
        let (read, intents, refusal) = bounded(&config, &server, "reading `migration_history`", read).await?;
        let entries = entries_with_intents(&read.unwrap_or_default(), &intents, plan.postgres);
        let mut status = versioned::drift::status(plan.postgres, &entries);
        status.problems.extend(intents.iter().map(intent_problem));
        if let Err(refusal) = refusal {
            status.problems.push(refusal.to_string());
        }
        Ok(status)
    }

    async fn apply(&mut self, plan: &Plan, _options: &ApplyOptions) -> Result<Changes, Failure<PostgresError>> {
        self.upgrade_to(plan, None).await
    }
}

impl VersionedTarget for PostgresTarget {
    /// Accepts what the operator decided, in one transaction, one line per row it looked at:
    /// - an applied migration whose file changed (or whose description or downgrade changed):
    ///   its row takes the plan's description, checksum and downgrade;
    /// - an applied version below the plan's head that the plan no longer has: its row is
    ///   deleted (what it created stays; the stored downgrade is logged with
    ///   `postgresql_migrator.history_row_forgotten`);
    /// - an applied version above the plan's head (a newer release's): left as it is, and said
    ///   so: `down` can still undo it with its stored downgrade.
    async fn repair(&mut self, plan: &Plan) -> Result<Changes, PostgresError> {
        let history = self.history().await?;
        let server = self.connection.server();
        let connection = self.connection.get().await?;
        let intents = intent::read(connection, &server).await?;
        let fixes = repair_fixes(&history, &intents, plan.postgres);
        let mut transaction =
            connection.begin().await.map_err(|error| query_error(&server, "begin the repair", &error))?;
        let mut changes = Changes::default();
        for fix in fixes {
            match fix.write {
                RepairWrite::Accept(migration) => accept(&mut transaction, &server, migration, &fix.line).await?,
                RepairWrite::Forget(row) => forget(&mut transaction, &server, row).await?,
                RepairWrite::Record(migration) => {
                    history::insert(&mut transaction, migration, 0).await.map_err(|error| {
                        query_error(&server, &format!("record V{} in `migration_history`", migration.version), &error)
                    })?;
                    if intents.iter().any(|intent| intent.version == migration.version) {
                        intent::delete(&mut transaction, migration.version).await.map_err(|error| {
                            query_error(&server, &format!("clear V{} in `migration_intent`", migration.version), &error)
                        })?;
                    }
                    tracing::info!(
                        event = "postgresql_migrator.history_row_recorded",
                        target = "postgres",
                        version = migration.version,
                        "{}",
                        fix.line
                    );
                }
                RepairWrite::Nothing => {}
            }
            changes.push(fix.line);
        }
        transaction.commit().await.map_err(|error| query_error(&server, "commit the repair", &error))?;
        Ok(changes)
    }

    async fn repair_preview(&mut self, plan: &Plan) -> Result<Changes, PostgresError> {
        let history = self.history().await?;
        let server = self.connection.server();
        let intents = intent::read(self.connection.get().await?, &server).await?;
        let fixes = repair_fixes(&history, &intents, plan.postgres);
        Ok(Changes(
            fixes.into_iter().filter(|fix| !matches!(fix.write, RepairWrite::Nothing)).map(|fix| fix.line).collect(),
        ))
    }
}

/// PostgreSQL's primitives for the engine (`targets::versioned::runner`).
impl Backend for PostgresTarget {
    fn migrations(plan: &Plan) -> &'static [Migration] {
        plan.postgres
    }

    fn checkpoint(&self) -> &Checkpoint {
        &self.checkpoint
    }

    fn server(&self) -> String {
        self.connection.server()
    }

    async fn read_history(&mut self) -> Result<Option<Vec<HistoryEntry>>, PostgresError> {
        let server = self.connection.server();
        let config = self.connection.config().clone();
        let connection = self.connection.get().await?;
        let read = async {
            let read = history::read_if_exists(connection, &server).await?;
            let intents = intent::read(connection, &server).await?;
            Ok((read, intents))
        };
        let (read, intents) = bounded(&config, &server, "reading `migration_history`", read).await?;
        // Without a history table there can be no intent either: `migrate` creates both.
        Ok(read.map(|history| entries_with_intents(&history, &intents, &[])))
    }

    async fn objects_without_history(&mut self) -> Result<Vec<String>, PostgresError> {
        let server = self.connection.server();
        let config = self.connection.config().clone();
        let connection = self.connection.get().await?;
        bounded(&config, &server, "reading the catalog", catalog::tables_besides_history(connection, &server)).await
    }

    /// `migration_history.version` is a BIGINT: a version beyond it could never be recorded.
    fn check_plan(&self, plan: &'static [Migration]) -> Result<(), PostgresError> {
        match plan.iter().find(|migration| i64::try_from(migration.version).is_err()) {
            Some(migration) => {
                Err(PostgresError::VersionOutOfRange { path: migration.upgrade.path, version: migration.version })
            }
            None => Ok(()),
        }
    }

    /// A stored downgrade must split into statements before anything is undone.
    fn check_step(&self, step: &versioned::Step<'_>) -> Result<(), PostgresError> {
        if let versioned::Step::Downgrade { entry, planned: None } = step {
            Step::stored_downgrade(entry, &self.connection.server())?;
        }
        Ok(())
    }

    async fn prepare_history(&mut self, direction: Direction, _steps: usize) -> Result<(), PostgresError> {
        if direction == Direction::Upgrade {
            self.prepare_history().await?;
        }
        Ok(())
    }

    async fn run_step(&mut self, step: &versioned::Step<'_>, checkpoint: &Checkpoint) -> Result<String, PostgresError> {
        let server = self.connection.server();
        let config = self.connection.config().clone();
        let connection = self.connection.get().await?;
        match step {
            versioned::Step::Upgrade { migration, .. } => {
                let execution_ms =
                    execute::run(connection, &config, &server, &Step::upgrade(migration), checkpoint).await?;
                Ok(format!("V{} {} ({execution_ms} ms)", migration.version, migration.description))
            }
            versioned::Step::Downgrade { entry, planned } => {
                let step = match planned {
                    Some(migration) => Step::downgrade(migration),
                    None => Step::stored_downgrade(entry, &server)?,
                };
                let execution_ms = execute::run(connection, &config, &server, &step, checkpoint).await?;
                Ok(undone(&step, execution_ms))
            }
        }
    }

    async fn record_applied(&mut self, migrations: &[&'static Migration]) -> Result<(), PostgresError> {
        let server = self.connection.server();
        let connection = self.connection.get().await?;
        let mut transaction =
            connection.begin().await.map_err(|error| query_error(&server, "begin the baseline", &error))?;
        for migration in migrations {
            history::insert(&mut transaction, migration, 0).await.map_err(|error| {
                query_error(&server, &format!("record V{} in `migration_history`", migration.version), &error)
            })?;
        }
        transaction.commit().await.map_err(|error| query_error(&server, "commit the baseline", &error))
    }

    fn planned_sql(&self, step: &versioned::Step<'_>) -> Vec<String> {
        match step {
            // A data migration's SQL is decided as it runs; the printout names it instead.
            versioned::Step::Upgrade { migration, .. } if migration.is_data() => vec![String::new()],
            versioned::Step::Upgrade { migration, .. } => {
                Step::upgrade(migration).sent().into_iter().map(str::to_owned).collect()
            }
            versioned::Step::Downgrade { .. } => Vec::new(),
        }
    }
}

fn entries(history: &[HistoryRow]) -> Vec<HistoryEntry> {
    history.iter().cloned().map(HistoryEntry::from).collect()
}

/// The history with each interrupted no-transaction upgrade as a `Partial` entry, in version
/// order.
fn entries_with_intents(
    history: &[HistoryRow],
    intents: &[intent::Intent],
    plan: &'static [Migration],
) -> Vec<HistoryEntry> {
    let mut entries = entries(history);
    entries.extend(intents.iter().filter(|intent| !history.iter().any(|row| row.version == intent.version)).map(
        |intent| {
            HistoryEntry {
                version: intent.version,
                description: versioned::drift::find(plan, intent.version)
                    .map_or_else(String::new, |migration| migration.description.to_owned()),
                checksum: intent.checksum.clone(),
                applied_at: chrono::DateTime::<chrono::Utc>::UNIX_EPOCH,
                execution_ms: 0,
                state: super::EntryState::Partial { done: intent.statements_done, total: intent.total },
                downgrade_sql: String::new(),
            }
        },
    ));
    entries.sort_by_key(|entry| entry.version);
    entries
}

fn intent_problem(intent: &intent::Intent) -> String {
    let next = intent.statements_done + 1;
    if intent.running {
        format!(
            "V{} (`-- migrator:no-transaction`) was interrupted during statement {next}/{} before its outcome was \
             recorded; migrate settles it from the catalog and resumes (or, where the catalog cannot tell, stops and \
             asks for repair)",
            intent.version, intent.total
        )
    } else {
        format!(
            "V{} (`-- migrator:no-transaction`) stopped at statement {next}/{}, which failed; fix the cause and run \
             migrate to resume there, or finish it by hand and run repair",
            intent.version, intent.total
        )
    }
}

/// The change line of one downgrade.
fn undone(step: &Step<'_>, execution_ms: u64) -> String {
    if step.origin.starts_with("`migration_history`") {
        format!("{} undone with the downgrade stored in `migration_history` ({execution_ms} ms)", step.label())
    } else {
        format!("{} undone ({execution_ms} ms)", step.label())
    }
}

/// One line of `repair`'s report and the write behind it.
struct RepairFix<'a> {
    line: String,
    write: RepairWrite<'a>,
}

enum RepairWrite<'a> {
    /// The row takes the plan's description, checksum and downgrade.
    Accept(&'static Migration),
    /// The row of a version deleted from the plan is deleted.
    Forget(&'a HistoryRow),
    /// A gap (see `targets::versioned`) is recorded as applied.
    Record(&'static Migration),
    Nothing,
}

/// What `repair` does, in version order: the same list for the preview the operator confirms
/// and for the writes.
fn repair_fixes<'a>(
    history: &'a [HistoryRow],
    intents: &[intent::Intent],
    plan: &'static [Migration],
) -> Vec<RepairFix<'a>> {
    let head = versioned::drift::plan_head(plan);
    let mut fixes: Vec<(u64, RepairFix<'a>)> = history
        .iter()
        .filter_map(|row| {
            let fix = match plan.iter().find(|migration| migration.version == row.version) {
                Some(migration) => RepairFix { line: accepted(row, migration)?, write: RepairWrite::Accept(migration) },
                None if row.version > head => RepairFix {
                    line: format!(
                        "{}: left as it is: applied by a newer release (this plan ends at V{head}); `down` undoes it \
                         with its stored downgrade",
                        row.label()
                    ),
                    write: RepairWrite::Nothing,
                },
                None => RepairFix {
                    line: format!(
                        "{}: forgot its row: no longer in the plan; what it created stays in the database (its \
                         downgrade is in the log)",
                        row.label()
                    ),
                    write: RepairWrite::Forget(row),
                },
            };
            Some((row.version, fix))
        })
        .collect();
    let entries = entries_with_intents(history, intents, plan);
    let applied_head = versioned::applied_head(plan, &entries);
    fixes.extend(versioned::unrecorded_gaps(plan, &entries).into_iter().map(|migration| {
        let line = versioned::gap_repair_line(migration, applied_head);
        (migration.version, RepairFix { line, write: RepairWrite::Record(migration) })
    }));
    // An interrupted no-transaction upgrade the person finished by hand.
    fixes.extend(
        intents
            .iter()
            .filter(|intent| !history.iter().any(|row| row.version == intent.version))
            .filter_map(|intent| Some((intent, plan.iter().find(|migration| migration.version == intent.version)?)))
            .map(|(intent, migration)| {
                let how = if intent.running { "was started, its outcome never recorded" } else { "had failed" };
                let line = format!(
                    "V{} {}: recorded as applied; the migrator had run {} of its {} statements and statement {} {how}; \
                     the rest was not run by the migrator",
                    migration.version,
                    migration.description,
                    intent.statements_done,
                    intent.total,
                    intent.statements_done + 1
                );
                (migration.version, RepairFix { line, write: RepairWrite::Record(migration) })
            }),
    );
    fixes.sort_by_key(|(version, _)| *version);
    fixes.into_iter().map(|(_, fix)| fix).collect()
}

/// What accepting the plan's migration changes in its row, or `None` when the row matches.
fn accepted(row: &HistoryRow, migration: &'static Migration) -> Option<String> {
    let mut accepted = Vec::new();
    if row.checksum != migration.checksum {
        accepted.push(format!(
            "accepted the edited `{}` (checksum `{}` → `{}`)",
            migration.upgrade.path, row.checksum, migration.checksum
        ));
    }
    if row.description != migration.description {
        accepted.push(format!("description `{}` → `{}`", row.description, migration.description));
    }
    if row.downgrade_sql != migration.downgrade.sql {
        accepted.push(format!("stored the downgrade of `{}`", migration.downgrade.path));
    }
    (!accepted.is_empty()).then(|| format!("V{} {}: {}", migration.version, migration.description, accepted.join(", ")))
}

/// Brings the row of a migration the plan knows to the plan's description, checksum and
/// downgrade.
async fn accept(
    connection: &mut sqlx::PgConnection,
    server: &str,
    migration: &'static Migration,
    line: &str,
) -> Result<(), PostgresError> {
    history::accept(connection, migration).await.map_err(|error| {
        query_error(server, &format!("update V{} in `migration_history`", migration.version), &error)
    })?;
    tracing::info!(
        event = "postgresql_migrator.history_row_accepted",
        target = "postgres",
        version = migration.version,
        "{line}"
    );
    Ok(())
}

/// Deletes the row of a version deleted from the plan, logging its stored downgrade so that
/// it is not lost.
async fn forget(connection: &mut sqlx::PgConnection, server: &str, row: &HistoryRow) -> Result<(), PostgresError> {
    history::delete(connection, row.version)
        .await
        .map_err(|error| query_error(server, &format!("delete V{} from `migration_history`", row.version), &error))?;
    tracing::info!(
        event = "postgresql_migrator.history_row_forgotten",
        target = "postgres",
        version = row.version,
        description = row.description.as_str(),
        checksum = row.checksum.as_str(),
        downgrade_sql = row.downgrade_sql.as_str(),
        "forgot {}: no longer in the plan",
        row.label()
    );
    Ok(())
}

impl PostgresError {
    /// The engine's refusal this error wraps, if it is one.
    pub fn versioned(&self) -> Option<&VersionedError> {
        match self {
            PostgresError::Versioned(refusal) => Some(refusal),
            _ => None,
        }
    }

    /// Whether connecting again cannot help: see `connection::connect_error`, which decides it
    /// for the server's answers, and the settings this binary refuses before sending anything.
    pub fn is_permanent(&self) -> bool {
        match self {
            PostgresError::Connect { permanent, .. } => *permanent,
            PostgresError::UnsupportedParameter { .. } | PostgresError::InvalidSslMode { .. } => true,
            PostgresError::LockConnection { source } => source.is_permanent(),
            _ => false,
        }
    }
}

fn query_error(server: &str, action: &str, error: &sqlx::Error) -> PostgresError {
    PostgresError::Query { server: server.to_owned(), action: action.to_owned(), reason: describe_error(error) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_timeout_names_the_holder_and_how_to_end_it() {
        let error = PostgresError::LockTimeout {
            server: "postgres://u@h:1/d".to_owned(),
            waited: "5s".to_owned(),
            holder: "held by pid 42 (application `x`)".to_owned(),
            pid: Some(42),
            working: false,
        };
        let message = error.to_string();
        assert!(message.contains("advisory lock 8387511655498670452"), "{message}");
        assert!(message.contains("held by pid 42"), "{message}");
        assert!(message.ends_with("`SELECT pg_terminate_backend(42)`"), "{message}");
    }
}
