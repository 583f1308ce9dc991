//! ClickHouse: applies `plan.clickhouse` to the configured database (created if missing) over
//! HTTP, one statement per request, recording progress after every statement, and reports where
//! the database stands.
//!
//! # History
//!
//! `migration_history` in the configured database holds, per version, what PostgreSQL's holds
//! (description, checksum, `applied_at`, `execution_ms`, the downgrade SQL as applied) plus
//! where the migration stands: `status` (`partial` or `applied`), `statements_done` of
//! `statements_total`, and ClickHouse's `error` for the statement it stopped at. Every progress
//! step is an `INSERT` of a new row; the newest row of a version wins (see the `history`
//! submodule).
//!
//! # A failure half-way, and the resume
//!
//! ClickHouse DDL is not transactional: when statement `k` of `n` fails, statements `1..k-1`
//! stay applied. So a migration is recorded as it goes:
//!
//! 1. Before its first statement, a `partial` row at `0/n` says it started (so a run killed
//!    mid-statement still leaves an honest history); after each statement, a `partial` row at
//!    `i/n`; after the last, the `applied` row with the execution time.
//! 2. When statement `k` fails, a `partial` row at `k-1/n` keeps ClickHouse's error, and
//!    `migrate` stops. The error names the migration, the statement (`k/n`, its file and first
//!    line), ClickHouse's error and what to check; later migrations are not run.
//! 3. The next `migrate` starts that migration at statement `k`: it never re-runs statements
//!    `1..k-1` and never skips `k`. Until the cause is fixed, `k` fails again and the run stops
//!    again with the same message; once it is fixed (the missing table created, the clashing
//!    column dropped…), `k` runs, the rest follows, and the change reads
//!    `V2 name (resumed at statement k/n, 35 ms)`.
//! 4. A partial migration whose file has changed since (another checksum or statement count)
//!    is refused: which of its applied statements the edited file still holds cannot be known.
//!
//! The one gap left: a statement that succeeds but whose progress row cannot be written (the
//! server went away in between) runs again on the next run; that error says so. Mutations
//! (`ALTER TABLE … UPDATE/DELETE`) run in the background on ClickHouse: a statement counts as
//! applied once the server has accepted it.
//!
//! As for PostgreSQL, a database holding versions newer than the plan (an application
//! rollback) and an applied migration whose file has changed are refused before anything runs.
//! ClickHouse has no lock to take, so two runs at once against one database are not guarded
//! against here: `migrate` runs once per deploy.

mod connection;
mod drift;
mod history;

use std::time::Instant;

use chrono::Utc;

use self::connection::{describe_error, Connection};
use self::drift::Step;
pub use self::history::{HistoryRow, MigrationState};
use super::{ApplyOptions, Changes, Failure, Status, Target, TargetName};
use crate::config::ClickHouseConfig;
use crate::plan::{Migration, Plan, Script};

#[derive(Debug, thiserror::Error)]
pub enum ClickHouseError {
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
        location = statement_location(&.migration.upgrade, .number.saturating_sub(1)),
        version = .migration.version,
        description = .migration.description,
        stopped = if *.again { "stopped again" } else { "stopped" },
        total = .migration.upgrade.statements.len(),
        first_line = first_line(statement_text(.migration, *.number)),
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
    #[error(
        "{path}: statement {number}/{total} of V{version} ran on `{server}`, but recording it in `migration_history` \
         failed: {reason}; the history still says {recorded}/{total}, so the next run will run statement {number} \
         again: check that it can run twice (or undo its change) before running migrate again"
    )]
    Record {
        server: String,
        path: &'static str,
        version: u64,
        number: usize,
        recorded: usize,
        total: usize,
        reason: String,
    },
    #[error(
        "database is at V{database_head}, newer than this binary's plan (head V{plan_head}): `{server}` holds \
         {unknown}, applied by a newer release; deploy that release, or undo them with the `downgrade_sql` recorded \
         in `migration_history`, before migrating with this binary"
    )]
    AheadOfPlan { server: String, database_head: u64, plan_head: u64, unknown: String },
    #[error(
        "{path}: V{version} was applied to `{server}` with checksum `{recorded}`, but the file now has `{planned}`; \
         an applied migration must not change: restore the file and put the change in a new migration"
    )]
    ChecksumMismatch { server: String, path: &'static str, version: u64, recorded: String, planned: &'static str },
    #[error(
        "{path}: V{version} stopped part-way on `{server}` after {done} of {recorded_total} statements (checksum \
         `{recorded}`), but the file now has `{planned}` ({planned_total} statements), so which applied statements it \
         still holds cannot be known; restore the file as it was and run migrate to resume, or undo those statements \
         by hand and delete V{version} from `migration_history` (`ALTER TABLE migration_history DELETE WHERE \
         version = {version}`) to start it afresh"
    )]
    EditedAfterPartial {
        server: String,
        path: &'static str,
        version: u64,
        done: u32,
        recorded_total: u32,
        recorded: String,
        planned_total: usize,
        planned: &'static str,
    },
}

