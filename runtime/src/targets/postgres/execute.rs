//! Running one migration's SQL, in either direction, together with its `migration_history` change.
//!
//! A transactional script runs whole in one round trip inside a transaction that also inserts
//! (upgrade) or deletes (downgrade) the history row: either both happen or neither does. A
//! `-- migrator:no-transaction` script (`CREATE INDEX CONCURRENTLY`, which PostgreSQL refuses
//! inside a transaction) runs statement by statement, each committing on its own, and the history
//! change follows the last one; an upgrade records its intent before each statement
//! (`postgres/intent.rs`), so that an interrupted one is resumed where the catalog shows it
//! stopped, never re-run blindly. A data migration written in Rust runs like a transactional
//! script: its function gets the transaction's connection, and the history change commits with it.

use std::borrow::Cow;
use std::time::Instant;

use sqlx::postgres::{PgConnection, PgErrorPosition};
use sqlx::{AssertSqlSafe, Connection as _};
use tradeforge_migrator_spec::data;
use tradeforge_migrator_spec::migrations::is_transactional;
use tradeforge_migrator_spec::model::Dialect;

use super::connection::{bounded, database_error};
use super::history;
use super::intent::{self, Intent};
use super::watch::{self, Blocker, Watched};
use super::{catalog, query_error, PostgresError};
use crate::config::PostgresConfig;
use crate::plan::{DataStep, Migration, Script};
use crate::targets::versioned::effect::{self as statement_effect, Settled};
use crate::targets::versioned::{elapsed_ms, Direction, Unsettled, VersionedError};
use crate::targets::{human_duration, Checkpoint, HistoryEntry, SafePoint, Stop, TargetName};

/// One migration to run in one direction, with the SQL that will run and where it came from.
pub(super) struct Step<'a> {
    pub(super) version: u64,
    pub(super) description: &'a str,
    pub(super) direction: Direction,
    /// The file, or `migration_history` for a downgrade the plan does not know.
    pub(super) origin: Cow<'a, str>,
    pub(super) sql: &'a str,
    /// `None`: the whole `sql` in one transaction; `Some`: each statement on its own.
    pub(super) statements: Option<Vec<Cow<'a, str>>>,
    /// A data migration's function, run in the transaction instead of `sql`.
    pub(super) data: Option<DataStep>,
    /// The row inserted after an upgrade; a downgrade deletes the row of `version` instead.
    pub(super) record: Option<&'a Migration>,
}

