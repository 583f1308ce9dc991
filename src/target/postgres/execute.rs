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
use std::fmt;
use std::time::Instant;

use sqlx::postgres::{PgConnection, PgErrorPosition};
use sqlx::{AssertSqlSafe, Connection as _};
use tradeforge_migrator_spec::data;
use tradeforge_migrator_spec::migrations::NO_TRANSACTION;
use tradeforge_migrator_spec::model::Dialect;

use super::connection::database_error;
use super::history::{self, HistoryRow};
use super::intent::{self, Intent};
use super::{catalog, query_error, PostgresError};
use crate::plan::{DataStep, Migration, Script};
use crate::target::versioned::effect::{self as statement_effect, Settled};
use crate::target::versioned::{Unsettled, VersionedError};
use crate::target::TargetName;

/// Which way a script moves the database.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Upgrade,
    Downgrade,
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Direction::Upgrade => "upgrade",
            Direction::Downgrade => "downgrade",
        })
    }
}

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
    pub(super) fn stored_downgrade(row: &'a HistoryRow, server: &str) -> Result<Step<'a>, PostgresError> {
        if row.downgrade_sql.starts_with(data::STORED_DOWNGRADE_PREFIX) {
            return Err(PostgresError::UnknownDataMigration {
                server: server.to_owned(),
                label: row.label(),
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

/// The compiler's rule (`macros/spec`, `is_transactional`), applied to SQL read back from
/// history: only a first line of exactly [`NO_TRANSACTION`] opts out.
fn is_transactional(sql: &str) -> bool {
    let first_line = sql.split('\n').next().unwrap_or_default();
    first_line.trim_end_matches([' ', '\t']) != NO_TRANSACTION
}

/// Runs `step` and its history change; returns the execution time in milliseconds.
pub(super) async fn run(connection: &mut PgConnection, server: &str, step: &Step<'_>) -> Result<i64, PostgresError> {
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
    let execution_ms = match (&step.statements, step.data) {
        (Some(statements), None) => run_statement_by_statement(connection, server, step, statements).await?,
        _ => run_in_transaction(connection, server, step).await?,
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
    server: &str,
    step: &Step<'_>,
) -> Result<i64, PostgresError> {
    let mut transaction = connection
        .begin()
        .await
        .map_err(|error| query_error(server, &format!("begin the transaction of {}", step.label()), &error))?;
    let started = Instant::now();
    let outcome = match step.data {
        None => sqlx::raw_sql(AssertSqlSafe(step.sql)).execute(&mut *transaction).await.map(drop).map_err(|error| {
            let location = location(&step.origin, step.sql, 0, &error);
            step_error(server, step, location, super::describe_error(&error), rolled_back(step))
        }),
        Some(function) => function(&mut transaction).await.map_err(|error| {
            let reason = data_error_reason(error.as_ref());
            step_error(server, step, step.origin.to_string(), reason, rolled_back(step))
        }),
    };
    let execution_ms = elapsed_ms(started);
    if let Err(error) = outcome {
        // Rolling back now, rather than when the transaction is dropped, releases the
        // migration's locks before the error is reported.
        let _ = transaction.rollback().await;
        return Err(error);
    }
    if let Err(error) = record(&mut transaction, server, step, execution_ms).await {
        let _ = transaction.rollback().await;
        return Err(error);
    }
    transaction.commit().await.map_err(|error| {
        let location = step.origin.to_string();
        step_error(server, step, location, super::describe_error(&error), rolled_back(step))
    })?;
    Ok(execution_ms)
}

/// A data migration's error as the message reports it: a database error as every SQL error is
/// described, anything else with its causes.
fn data_error_reason(error: &(dyn std::error::Error + Send + Sync + 'static)) -> String {
    match error.downcast_ref::<sqlx::Error>() {
        Some(sqlx_error) => super::describe_error(sqlx_error),
        None => crate::target::error_chain(error),
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
    server: &str,
    step: &Step<'_>,
    statements: &[Cow<'_, str>],
) -> Result<i64, PostgresError> {
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
        // runs go here, before its intent is recorded.
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
            let consequence = partly_done(step, index, statements.len());
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
    execution_ms: i64,
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

fn elapsed_ms(started: Instant) -> i64 {
    i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX)
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

    fn stored(downgrade_sql: &str) -> HistoryRow {
        HistoryRow {
            version: 7,
            description: "orders_index".to_owned(),
            checksum: "sha256:7".to_owned(),
            applied_at: DateTime::<Utc>::UNIX_EPOCH,
            execution_ms: 1,
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
