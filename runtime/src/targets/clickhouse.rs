//! ClickHouse: applies `plan.clickhouse` to the configured database (created if missing) over
//! HTTP, one statement per request, recording progress after every statement; reports where the
//! database stands; and gives the operator commands (`up --to`, `down`, `baseline`, `repair`,
//! `migrate --dry-run`, `history`) through [`VersionedTarget`].
//!
//! # History
//!
//! `migration_history` in the configured database holds, per version, what PostgreSQL's holds
//! (description, checksum, `applied_at`, `execution_ms`, the downgrade SQL as applied) plus
//! where the migration stands: `status` (`partial`, `applied`, `reverting` or `reverted`),
//! `statements_done` of `statements_total`, and ClickHouse's error for the statement it stopped
//! at. ClickHouse 18.16 has neither transactions nor a cheap `UPDATE`/`DELETE`, so every step is
//! an `INSERT` of a new row and the newest row of a version wins (see the `history` submodule).
//!
//! # A failure half-way, and the resume
//!
//! ClickHouse DDL is not transactional: when statement `k` of `n` fails, statements `1..k-1`
//! stay applied. So a migration is recorded as it goes:
//!
//! 1. Before statement `k`, a `running` row at `k-1/n`: the intent record. It says statements
//!    `1..k-1` ran and `k` was started, so one row per statement covers both the intent and the
//!    progress; after the last, the `applied` row with the execution time (`n + 1` inserts).
//! 2. When ClickHouse refuses statement `k`, a `partial` row at `k-1/n` keeps its error, and
//!    `migrate` stops. The error names the migration, the statement (`k/n`, its file and first
//!    line), ClickHouse's error and what to check; later migrations are not run. Without an answer
//!    (a cut connection), no `partial` row is written: the statement may have run.
//! 3. The next `migrate` starts a `partial` migration at statement `k`: it never re-runs
//!    statements `1..k-1` and never skips `k`. Once the cause is fixed, the change reads
//!    `V2 name (resumed at statement k/n, 35 ms)`.
//! 4. A `running` row left behind (the migrator was killed, or the answer lost) is settled first
//!    from the catalog (`targets::versioned::effect`, `catalog`): statement `k` ran if its table,
//!    view, database or column is there (or gone, for a DROP), and the run goes on after it or at
//!    it. Where the catalog cannot tell (an INSERT, several actions), the run stops before
//!    running anything and asks for `repair`.
//! 5. A partial migration whose file has changed since (another checksum or statement count)
//!    is refused: which of its applied statements the edited file still holds cannot be known.
//! 6. When the operator finishes the migration by hand instead, `repair` records it as applied
//!    and says which statements the migrator did not run; `migrate` then goes on with the next
//!    version.
//!
//! Mutations (`ALTER TABLE … UPDATE/DELETE`) run in the background on ClickHouse: a statement
//! counts as applied once the server has accepted it.
//!
//! # Going down
//!
//! `down` reverts versions newest first, each with the plan's downgrade statements, or, for a
//! version the plan does not know (a newer release applied it, or its file was deleted), with
//! the downgrade SQL stored in its history row, split by the build's own splitter. A downgrade
//! is recorded exactly like an upgrade, in the other direction:
//!
//! 1. A `reverting` row at `0/n` before its first statement (`n` counts the downgrade's
//!    statements), a `reverting` row at `i/n` after each statement, and after the last a
//!    `reverted` row. A version whose newest row is `reverted` reads as never applied: every
//!    reader drops it (in Rust: a `WHERE` next to `FINAL` is applied before `FINAL` on 18.16), and
//!    a later upgrade of the version writes past its `sequence`.
//! 2. When downgrade statement `k` fails, a `reverting` row at `k-1/n` keeps ClickHouse's error
//!    and `down` stops, naming the statement. `migrate` refuses while a version is `reverting`
//!    (its objects are half gone); the next `down` resumes at statement `k`, and `repair`
//!    records it as reverted when the operator finished it by hand.
//! 3. `down` refuses before running anything while a migration is `partial` (resume it with
//!    `migrate` or accept it with `repair` first), for a target above the current version, and
//!    when a version to revert has an edited upgrade file (`repair` first).
//!
//! Tables `migration_history` created by older releases get the `reverting`, `reverted` and
//! `running` values added to `status` (an `ALTER … MODIFY COLUMN` that only adds enum values,
//! which ClickHouse does without rewriting data) the first time a command writes to it.
//!
//! # Drift
//!
//! Before running anything, `migrate`/`up` refuse a database holding versions newer than the
//! plan (an application rollback: undo them with `down`), a version below the plan's head that
//! the plan no longer has (a deleted or renumbered file: running around it could repeat or skip
//! its changes), an applied migration whose file has changed, and (shared with PostgreSQL, in
//! `targets::versioned`) gaps below the newest applied version and tables without any history. `status` lists every one of
//! them. Two runs at once are kept apart by the run lock (`crate::lock`): PostgreSQL's, or, when
//! no PostgreSQL is in use, ClickHouse's own (`lock` submodule).
//!
//! # Clusters
//!
//! With `CLICKHOUSE_CLUSTER` set, the same target runs on a cluster through the configured node:
//! statements are rendered for it (`cluster`), the history is one replicated table for the whole
//! cluster, inserted with a quorum and read with sequential consistency (`history`,
//! `Connection::history_client`), every host must answer before a run (`replicas`, from the
//! health check), and an `ON CLUSTER` statement some host has not finished in time (Code 159) is
//! recorded as queued and settled on the next run from every replica's catalog, never run twice.