/// Applies `plan.clickhouse` to one database. Contacts the server on first use (normally the
/// health check).
pub struct ClickHouseTarget {
    connection: Connection,
}

impl ClickHouseTarget {
    pub fn new(config: &ClickHouseConfig) -> Self {
        ClickHouseTarget { connection: Connection::new(config) }
    }

    /// The current row of every recorded version, in ascending version order; empty when the
    /// database or `migration_history` does not exist yet. Creates nothing.
    pub async fn history(&mut self) -> Result<Vec<HistoryRow>, ClickHouseError> {
        if !history::exists(&self.connection).await? {
            return Ok(Vec::new());
        }
        history::read(&self.connection).await
    }

    /// Creates the database and `migration_history` if they are missing, and reads it.
    async fn prepare_history(&self) -> Result<Vec<HistoryRow>, ClickHouseError> {
        self.connection.create_database_if_missing().await?;
        if !history::exists(&self.connection).await? {
            history::create(&self.connection).await?;
        }
        history::read(&self.connection).await
    }
}

impl Target for ClickHouseTarget {
    type Error = ClickHouseError;

    fn name(&self) -> TargetName {
        TargetName::Clickhouse
    }

    async fn health_check(&mut self) -> Result<(), ClickHouseError> {
        self.connection.health_check().await
    }

    async fn status(&mut self, plan: &Plan) -> Result<Status, ClickHouseError> {
        let history = self.history().await?;
        Ok(drift::status(&history, plan.clickhouse))
    }

    async fn apply(&mut self, plan: &Plan, _options: &ApplyOptions) -> Result<Changes, Failure<ClickHouseError>> {
        let history = self.prepare_history().await?;
        let steps = drift::schedule(&history, plan.clickhouse, self.connection.server())?;
        let mut done = Changes::default();
        for step in steps {
            match apply_migration(&self.connection, step).await {
                Ok(change) => done.push(change),
                Err(error) => return Err(Failure::new(error, done)),
            }
        }
        if done.is_empty() {
            let version = history.last().map(|row| row.version);
            tracing::info!(
                event = "clickhouse_migrator.up_to_date",
                target = "clickhouse",
                version,
                "clickhouse is up to date"
            );
        }
        Ok(done)
    }
}

/// Where a migration stands while it runs: the next history row is built from this.
struct Progress {
    migration: &'static Migration,
    statements_done: usize,
    execution_ms: u64,
    sequence: u64,
}

impl Progress {
    fn new(step: &Step<'_>) -> Self {
        match step.partial {
            Some(row) => Progress {
                migration: step.migration,
                statements_done: row.statements_done as usize,
                execution_ms: row.execution_ms,
                sequence: row.sequence,
            },
            None => Progress { migration: step.migration, statements_done: 0, execution_ms: 0, sequence: 0 },
        }
    }