impl<'a> Step<'a> {
    pub(super) fn upgrade(migration: &'static Migration) -> Step<'static> {
        Step {
            version: migration.version,
            description: migration.description,
            direction: Direction::Upgrade,
            origin: Cow::Borrowed(migration.upgrade.path),
            sql: migration.upgrade.sql,
            statements: planned_statements(&migration.upgrade),
            data: migration.data.map(|data| data.upgrade),
            record: Some(migration),
        }
    }

    /// The plan's downgrade of a version the plan knows.
    pub(super) fn downgrade(migration: &'static Migration) -> Step<'static> {
        Step {
            version: migration.version,
            description: migration.description,
            direction: Direction::Downgrade,
            origin: Cow::Borrowed(migration.downgrade.path),
            sql: migration.downgrade.sql,
            statements: planned_statements(&migration.downgrade),
            data: migration.data.map(|data| data.downgrade),
            record: None,
        }
    }

    /// The downgrade stored in the row of a version the plan does not know (applied by a newer
    /// release). It is split here with the compiler's own splitter, as the newer release's
    /// compiler split it, when its first line opts out of a transaction.
    pub(super) fn stored_downgrade(row: &'a HistoryEntry, server: &str) -> Result<Step<'a>, PostgresError> {
        if row.downgrade_sql.starts_with(data::STORED_DOWNGRADE_PREFIX) {
            return Err(PostgresError::UnknownDataMigration {
                server: server.to_owned(),
                label: format!("V{} {}", row.version, row.description),
                note: row.downgrade_sql.trim().to_owned(),
            });
        }
        let origin = format!("`migration_history` (downgrade_sql of V{})", row.version);
        let statements = if is_transactional(&row.downgrade_sql) {
            None
        } else {
            let statements =
                tradeforge_migrator_spec::sql::split(&row.downgrade_sql, Dialect::Postgres).map_err(|open| {
                    PostgresError::StoredDowngradeUnreadable {
                        server: server.to_owned(),
                        version: row.version,
                        reason: format!("{} opened at {}:{} is never closed", open.construct, open.line, open.column),
                    }
                })?;
            Some(statements.into_iter().map(Cow::Owned).collect())
        };
        Ok(Step {
            version: row.version,
            description: &row.description,
            direction: Direction::Downgrade,
            origin: Cow::Owned(origin),
            sql: &row.downgrade_sql,
            statements,
            data: None,
            record: None,
        })
    }

    /// `V3 add_orders`.
    pub(super) fn label(&self) -> String {
        format!("V{} {}", self.version, self.description)
    }

    /// The SQL sent to the server, in order: the whole script, or each statement; nothing for a
    /// data migration, whose SQL is decided as it runs.
    pub(super) fn sent(&self) -> Vec<&str> {
        match (&self.statements, self.data) {
            (_, Some(_)) => Vec::new(),
            (None, None) => vec![self.sql],
            (Some(statements), None) => statements.iter().map(|statement| statement.as_ref()).collect(),
        }
    }
}

fn planned_statements(script: &'static Script) -> Option<Vec<Cow<'static, str>>> {
    (!script.transactional).then(|| script.statements.iter().map(|statement| Cow::Borrowed(*statement)).collect())
}

/// Runs `step` and its history change, watched and bounded by `config.bounds` (see
/// `postgres/watch.rs`); the engine's runner asked `checkpoint` before it started, and a
/// `-- migrator:no-transaction` script asks it again between statements. Returns the execution
/// time in milliseconds.
pub(super) async fn run(
    connection: &mut PgConnection,
    config: &PostgresConfig,
    server: &str,
    step: &Step<'_>,
    checkpoint: &Checkpoint,
) -> Result<u64, PostgresError> {
    let (event, verb) = match step.direction {
        Direction::Upgrade => ("postgresql_migrator.migration_started", "applying"),
        Direction::Downgrade => ("postgresql_migrator.downgrade_started", "undoing"),
    };
    tracing::info!(
        event,
        target = "postgres",
        version = step.version,
        description = step.description,
        "{verb} {}",
        step.label()
    );
    let pid = backend_pid(connection, config, server, step).await?;
    let work = async {
        match (&step.statements, step.data) {
            (Some(statements), None) => {
                run_statement_by_statement(connection, config, server, step, statements, checkpoint).await
            }
            _ => run_in_transaction(connection, config, server, step).await,
        }
    };
    let execution_ms = match watch::watched(work, config, pid, &step.label(), step.data.is_none()).await {
        Watched::Done(outcome, blockers) => outcome.map_err(|error| name_blockers(error, &blockers))?,
        Watched::Stalled(reason) => return Err(stalled(config, server, step, reason)),
    };
    let (event, verb) = match step.direction {
        Direction::Upgrade => ("postgresql_migrator.migration_applied", "applied"),
        Direction::Downgrade => ("postgresql_migrator.downgrade_applied", "undid"),
    };
    tracing::info!(
        event,
        target = "postgres",
        version = step.version,
        description = step.description,
        duration_ms = execution_ms,
        "{verb} {} in {execution_ms} ms",
        step.label()
    );
    Ok(execution_ms)
}

/// The whole script in one round trip (or the data migration's function), then the history
/// change, then COMMIT.
async fn run_in_transaction(
    connection: &mut PgConnection,
    config: &PostgresConfig,
    server: &str,
    step: &Step<'_>,
) -> Result<u64, PostgresError> {
    let mut transaction = connection
        .begin()
        .await
        .map_err(|error| query_error(server, &format!("begin the transaction of {}", step.label()), &error))?;
    // Local to the transaction, so that nothing stays set on a pooled server session.
    set_bounds(&mut transaction, config, true)
        .await
        .map_err(|error| query_error(server, &format!("set the timeouts of {}", step.label()), &error))?;
    let started = Instant::now();
    let outcome = match step.data {
        None => sqlx::raw_sql(AssertSqlSafe(step.sql)).execute(&mut *transaction).await.map(drop).map_err(|error| {
            let location = location(&step.origin, step.sql, 0, &error);
            let consequence = fault(&error, config).map_or_else(|| rolled_back(step), |what| rerun_safely(step, &what));
            (step_error(server, step, location, super::describe_error(&error), consequence), duplicate(&error))
        }),
        Some(function) => function(&mut transaction).await.map_err(|error| {
            let reason = data_error_reason(error.as_ref());
            let sqlx_error = error.downcast_ref::<sqlx::Error>();
            let consequence = sqlx_error
                .and_then(|error| fault(error, config))
                .map_or_else(|| rolled_back(step), |what| rerun_safely(step, &what));
            (step_error(server, step, step.origin.to_string(), reason, consequence), sqlx_error.is_some_and(duplicate))
        }),
    };
    let execution_ms = elapsed_ms(started);
    if let Err((error, duplicate)) = outcome {
        // Rolling back now, rather than when the transaction is dropped, releases the
        // migration's locks before the error is reported.
        let _ = transaction.rollback().await;
        // A duplicate object may be another migrator's doing (one run without the run lock):
        // then history already has the version, and nothing needs fixing.
        if duplicate && step.direction == Direction::Upgrade && recorded(connection, config, step).await {
            return Err(applied_concurrently(server, step, error));
        }
        return Err(error);
    }
    if let Err(error) = record(&mut transaction, server, step, execution_ms).await {
        let _ = transaction.rollback().await;
        if step.direction == Direction::Upgrade && recorded(connection, config, step).await {
            return Err(applied_concurrently(server, step, error));
        }
        return Err(error);
    }
    transaction.commit().await.map_err(|error| {
        let location = step.origin.to_string();
        let consequence = match fault(&error, config) {
            // A COMMIT whose answer was lost may or may not have happened.
            Some(what) => format!(
                "{what} during COMMIT: V{} and its history row were committed together or not at all; `status` \
                 tells which, and running {} again is safe either way",
                step.version,
                again(step)
            ),
            None => rolled_back(step),
        };
        step_error(server, step, location, super::describe_error(&error), consequence)
    })?;
    Ok(execution_ms)
}

/// The session's backend pid, for the watcher to find it: one short round trip, bounded.
async fn backend_pid(
    connection: &mut PgConnection,
    config: &PostgresConfig,
    server: &str,
    step: &Step<'_>,
) -> Result<i32, PostgresError> {
    let action = format!("start {}", step.label());
    let read = async {
        sqlx::query_scalar::<_, i32>("SELECT pg_backend_pid()")
            .fetch_one(&mut *connection)
            .await
            .map_err(|error| query_error(server, &action, &error))
    };
    bounded(config, server, &action, read).await
}

/// PostgreSQL's `lock_timeout` and `statement_timeout` from `--migration-lock-timeout` and
/// `--statement-timeout` (`0`: no limit), for the transaction (`local`) or the session.
async fn set_bounds(connection: &mut PgConnection, config: &PostgresConfig, local: bool) -> Result<(), sqlx::Error> {
    let milliseconds =
        |bound: Option<std::time::Duration>| bound.map_or(0, |bound| bound.as_millis().max(1)).to_string();
    sqlx::query("SELECT set_config('lock_timeout', $1, $3), set_config('statement_timeout', $2, $3)")
        .bind(milliseconds(config.bounds.migration_lock_timeout))
        .bind(milliseconds(config.bounds.statement_timeout))
        .bind(local)
        .execute(connection)
        .await
        .map(drop)
}

/// What happened when `error` is not the SQL's fault: the session ended by a server restart or
/// failover, a cut connection, a lock or statement timeout, a cancel, a deadlock. `None` for an
/// error of the SQL itself, whose fix is in the file.
fn fault(error: &sqlx::Error, config: &PostgresConfig) -> Option<String> {
    let Some(database_error) = database_error(error) else {
        return matches!(error, sqlx::Error::Io(_) | sqlx::Error::Protocol(_) | sqlx::Error::Tls(_))
            .then(|| "the connection to the server was cut".to_owned());
    };
    Some(match database_error.code() {
        "57P01" | "57P02" | "57P03" => "the server ended the session (a restart, shutdown or failover)".to_owned(),
        "55P03" => match config.bounds.migration_lock_timeout {
            Some(timeout) => format!(
                "it waited {} (--migration-lock-timeout) for a lock another session holds",
                human_duration(timeout)
            ),
            None => "it could not take a lock another session holds".to_owned(),
        },
        "57014" => match config.bounds.statement_timeout {
            Some(timeout) => format!(
                "it ran longer than {} (--statement-timeout; raise it for this migration) or was cancelled by another session",
                human_duration(timeout)
            ),
            None => "another session cancelled it (`pg_cancel_backend`)".to_owned(),
        },
        "40001" | "40P01" => "it lost a serialization conflict or deadlock with another session".to_owned(),
        _ => return None,
    })
}

/// The consequence of a transactional step stopped by `what` (see [`fault`]).
fn rerun_safely(step: &Step<'_>, what: &str) -> String {
    let state = match step.direction {
        Direction::Upgrade => format!("V{} is not applied and nothing was recorded", step.version),
        Direction::Downgrade => format!("V{} stays applied and recorded", step.version),
    };
    format!(
        "{what}: its transaction was rolled back, so {state}; the file is not at fault: run {} again (re-running is safe)",
        again(step)
    )
}

fn again(step: &Step<'_>) -> &'static str {
    crate::targets::versioned::schedule::command(step.direction)
}

/// A unique violation or an object that already exists: possibly another migrator's work.
fn duplicate(error: &sqlx::Error) -> bool {
    database_error(error).is_some_and(|database_error| matches!(database_error.code(), "23505" | "42P07" | "42710"))
}

/// Whether history now records the step's version (another migrator did it meanwhile).
async fn recorded(connection: &mut PgConnection, config: &PostgresConfig, step: &Step<'_>) -> bool {
    let version = i64::try_from(step.version).unwrap_or(i64::MAX);
    let read = sqlx::query_scalar::<_, bool>("SELECT EXISTS (SELECT 1 FROM migration_history WHERE version = $1)")
        .bind(version)
        .fetch_one(&mut *connection);
    matches!(tokio::time::timeout(config.bounds.io_timeout, read).await, Ok(Ok(true)))
}

fn applied_concurrently(server: &str, step: &Step<'_>, error: PostgresError) -> PostgresError {
    let (location, reason) = match error {
        PostgresError::Migration { location, reason, .. } => (location, reason),
        PostgresError::Query { action, reason, .. } => (step.origin.to_string(), format!("cannot {action}: {reason}")),
        other => (step.origin.to_string(), other.to_string()),
    };
    step_error(
        server,
        step,
        location,
        reason,
        format!(
            "another migrator applied and recorded V{} at the same time (one of them ran without the run lock): \
             this run's transaction was rolled back, so it ran once; the file is not at fault: run migrate again \
             (re-running is safe), and make every deploy take the run lock",
            step.version
        ),
    )
}

/// A lock timeout's message, completed with the sessions the watcher saw the step wait for.
fn name_blockers(error: PostgresError, blockers: &[Blocker]) -> PostgresError {
    match error {
        PostgresError::Migration { server, direction, version, description, location, reason, consequence }
            if reason.contains("(SQLSTATE 55P03)") =>
        {
            let consequence = match blockers.first() {
                Some(first) => format!(
                    "{consequence}; it waited for {}: let that session finish, or end it with \
                     `SELECT pg_terminate_backend({})`, or raise --migration-lock-timeout",
                    watch::describe_blockers(blockers),
                    first.pid
                ),
                None => format!(
                    "{consequence}; the holder had gone before it could be named (see `pg_locks` while it waits), or \
                     raise --migration-lock-timeout"
                ),
            };
            PostgresError::Migration {
                server,
                direction,
                version,
                description,
                location,
                reason,
                consequence: consequence.into(),
            }
        }
        other => other,
    }
}

/// The step's connection stalled (see `postgres/watch.rs`); the step is abandoned.
fn stalled(config: &PostgresConfig, server: &str, step: &Step<'_>, reason: String) -> PostgresError {
    let state = match (&step.statements, step.direction) {
        (None, _) => format!(
            "its transaction commits together with its history row or not at all, so `status` tells whether V{} \
             ran; running {} again is safe",
            step.version,
            again(step)
        ),
        (Some(_), _) => format!(
            "it is a `-- migrator:no-transaction` script, so some of its statements may have run; check them \
             before running {} again",
            again(step)
        ),
    };
    PostgresError::Stalled {
        server: server.to_owned(),
        action: format!("running the {} of {}", step.direction, step.label()),
        waited: human_duration(config.bounds.io_timeout).to_string(),
        reason,
        consequence: state,
    }
}

/// A data migration's error as the message reports it: a database error as every SQL error is
/// described, anything else with its causes.
fn data_error_reason(error: &(dyn std::error::Error + Send + Sync + 'static)) -> String {
    match error.downcast_ref::<sqlx::Error>() {
        Some(sqlx_error) => super::describe_error(sqlx_error),
        None => crate::targets::error_chain(error),
    }
}

fn rolled_back(step: &Step<'_>) -> String {
    match step.direction {
        Direction::Upgrade => {
            "its transaction was rolled back and no later migration was run; fix the file and run migrate again"
                .to_owned()
        }
        Direction::Downgrade => format!(
            "its transaction was rolled back: V{} stays applied and recorded, and no older downgrade was run; \
             fix the downgrade and run down again",
            step.version
        ),
    }
}

/// Each statement commits on its own; the history change follows the last one. An upgrade
/// records its intent before each statement and resumes an interrupted run (see
/// `postgres/intent.rs`); the history row and the removal of the intent commit together.
async fn run_statement_by_statement(
    connection: &mut PgConnection,
    config: &PostgresConfig,
    server: &str,
    step: &Step<'_>,
    statements: &[Cow<'_, str>],
    checkpoint: &Checkpoint,
) -> Result<u64, PostgresError> {
    // No transaction to scope them to: set on the session, which runs nothing but migrations.
    set_bounds(connection, config, false)
        .await
        .map_err(|error| query_error(server, &format!("set the timeouts of {}", step.label()), &error))?;
    let first = match step.record {
        Some(migration) => {
            intent::create(connection, server).await?;
            resume_point(connection, server, migration, statements).await?
        }
        None => 0,
    };
    let started = Instant::now();
    for (index, statement) in statements.iter().enumerate().skip(first) {
        // The one place where each statement starts: checks that must pass before a statement
        // runs go here, before its intent is recorded. The first was covered by `run`'s check.
        if index > first {
            checkpoint
                .reached(SafePoint::Unrecorded)
                .await
                .map_err(|stop| stopped_part_way(stop, step, index, statements.len()))?;
        }
        if let Some(migration) = step.record {
            intent::set(connection, migration.version, migration.checksum, index, true, statements.len())
                .await
                .map_err(|error| {
                    query_error(
                        server,
                        &format!("record the start of statement {} of {}", index + 1, step.label()),
                        &error,
                    )
                })?;
        }
        if let Err(error) = sqlx::raw_sql(AssertSqlSafe(statement.as_ref())).execute(&mut *connection).await {
            let offset = step.sql.find(statement.as_ref()).unwrap_or(0);
            let location = location(&step.origin, step.sql, offset, &error);
            let consequence = match fault(&error, config) {
                Some(what) => format!("{what}; {}", partly_done(step, index, statements.len())),
                None => partly_done(step, index, statements.len()),
            };
            if let Some(migration) = step.record {
                // PostgreSQL answered with an error: the statement did not run, and the run resumes
                // at it. A lost connection leaves the intent for the next run to settle.
                if database_error(&error).is_some() {
                    let _ =
                        intent::set(connection, migration.version, migration.checksum, index, false, statements.len())
                            .await;
                }
            }
            return Err(step_error(server, step, location, super::describe_error(&error), consequence));
        }
    }
    let execution_ms = elapsed_ms(started);
    match step.record {
        Some(migration) => {
            let mut transaction = connection
                .begin()
                .await
                .map_err(|error| query_error(server, &format!("begin recording {}", step.label()), &error))?;
            record(&mut transaction, server, step, execution_ms).await?;
            intent::delete(&mut transaction, migration.version).await.map_err(|error| {
                query_error(server, &format!("clear the intent of {} in `migration_intent`", step.label()), &error)
            })?;
            transaction.commit().await.map_err(|error| {
                query_error(server, &format!("record {} in `migration_history`", step.label()), &error)
            })?;
        }
        None => record(connection, server, step, execution_ms).await?,
    }
    Ok(execution_ms)
}

fn stopped_part_way(stop: Stop, step: &Step<'_>, done: usize, total: usize) -> PostgresError {
    // An upgrade's intent row says which statement was in flight (see `postgres/intent.rs`);
    // a downgrade has none.
    let (recorded, next) = match step.direction {
        Direction::Upgrade => (
            "not recorded",
            "the next `migrate` resumes after them, settling the last one from the catalog first (or leaving \
             it to `repair` where the catalog cannot tell)",
        ),
        Direction::Downgrade => {
            ("still recorded", "make the script idempotent (`IF EXISTS`) or undo them before running `down` again")
        }
    };
    PostgresError::StoppedPartWay {
        source: stop,
        direction: step.direction,
        version: step.version,
        description: step.description.into(),
        done,
        total,
        recorded,
        next,
    }
}

/// The 0-based statement an upgrade of `migration` starts at: 0, or after an interrupted run,
/// the statement its intent names when the catalog shows it did not run, the one after it when
/// the catalog shows it ran. Stops with [`VersionedError::Unsettled`] where the catalog cannot
/// tell, and refuses an intent recorded for another text of the file.
async fn resume_point(
    connection: &mut PgConnection,
    server: &str,
    migration: &Migration,
    statements: &[Cow<'_, str>],
) -> Result<usize, PostgresError> {
    let intents = intent::read(connection, server).await?;
    let Some(intent) = intents.iter().find(|intent| intent.version == migration.version) else {
        return Ok(0);
    };
    let done = intent.statements_done as usize;
    let number = done + 1;
    let unsettled = |why: String| {
        VersionedError::Unsettled(Box::new(Unsettled {
            server: server.to_owned(),
            target: TargetName::Postgres,
            path: migration.upgrade.path,
            version: migration.version,
            description: migration.description,
            number,
            total: statements.len(),
            first_line: statements.get(done).map_or("", |statement| code_line(statement)).to_owned(),
            why,
        }))
    };
    if intent.checksum != migration.checksum || intent.total as usize != statements.len() {
        return Err(unsettled(format!(
            "the file changed since (it was started with checksum `{}`, {} statements)",
            intent.checksum, intent.total
        ))
        .into());
    }
    if !intent.running {
        // Written after PostgreSQL refused statement `done + 1`: it did not run.
        return Ok(done);
    }
    let Some(statement) = statements.get(done) else {
        return Ok(statements.len());
    };
    let settled = match statement_effect::effect_of(statement, statement_effect::Server::Postgres) {
        Ok(Some(effect)) => statement_effect::settle(&effect, catalog::seen(connection, server, &effect.object).await?),
        Ok(None) => Ok(Settled::NotRun),
        Err(unreadable) => Err(unreadable),
    };
    let settled = settled.map_err(|why| unsettled(why.to_string()))?;
    log_settled(migration, intent, settled);
    Ok(match settled {
        Settled::Ran => done + 1,
        Settled::NotRun => done,
    })
}

/// The statement's first line of code, after its comments.
fn code_line(statement: &str) -> &str {
    statement.lines().map(str::trim).find(|line| !line.is_empty() && !line.starts_with("--")).unwrap_or("")
}

fn log_settled(migration: &Migration, intent: &Intent, settled: Settled) {
    tracing::info!(
        event = "postgresql_migrator.statement_settled",
        target = "postgres",
        version = migration.version,
        statement = intent.statements_done + 1,
        ran = settled == Settled::Ran,
        "V{} statement {}/{}: interrupted before its outcome was recorded; the catalog shows it {}",
        migration.version,
        intent.statements_done + 1,
        intent.total,
        if settled == Settled::Ran { "ran" } else { "did not run" }
    );
}

fn partly_done(step: &Step<'_>, index: usize, total: usize) -> String {
    if step.direction == Direction::Upgrade {
        return format!(
            "statement {} of {total} failed in a `-- migrator:no-transaction` upgrade: the statements before it stay \
             applied, V{} is not recorded, and `migration_intent` records where it stopped: fix the cause and run \
             migrate again, which resumes at statement {} without re-running the ones before it",
            index + 1,
            step.version,
            index + 1
        );
    }
    let (recorded, idempotent, again) = match step.direction {
        Direction::Upgrade => ("is not recorded", "`IF NOT EXISTS`", "migrate"),
        Direction::Downgrade => ("stays recorded", "`IF EXISTS`", "down"),
    };
    format!(
        "statement {} of {total} failed in a `-- migrator:no-transaction` {}: the statements before it stay \
         applied and V{} {recorded}; undo them or make them idempotent ({idempotent}) before running {again} again",
        index + 1,
        step.direction,
        step.version
    )
}

/// Inserts the row after an upgrade, deletes it after a downgrade.
async fn record(
    connection: &mut PgConnection,
    server: &str,
    step: &Step<'_>,
    execution_ms: u64,
) -> Result<(), PostgresError> {
    match step.record {
        Some(migration) => history::insert(connection, migration, execution_ms)
            .await
            .map_err(|error| query_error(server, &format!("record {} in `migration_history`", step.label()), &error)),
        None => {
            let deleted = history::delete(connection, step.version).await.map_err(|error| {
                query_error(server, &format!("remove {} from `migration_history`", step.label()), &error)
            })?;
            if deleted {
                Ok(())
            } else {
                Err(PostgresError::HistoryRowVanished { server: server.to_owned(), version: step.version })
            }
        }
    }
}

/// `step` failed at `location` for `reason` (`super::describe_error` of a database error).
fn step_error(server: &str, step: &Step<'_>, location: String, reason: String, consequence: String) -> PostgresError {
    PostgresError::Migration {
        server: server.to_owned(),
        direction: step.direction,
        version: step.version,
        description: step.description.into(),
        location,
        reason,
        consequence: consequence.into(),
    }
}

/// `origin:line:column` of the error when the server gave a position in the SQL that was sent
/// (which starts `offset` bytes into `sql`), otherwise just `origin`.
fn location(origin: &str, sql: &str, offset: usize, error: &sqlx::Error) -> String {
    let position = database_error(error).and_then(|database_error| match database_error.position() {
        Some(PgErrorPosition::Original(position)) => Some(position),
        _ => None,
    });
    match position {
        Some(position) => {
            let (line, column) = line_column(sql, offset, position);
            format!("{origin}:{line}:{column}")
        }
        None => origin.to_owned(),
    }
}

/// The 1-based line and column of the `position`th character (1-based, as PostgreSQL counts)
/// after byte `offset` of `text`.
fn line_column(text: &str, offset: usize, position: usize) -> (usize, usize) {
    let before_statement = text.get(..offset).unwrap_or("");
    let in_statement = text.get(offset..).unwrap_or("").chars().take(position.saturating_sub(1));
    let mut line = 1 + before_statement.matches('\n').count();
    let mut column = 1 + before_statement.rsplit('\n').next().map_or(0, |tail| tail.chars().count());
    for character in in_statement {
        if character == '\n' {
            line += 1;
            column = 1;
        } else {
            column += 1;
        }
    }
    (line, column)
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};

    use super::*;

    #[test]
    fn line_column_counts_from_the_start_of_the_script() {
        let text = "CREATE TABLE a (id int);\nSELEC 1;\n";
        assert_eq!(line_column(text, 0, 1), (1, 1));
        assert_eq!(line_column(text, 0, 26), (2, 1));
        assert_eq!(line_column(text, 0, 27), (2, 2));
    }

    #[test]
    fn line_column_adds_the_statement_offset() {
        let text = "SELECT 1;\nCREATE INDEX CONCURRENTLY x ON y (z);\n";
        let offset = text.find("CREATE").expect("statement");
        assert_eq!(line_column(text, offset, 8), (2, 8));
    }

    fn stored(downgrade_sql: &str) -> HistoryEntry {
        HistoryEntry {
            version: 7,
            description: "orders_index".to_owned(),
            checksum: "sha256:7".to_owned(),
            applied_at: DateTime::<Utc>::UNIX_EPOCH,
            execution_ms: 1,
            state: crate::targets::EntryState::Applied,
            downgrade_sql: downgrade_sql.to_owned(),
        }
    }

    #[test]
    fn stored_downgrade_runs_in_one_transaction_unless_its_first_line_opts_out() {
        let row = stored("DROP INDEX a;\nDROP INDEX b;\n");
        let step = Step::stored_downgrade(&row, "postgres://u@h:1/d").expect("readable");
        assert_eq!(step.sent(), ["DROP INDEX a;\nDROP INDEX b;\n"]);
        assert_eq!(step.origin, "`migration_history` (downgrade_sql of V7)");
    }

    #[test]
    fn stored_no_transaction_downgrade_is_split_into_statements() {
        let row = stored("-- migrator:no-transaction\nDROP INDEX CONCURRENTLY a;\nDROP INDEX CONCURRENTLY b;\n");
        let step = Step::stored_downgrade(&row, "postgres://u@h:1/d").expect("readable");
        assert_eq!(step.sent(), ["-- migrator:no-transaction\nDROP INDEX CONCURRENTLY a", "DROP INDEX CONCURRENTLY b"]);
    }

    #[test]
    fn unterminated_stored_downgrade_is_named_by_version() {
        let row = stored("-- migrator:no-transaction\nDROP INDEX 'a;\n");
        let error = Step::stored_downgrade(&row, "postgres://u@h:1/d").err().expect("unreadable");
        assert!(error.to_string().contains("V7"), "{error}");
    }
}