mod catalog;
pub mod cluster;
mod connection;
mod downgrade;
mod drift;
#[cfg(test)]
mod fixtures;
mod history;
mod lock;
mod read_timeout;
mod repair;
mod replicas;
pub mod schema;
mod script;
mod upgrade;

use self::connection::Connection;
pub use self::history::{HistoryRow, MigrationState};
pub use self::lock::RunLock;
use self::script::{first_line, statement_location};
use super::versioned::runner::Backend;
use super::versioned::schedule::command;
pub use super::versioned::Direction;
use super::versioned::{self, Step, VersionedError};
use super::{
    ApplyOptions, Changes, Checkpoint, EntryState, Failure, HistoryEntry, Status, Stop, Target, TargetName,
    VersionedTarget,
};
use crate::config::ClickHouseConfig;
use crate::plan::{Migration, Plan};

#[derive(Debug, thiserror::Error)]
pub enum ClickHouseError {
    /// A refusal shared with the other SQL target (`targets::versioned`), boxed to keep the
    /// error small.
    #[error(transparent)]
    Versioned(Box<VersionedError>),
    #[error(
        "cannot reach ClickHouse at `{server}`: {reason}; check that the server is running and that CLICKHOUSE_URL \
         (or CLICKHOUSE_HOST and CLICKHOUSE_PORT) points at its HTTP interface (port 8123 by default, 8443 with https)"
    )]
    Unreachable { server: String, reason: String },
    #[error(
        "cannot log in to ClickHouse at `{server}` as `{user}`: {reason}; check CLICKHOUSE_USER and \
         CLICKHOUSE_PASSWORD (or the user and password in CLICKHOUSE_URL)"
    )]
    Authentication { server: String, user: String, reason: String },
    #[error("`{server}`: cannot {action}: {reason}")]
    Query { server: String, action: String, reason: String },
    #[error(
        "`{server}`: `migration_history` cannot be read: {reason}; it was written by another tool or a newer migrator"
    )]
    InvalidHistory { server: String, reason: String },
    #[error(
        "{location}: V{version} {description} {stopped} at statement {number}/{total} (`{first_line}`) on `{server}`: \
         {reason}; {applied} and `migration_history` records V{version} as partial; check what this statement needs \
         in ClickHouse (the tables and columns it reads or changes) and fix the cause, then run migrate again: it \
         resumes at statement {number}/{total} without re-running the statements before it",
        location = statement_location(
            .migration.upgrade.path, .migration.upgrade.sql, .migration.upgrade.statements, .number.saturating_sub(1)
        ),
        version = .migration.version,
        description = .migration.description,
        stopped = if *.again { "stopped again" } else { "stopped" },
        total = .migration.upgrade.statements.len(),
        first_line = first_line(upgrade_statement(.migration, *.number)),
        applied = applied_clause(.migration.version, .number.saturating_sub(1)),
    )]
    Statement {
        server: String,
        migration: &'static Migration,
        /// 1-based.
        number: usize,
        /// This run was already a resume at this statement, and it failed again.
        again: bool,
        reason: String,
    },
    #[error(transparent)]
    DowngradeStatement(Box<DowngradeStatementError>),
    #[error(
        "{location}: statement {number}/{total} of {script} ran on `{server}`, but recording it in \
         `migration_history` failed: {reason}; the history still says {recorded}/{total}, so the next run will run \
         statement {number} again: check that it can run twice (or undo its change) before running {command} again",
        number = .recorded + 1,
        script = script(*.direction, *.version),
        command = command(*.direction),
    )]
    Record {
        server: String,
        /// The script's path, or where its statement is.
        location: String,
        version: u64,
        direction: Direction,
        /// How many statements the history records as run: the one that ran is the next.
        recorded: usize,
        total: usize,
        reason: String,
    },
    #[error(
        "{path}: cannot record the start of statement {number}/{total} of V{version} in `migration_history` on \
         `{server}`: {reason}; the statement was not run; run migrate again once the server answers"
    )]
    RecordIntent { server: String, path: &'static str, version: u64, number: usize, total: usize, reason: String },
    #[error(
        "{path}: every statement of V{version} ran on `{server}`, but recording it as applied in \
         `migration_history` failed: {reason}; the history still holds the start of its last statement, which the \
         next migrate settles from the catalog without running it again (or stops and asks for repair where the \
         catalog cannot tell)"
    )]
    RecordApplied { server: String, path: &'static str, version: u64, reason: String },
    #[error(
        "the downgrade of V{version} {description} stopped on `{server}` after {done} of {recorded_total} statements, \
         but {downgrade} now has {total} statements, so where to resume cannot be known; finish the downgrade by hand \
         and run repair, which records V{version} as reverted"
    )]
    DowngradeChanged {
        server: String,
        version: u64,
        description: String,
        done: u32,
        recorded_total: u32,
        /// `path` of the plan's downgrade file, or "the downgrade … stored in `migration_history`".
        downgrade: String,
        total: usize,
    },
    #[error(
        "the downgrade of V{version} {description} stored in `migration_history` on `{server}` cannot be split into \
         statements: {reason}; run down with the release that applied V{version}, which has its downgrade file"
    )]
    StoredDowngrade { server: String, version: u64, description: String, reason: String },
    #[error(
        "`{server}` does not know the cluster `{cluster}` (`system.clusters` has no such cluster); check \
         CLICKHOUSE_CLUSTER (or --clickhouse-cluster) against `SELECT DISTINCT cluster FROM system.clusters`"
    )]
    UnknownCluster { server: String, cluster: String },
    #[error(
        "{count} of the hosts of the cluster `{cluster}` do not answer through `{server}`: {hosts}; nothing was \
         run. Start them (or wait longer with --wait), or run with --allow-lagging-replicas to go on without them: \
         their DDL then waits in the cluster's queue and runs when they are back"
    )]
    ReplicasDown { server: String, cluster: String, count: usize, hosts: String },
    /// An `ON CLUSTER` statement some host did not finish in time (Code 159), boxed to keep the
    /// error small.
    #[error(transparent)]
    Queued(Box<QueuedError>),
    #[error(
        "{path}: statement {number}/{total} of V{version} (`{first_line}`) has run on some hosts of the cluster \
         `{cluster}` but not yet on {lagging} (it waits in their DDL queue); it is never run twice. Wait until \
         they catch up (check `system.replication_queue` and that they are up), then run migrate again; or run \
         with --allow-lagging-replicas to go on now"
    )]
    Lagging {
        cluster: String,
        path: &'static str,
        version: u64,
        number: usize,
        total: usize,
        first_line: String,
        lagging: String,
    },
    /// Another migrator held the ClickHouse run lock past `--lock-timeout` (`clickhouse/lock.rs`).
    #[error(
        "the run lock of `{server}` (table `{database}`.`migration_run_lock`) is still {holder}, after waiting \
         {waited}; wait for that migrator to finish (or raise --lock-timeout)"
    )]
    LockTimeout { server: String, database: String, waited: String, holder: String },
    /// The run lock was lost or a signal asked to stop (see `targets::checkpoint`).
    #[error("{0}")]
    Stopped(#[from] Stop),
    /// A stop between two statements of one migration: the progress row says how far it got.
    #[error(
        "{source}, after statement {done}/{total} of {}: `migration_history` records it as {state} at \
         {done}/{total}, and the next {} resumes at statement {next}/{total}",
        script(*.direction, *.version), command(*.direction),
        state = match .direction { Direction::Upgrade => "partial", Direction::Downgrade => "reverting" },
        next = .done + 1
    )]
    StoppedPartWay { source: Stop, direction: Direction, version: u64, done: usize, total: usize },
}