    /// The next row of this version, a step past the last one written.
    fn next_row(&mut self, state: MigrationState, error: String) -> HistoryRow {
        self.sequence += 1;
        let migration = self.migration;
        HistoryRow {
            version: migration.version,
            description: migration.description.to_owned(),
            checksum: migration.checksum.to_owned(),
            state,
            statements_done: saturating_u32(self.statements_done),
            statements_total: saturating_u32(migration.upgrade.statements.len()),
            applied_at: Utc::now(),
            execution_ms: self.execution_ms,
            downgrade_sql: migration.downgrade.sql.to_owned(),
            error,
            sequence: self.sequence,
        }
    }
}

/// Runs the statements of one migration from where it stands, recording each; returns the
/// change line. Durations count the statements only, not the history writes, as
/// `execution_ms` does.
async fn apply_migration(connection: &Connection, step: Step<'_>) -> Result<String, ClickHouseError> {
    let migration = step.migration;
    let total = migration.upgrade.statements.len();
    let mut progress = Progress::new(&step);
    let resumed = step.partial.is_some();
    let first = progress.statements_done;
    log_started(migration, first, resumed);
    if !resumed {
        record_start(connection, &mut progress).await?;
    }
    let mut run_ms = 0;
    for (index, statement) in migration.upgrade.statements.iter().enumerate().skip(first) {
        let statement_started = Instant::now();
        if let Err(error) = connection.execute(statement).await {
            let reason = describe_error(&error);
            record_failure(connection, &mut progress, &reason).await;
            return Err(statement_error(connection, migration, index, reason, resumed && index == first));
        }
        let statement_ms = elapsed_ms(statement_started);
        run_ms += statement_ms;
        record_statement(connection, &mut progress, statement_ms).await?;
        tracing::debug!(
            event = "clickhouse_migrator.statement_applied",
            target = "clickhouse",
            version = migration.version,
            statement = index + 1,
            duration_ms = statement_ms,
            "applied statement {}/{total} of V{}",
            index + 1,
            migration.version
        );
    }
    if total == first {
        // Every statement had run but the `applied` row was never written: write it now.
        let row = progress.next_row(MigrationState::Applied, String::new());
        history::write(connection, &row)
            .await
            .map_err(|error| connection.error(&format!("record V{} as applied", migration.version), &error))?;
    }
    log_applied(migration, run_ms);
    Ok(change_line(migration, resumed.then_some(first), run_ms))
}

/// A `partial` row at `0/n` before the first statement, so that a run killed during it still
/// leaves the migration recorded as started.
async fn record_start(connection: &Connection, progress: &mut Progress) -> Result<(), ClickHouseError> {
    let row = progress.next_row(MigrationState::Partial, String::new());
    history::write(connection, &row).await.map_err(|error| {
        connection.error(&format!("record the start of V{} in `migration_history`", row.version), &error)
    })
}

/// The row after a statement that ran: `partial` at `i/n`, or `applied` after the last one.
async fn record_statement(
    connection: &Connection,
    progress: &mut Progress,
    statement_ms: u64,
) -> Result<(), ClickHouseError> {
    let migration = progress.migration;
    let total = migration.upgrade.statements.len();
    let recorded = progress.statements_done;
    progress.statements_done += 1;
    progress.execution_ms += statement_ms;
    let state = if progress.statements_done == total { MigrationState::Applied } else { MigrationState::Partial };
    let row = progress.next_row(state, String::new());
    history::write(connection, &row).await.map_err(|error| ClickHouseError::Record {
        server: connection.server().to_owned(),
        path: migration.upgrade.path,
        version: migration.version,
        number: recorded + 1,
        recorded,
        total,
        reason: describe_error(&error),
    })
}

fn log_started(migration: &Migration, first: usize, resumed: bool) {
    let total = migration.upgrade.statements.len();
    let action = if resumed { format!("resuming at statement {}/{total}", first + 1) } else { "applying".to_owned() };
    tracing::info!(
        event = "clickhouse_migrator.migration_started",
        target = "clickhouse",
        version = migration.version,
        description = migration.description,
        statement = first + 1,
        "V{} {}: {action}",
        migration.version,
        migration.description
    );
}