impl ClickHouseError {
    /// The engine's refusal this error wraps, if it is one.
    pub fn versioned(&self) -> Option<&VersionedError> {
        match self {
            ClickHouseError::Versioned(refusal) => Some(refusal),
            _ => None,
        }
    }
}

impl From<VersionedError> for ClickHouseError {
    fn from(error: VersionedError) -> Self {
        ClickHouseError::Versioned(Box::new(error))
    }
}

/// The error of a stop at a safe point between statement `done` and the next of a migration.
fn stopped_part_way(stop: Stop, direction: Direction, version: u64, done: usize, total: usize) -> ClickHouseError {
    ClickHouseError::StoppedPartWay { source: stop, direction, version, done, total }
}

/// `V3`, or `the downgrade of V3`.
fn script(direction: Direction, version: u64) -> String {
    match direction {
        Direction::Upgrade => format!("V{version}"),
        Direction::Downgrade => format!("the downgrade of V{version}"),
    }
}

/// A statement queued on the cluster but not finished everywhere: [`ClickHouseError::Queued`].
#[derive(Debug, thiserror::Error)]
#[error(
    "{path}: statement {number}/{total} of V{version} (`{first_line}`) was queued on the cluster `{cluster}` \
     but not finished within distributed_ddl_task_timeout on every host ({reason}); {lagging}. It stays in \
     the cluster's queue and runs there when they are back; `migration_history` records it as started \
     (running), and the next migrate checks each replica's catalog and goes on once they have it (or at once \
     with --allow-lagging-replicas)"
)]
pub struct QueuedError {
    pub server: String,
    pub cluster: String,
    pub path: &'static str,
    pub version: u64,
    pub number: usize,
    pub total: usize,
    pub first_line: String,
    pub lagging: String,
    pub reason: String,
}