fn log_applied(migration: &Migration, execution_ms: u64) {
    tracing::info!(
        event = "clickhouse_migrator.migration_applied",
        target = "clickhouse",
        version = migration.version,
        description = migration.description,
        duration_ms = execution_ms,
        "applied V{} {} in {execution_ms} ms",
        migration.version,
        migration.description
    );
}

/// Keeps ClickHouse's error in the history. The row before it (the start, or the previous
/// statement's progress) already says how far the migration got, so if this write fails too the
/// history is still right, only without the error text; the statement's error is what matters.
async fn record_failure(connection: &Connection, progress: &mut Progress, reason: &str) {
    let migration = progress.migration;
    let number = progress.statements_done + 1;
    tracing::error!(
        event = "clickhouse_migrator.migration_partial",
        target = "clickhouse",
        version = migration.version,
        statement = number,
        error = reason,
        "V{} {} stopped at statement {number}/{}: {reason}",
        migration.version,
        migration.description,
        migration.upgrade.statements.len()
    );
    let row = progress.next_row(MigrationState::Partial, reason.to_owned());
    if let Err(error) = history::write(connection, &row).await {
        tracing::warn!(
            event = "clickhouse_migrator.history_not_written",
            target = "clickhouse",
            version = migration.version,
            statement = number,
            error = %describe_error(&error),
            "could not record the error of V{} in `migration_history`",
            migration.version
        );
    }
}

fn statement_error(
    connection: &Connection,
    migration: &'static Migration,
    index: usize,
    reason: String,
    again: bool,
) -> ClickHouseError {
    ClickHouseError::Statement { server: connection.server().to_owned(), migration, number: index + 1, again, reason }
}

/// `path:line` where the statement's code starts (after its leading comments). Statements keep
/// their text, so each is found in the script after the one before it.
fn statement_location(script: &Script, index: usize) -> String {
    let mut cursor = 0;
    for (position, statement) in script.statements.iter().enumerate() {
        let Some(found) = script.sql.get(cursor..).and_then(|rest| rest.find(statement)) else { break };
        let offset = cursor + found;
        if position == index {
            let code = offset + statement.len() - skip_comments(statement).len();
            return format!("{}:{}", script.path, 1 + script.sql[..code].matches('\n').count());
        }
        cursor = offset + statement.len();
    }
    script.path.to_owned()
}

/// Statement `number` (1-based) of the migration's upgrade.
fn statement_text(migration: &Migration, number: usize) -> &str {
    number.checked_sub(1).and_then(|index| migration.upgrade.statements.get(index)).copied().unwrap_or_default()
}

/// The first line of the statement's code, shortened for a message.
fn first_line(statement: &str) -> String {
    let line = skip_comments(statement).lines().next().unwrap_or("").trim();
    const LIMIT: usize = 80;
    match line.char_indices().nth(LIMIT) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line.to_owned(),
    }
}

/// The statement from its first code on: statements keep the comments written above them.
fn skip_comments(statement: &str) -> &str {
    let mut rest = statement.trim_start();
    loop {
        rest = if ["--", "//", "#"].iter().any(|marker| rest.starts_with(marker)) {
            rest.split_once('\n').map_or("", |(_, after)| after).trim_start()
        } else if let Some(comment) = rest.strip_prefix("/*") {
            comment.split_once("*/").map_or("", |(_, after)| after).trim_start()
        } else {
            return rest;
        };
    }
}

fn applied_clause(version: u64, index: usize) -> String {
    match index {
        0 => format!("no statement of V{version} has run,"),
        1 => format!("statement 1 of V{version} stays applied,"),
        _ => format!("statements 1-{index} of V{version} stay applied,"),
    }
}

/// `V2 indicators_and_signals (2 statements, 35 ms)`, or `(resumed at statement 3/5, 35 ms)`.
fn change_line(migration: &Migration, resumed_at: Option<usize>, execution_ms: u64) -> String {
    let total = migration.upgrade.statements.len();
    let what = match resumed_at {
        Some(first) => format!("resumed at statement {}/{total}", first + 1),
        None if total == 1 => "1 statement".to_owned(),
        None => format!("{total} statements"),
    };
    format!("V{} {} ({what}, {execution_ms} ms)", migration.version, migration.description)
}

fn elapsed_ms(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)
}

fn saturating_u32(value: usize) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SQL: &str = concat!(
        "-- Two tables; the second reads the first.\n",
        "CREATE TABLE a (x UInt8) ENGINE = Memory;\n",
        "\n",
        "/* copy; keep */\n",
        "-- of a\n",
        "CREATE TABLE b ENGINE = Memory\n",
        "AS SELECT * FROM a;\n",
    );
    static SCRIPT: Script = Script {
        path: "migrations/clickhouse/upgrade/V2-copies.sql",
        sql: SQL,
        statements: &[
            "-- Two tables; the second reads the first.\nCREATE TABLE a (x UInt8) ENGINE = Memory",
            "/* copy; keep */\n-- of a\nCREATE TABLE b ENGINE = Memory\nAS SELECT * FROM a",
        ],
        transactional: true,
    };
    static MIGRATION: Migration = Migration {
        version: 2,
        description: "copies",
        checksum: "sha256:2",
        upgrade: Script { path: "migrations/clickhouse/upgrade/V2-copies.sql", ..SCRIPT },
        downgrade: Script { path: "migrations/clickhouse/downgrade/V2-copies.sql", ..SCRIPT },
    };

    #[test]
    fn first_line_skips_leading_comments_and_shortens() {
        assert_eq!(first_line(SCRIPT.statements[1]), "CREATE TABLE b ENGINE = Memory");
        assert_eq!(first_line("# note\n// other\n  SELECT 1"), "SELECT 1");
        let long = format!("SELECT '{}'", "x".repeat(100));
        assert_eq!(first_line(&long).chars().count(), 81);
        assert!(first_line(&long).ends_with('…'));
    }

    #[test]
    fn statement_location_is_the_line_of_its_code() {
        assert_eq!(statement_location(&SCRIPT, 0), "migrations/clickhouse/upgrade/V2-copies.sql:2");
        assert_eq!(statement_location(&SCRIPT, 1), "migrations/clickhouse/upgrade/V2-copies.sql:6");
    }

    #[test]
    fn change_line_says_statements_or_where_it_resumed() {
        assert_eq!(change_line(&MIGRATION, None, 35), "V2 copies (2 statements, 35 ms)");
        assert_eq!(change_line(&MIGRATION, Some(1), 7), "V2 copies (resumed at statement 2/2, 7 ms)");
    }

    #[test]
    fn statement_error_names_the_statement_what_stays_applied_and_the_resume_point() {
        let config = ClickHouseConfig {
            url: "http://ch:8123".to_owned(),
            user: "default".to_owned(),
            password: crate::config::Secret::new("hunter2"),
            database: "analytics".to_owned(),
        };
        let connection = Connection::new(&config);
        let reason = "Code: 60, DB::Exception: Table analytics.a doesn't exist.".to_owned();
        let message = statement_error(&connection, &MIGRATION, 1, reason, false).to_string();
        assert!(
            message.starts_with(
                "migrations/clickhouse/upgrade/V2-copies.sql:6: V2 copies stopped at statement 2/2 \
                 (`CREATE TABLE b ENGINE = Memory`) on `http://default@ch:8123/analytics`: Code: 60"
            ),
            "{message}"
        );
        assert!(message.contains("statement 1 of V2 stays applied"), "{message}");
        assert!(message.contains("resumes at statement 2/2 without re-running"), "{message}");
        assert!(!message.contains("hunter2"), "{message}");
    }

    #[test]
    fn applied_clause_counts_the_statements_before_the_failure() {
        assert_eq!(applied_clause(3, 0), "no statement of V3 has run,");
        assert_eq!(applied_clause(3, 1), "statement 1 of V3 stays applied,");
        assert_eq!(applied_clause(3, 4), "statements 1-4 of V3 stay applied,");
    }
}