/// A downgrade statement ClickHouse refused: [`ClickHouseError::DowngradeStatement`], boxed
/// to keep the error small.
#[derive(Debug, thiserror::Error)]
#[error(
    "{location}: the downgrade of V{version} {description} {stopped} at statement {number}/{total} \
     (`{first_line}`) on `{server}`: {reason}; {done} and `migration_history` records V{version} as reverting, so \
     migrate refuses until it is finished; fix the cause, then run down again: it resumes at statement \
     {number}/{total} without re-running the statements before it (or finish the downgrade by hand and run \
     repair, which records V{version} as reverted)",
    stopped = if *.again { "stopped again" } else { "stopped" },
    done = downgrade_done_clause(.number.saturating_sub(1)),
)]
pub struct DowngradeStatementError {
    pub server: String,
    /// `path:line` of the statement, or its line in the stored downgrade.
    pub location: String,
    pub version: u64,
    pub description: String,
    /// 1-based.
    pub number: usize,
    pub total: usize,
    pub first_line: String,
    /// This run was already a resume at this statement, and it failed again.
    pub again: bool,
    pub reason: String,
}

/// Applies `plan.clickhouse` to one database. Contacts the server on first use (normally the
/// health check).
pub struct ClickHouseTarget {
    connection: Connection,
    checkpoint: Checkpoint,
    /// The history as last read by the engine's runner: the rows (with their `sequence`) its
    /// steps continue from.
    read: Option<history::History>,
}

impl ClickHouseTarget {
    pub fn new(config: &ClickHouseConfig) -> Self {
        ClickHouseTarget { connection: Connection::new(config), checkpoint: Checkpoint::default(), read: None }
    }

    /// The current row of every recorded version (reverted versions left out), in ascending
    /// version order; empty when the database or `migration_history` does not exist yet.
    /// Creates nothing.
    pub async fn history(&mut self) -> Result<Vec<HistoryRow>, ClickHouseError> {
        Ok(history::read_if_exists(&self.connection).await?.rows)
    }

    /// The configured database's schema as sorted text lines, `migration_history` left out (see
    /// `clickhouse/schema.rs`): what `verify-downgrades` compares.
    pub async fn schema_dump(&mut self) -> Result<String, ClickHouseError> {
        schema::dump(&self.connection).await
    }
}

impl Target for ClickHouseTarget {
    type Error = ClickHouseError;

    fn name(&self) -> TargetName {
        TargetName::Clickhouse
    }

    fn set_checkpoint(&mut self, checkpoint: Checkpoint) {
        self.checkpoint = checkpoint;
    }

    /// `SELECT 1`; on a cluster also every host of it (`clickhouse/replicas.rs`), which sets the
    /// history's insert quorum to the hosts that answered.
    async fn health_check(&mut self) -> Result<(), ClickHouseError> {
        self.connection.health_check().await?;
        let Some(cluster) = self.connection.cluster_config().cloned() else {
            return Ok(());
        };
        let survey = replicas::survey(&self.connection, &cluster.name).await?;
        if !survey.down.is_empty() {
            let hosts = survey
                .down
                .iter()
                .map(|(host, reason)| format!("{} ({reason})", host.address))
                .collect::<Vec<_>>()
                .join("; ");
            if !cluster.allow_lagging_replicas {
                return Err(ClickHouseError::ReplicasDown {
                    server: self.connection.server().to_owned(),
                    cluster: cluster.name.clone(),
                    count: survey.down.len(),
                    hosts,
                });
            }
            tracing::warn!(
                event = "clickhouse_migrator.replicas_lagging",
                target = "clickhouse",
                "--allow-lagging-replicas: going on without {hosts}; their DDL waits in the queue of `{}`",
                cluster.name
            );
        }
        self.connection.set_quorum(u64::try_from(survey.answering.len()).unwrap_or(u64::MAX));
        Ok(())
    }

    /// Refused credentials, or a cluster the server does not know: the server answered, and will
    /// answer the same until the settings change.
    fn is_permanent(error: &ClickHouseError) -> bool {
        matches!(error, ClickHouseError::Authentication { .. } | ClickHouseError::UnknownCluster { .. })
    }

    async fn status(&mut self, plan: &Plan) -> Result<Status, ClickHouseError> {
        let history = history::read_if_exists(&self.connection).await?;
        let entries = history_entries(&history.rows);
        let mut status = versioned::drift::status(plan.clickhouse, &entries);
        let states = history.rows.iter().filter_map(drift::state_problem);
        status.problems.splice(0..0, states);
        if history.missing && !plan.clickhouse.is_empty() {
            let tables = catalog::tables_besides_history(&self.connection).await?;
            let server = self.connection.server();
            if let Err(refusal) =
                versioned::refuse_schema_without_history(plan.clickhouse, tables, server, TargetName::Clickhouse)
            {
                status.problems.push(refusal.to_string());
            }
        }
        if let Some(cluster) = self.connection.cluster() {
            status.notes.extend(self.replica_notes(cluster, &history).await?);
        }
        Ok(status)
    }

    async fn apply(&mut self, plan: &Plan, _options: &ApplyOptions) -> Result<Changes, Failure<ClickHouseError>> {
        self.upgrade_to(plan, None).await
    }
}

impl VersionedTarget for ClickHouseTarget {
    /// One line per version it changed or left (see the `repair` submodule); empty when the
    /// history already matches the plan. Runs no migration statement. Each row is written on its
    /// own: after an error, the lines logged before it were written.
    async fn repair(&mut self, plan: &Plan) -> Result<Changes, ClickHouseError> {
        let connection = &self.connection;
        let history = history::read_if_exists(connection).await?;
        let fixes = repair::fixes(&history, plan.clickhouse);
        if fixes.iter().any(|fix| fix.write.is_some()) {
            // A repair may write `reverting` or `reverted`, which an older table's `status` lacks.
            history::extend_status(connection).await?;
        }
        let mut done = Changes::default();
        for fix in fixes {
            let written = match &fix.write {
                Some(repair::Write::Current(row)) => history::write(connection, row).await,
                Some(repair::Write::Reverted(row)) => history::write_reverted(connection, row).await,
                None => Ok(()),
            };
            written.map_err(|error| connection.error(&format!("write `migration_history` ({})", fix.line), &error))?;
            tracing::info!(event = "clickhouse_migrator.repaired", target = "clickhouse", "{}", fix.line);
            done.push(fix.line);
        }
        Ok(done)
    }

    async fn repair_preview(&mut self, plan: &Plan) -> Result<Changes, ClickHouseError> {
        let history = history::read_if_exists(&self.connection).await?;
        let fixes = repair::fixes(&history, plan.clickhouse);
        Ok(Changes(fixes.into_iter().filter(|fix| fix.write.is_some()).map(|fix| fix.line).collect()))
    }
}

impl ClickHouseTarget {
    /// One line per host of the cluster: whether its copy of `migration_history` has caught up
    /// with the one this node reads (the newest row of every version), or why it cannot tell.
    async fn replica_notes(&self, cluster: &str, history: &history::History) -> Result<Vec<String>, ClickHouseError> {
        let connection = &self.connection;
        let hosts = replicas::hosts(connection, cluster).await?;
        if history.missing {
            return Ok(vec![format!("cluster `{cluster}`: {} hosts, no history yet", hosts.len())]);
        }
        // What this status read (with sequential consistency: every quorum-written row), and the
        // tables every replica should hold: those of the replicas that hold the most.
        let newest = history.digest();
        let mut copies = Vec::with_capacity(hosts.len());
        for host in &hosts {
            copies.push((replicas::history_digest(connection, host).await, replicas::tables(connection, host).await));
        }
        let all_tables: std::collections::BTreeSet<&String> =
            copies.iter().filter_map(|(_, tables)| tables.as_ref()).flatten().collect();
        Ok(hosts
            .iter()
            .zip(&copies)
            .map(|(host, (digest, tables))| {
                let state = match (digest, tables) {
                    (Some(digest), Some(tables)) if *digest == newest => {
                        let missing: Vec<&str> =
                            all_tables.iter().filter(|name| !tables.contains(name)).map(|name| name.as_str()).collect();
                        if missing.is_empty() {
                            "caught up".to_owned()
                        } else {
                            format!(
                                "behind: its DDL queue has not created {} yet (other replicas have it)",
                                missing.join(", ")
                            )
                        }
                    }
                    (Some(_), Some(_)) => {
                        "behind: its replication queue has not fetched every history row yet".to_owned()
                    }
                    _ => {
                        "does not answer (or has no `migration_history` yet): it catches up when it is back".to_owned()
                    }
                };
                format!("replica {} of `{cluster}`: {state}", host.address)
            })
            .collect())
    }

    /// The row the engine's `entry` was read from.
    fn row(&self, version: u64) -> Option<&HistoryRow> {
        self.read.as_ref()?.rows.iter().find(|row| row.version == version)
    }

    fn last_sequence(&self, version: u64) -> u64 {
        self.read.as_ref().map_or(0, |history| history.last_sequence(version))
    }

    /// The downgrade `step` runs, from where it stopped.
    fn revert(&self, step: &Step<'_>) -> Result<Option<downgrade::Revert<'_>>, ClickHouseError> {
        let Step::Downgrade { entry, planned } = step else {
            return Ok(None);
        };
        let Some(row) = self.row(entry.version) else {
            return Ok(None);
        };
        downgrade::revert_of(row, *planned, self.connection.server()).map(Some)
    }
}

/// ClickHouse's primitives for the engine (`targets::versioned::runner`).
impl Backend for ClickHouseTarget {
    fn migrations(plan: &Plan) -> &'static [Migration] {
        plan.clickhouse
    }

    fn checkpoint(&self) -> &Checkpoint {
        &self.checkpoint
    }

    fn server(&self) -> String {
        self.connection.server().to_owned()
    }

    async fn read_history(&mut self) -> Result<Option<Vec<HistoryEntry>>, ClickHouseError> {
        let history = history::read_if_exists(&self.connection).await?;
        let entries = (!history.missing).then(|| history_entries(&history.rows));
        self.read = Some(history);
        Ok(entries)
    }

    async fn objects_without_history(&mut self) -> Result<Vec<String>, ClickHouseError> {
        catalog::tables_besides_history(&self.connection).await
    }

    /// A stored downgrade must split, and a downgrade stopped part-way must still have the
    /// statement count it stopped at, before anything is reverted.
    fn check_step(&self, step: &Step<'_>) -> Result<(), ClickHouseError> {
        self.revert(step).map(drop)
    }

    /// Creates the database and `migration_history` when missing; before a write to an existing
    /// table, adds the `status` values an older release's table lacks (intent rows are
    /// `running`, downgrades `reverting`/`reverted`).
    async fn prepare_history(&mut self, _direction: Direction, steps: usize) -> Result<(), ClickHouseError> {
        if self.read.as_ref().is_none_or(|history| history.missing) {
            self.read = Some(history::prepare(&self.connection).await?);
        } else if steps > 0 {
            history::extend_status(&self.connection).await?;
        }
        Ok(())
    }

    async fn run_step(&mut self, step: &Step<'_>, checkpoint: &Checkpoint) -> Result<String, ClickHouseError> {
        match step {
            Step::Upgrade { migration, resume } => {
                let step = drift::Step {
                    migration,
                    partial: resume.and_then(|entry| self.row(entry.version)),
                    last_sequence: self.last_sequence(migration.version),
                };
                upgrade::apply_migration(&self.connection, step, checkpoint).await
            }
            Step::Downgrade { .. } => match self.revert(step)? {
                Some(revert) => downgrade::revert(&self.connection, revert, checkpoint).await,
                None => Err(self.connection.error(
                    &format!("find V{} in `migration_history`", step.version()),
                    &clickhouse::error::Error::Custom("the row read before the run is gone".to_owned()),
                )),
            },
        }
    }

    async fn record_applied(&mut self, migrations: &[&'static Migration]) -> Result<(), ClickHouseError> {
        let applied_at = chrono::Utc::now();
        let rows: Vec<HistoryRow> = migrations
            .iter()
            .map(|migration| {
                let sequence = self.last_sequence(migration.version) + 1;
                HistoryRow::recorded_without_running(migration, applied_at, sequence)
            })
            .collect();
        history::write_all(&self.connection, &rows)
            .await
            .map_err(|error| self.connection.error("record the baseline in `migration_history`", &error))
    }

    fn planned_sql(&self, step: &Step<'_>) -> Vec<String> {
        let Step::Upgrade { migration, resume } = step else {
            return Vec::new();
        };
        let first = match resume.map(|entry| entry.state) {
            Some(EntryState::Partial { done, .. }) => done as usize,
            _ => 0,
        };
        migration
            .upgrade
            .statements
            .iter()
            .skip(first)
            .map(|statement| self.connection.render(statement).into_owned())
            .collect()
    }
}

/// The rows as the shared decisions of `targets::versioned` read them.
fn history_entries(rows: &[HistoryRow]) -> Vec<HistoryEntry> {
    rows.iter().cloned().map(history_entry).collect()
}

fn history_entry(row: HistoryRow) -> HistoryEntry {
    let state = match row.state {
        MigrationState::Applied => EntryState::Applied,
        MigrationState::Partial | MigrationState::Running => {
            EntryState::Partial { done: row.statements_done, total: row.statements_total }
        }
        MigrationState::Reverting => EntryState::Reverting { done: row.statements_done, total: row.statements_total },
    };
    HistoryEntry {
        version: row.version,
        description: row.description,
        checksum: row.checksum,
        applied_at: row.applied_at,
        execution_ms: row.execution_ms,
        state,
        downgrade_sql: row.downgrade_sql,
    }
}

/// Statement `number` (1-based) of the migration's upgrade.
fn upgrade_statement(migration: &Migration, number: usize) -> &str {
    number.checked_sub(1).and_then(|index| migration.upgrade.statements.get(index)).copied().unwrap_or_default()
}

fn applied_clause(version: u64, index: usize) -> String {
    match index {
        0 => format!("no statement of V{version} has run,"),
        1 => format!("statement 1 of V{version} stays applied,"),
        _ => format!("statements 1-{index} of V{version} stay applied,"),
    }
}

fn downgrade_done_clause(index: usize) -> String {
    match index {
        0 => "no statement of the downgrade has run,".to_owned(),
        1 => "statement 1 of the downgrade has run,".to_owned(),
        _ => format!("statements 1-{index} of the downgrade have run,"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn applied_clause_counts_the_statements_before_the_failure() {
        assert_eq!(applied_clause(3, 0), "no statement of V3 has run,");
        assert_eq!(applied_clause(3, 1), "statement 1 of V3 stays applied,");
        assert_eq!(applied_clause(3, 4), "statements 1-4 of V3 stay applied,");
    }
}
