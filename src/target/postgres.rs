//! PostgreSQL: applies `plan.postgres` in ascending version order, each migration in one
//! transaction together with its `migration_history` row, and reports where the database stands.
//!
//! The history row keeps the downgrade as applied, so an older binary that meets versions it
//! does not know (after an application rollback) can still report them and say how to undo them.

mod connection;

use std::collections::HashSet;
use std::time::Instant;

use chrono::{DateTime, Utc};
use sqlx::postgres::{PgConnection, PgErrorPosition};
use sqlx::Connection as _;

use self::connection::database_error;
pub(crate) use self::connection::{describe_error, Connection};
use super::{ApplyOptions, Changes, Failure, Status, Target, TargetName};
use crate::config::PostgresConfig;
use crate::plan::{Migration, Plan, Script};

/// The history table; `version` is the primary key, so a version is recorded at most once.
const CREATE_HISTORY_TABLE: &str = "CREATE TABLE IF NOT EXISTS migration_history (
    version       BIGINT      PRIMARY KEY,
    description   TEXT        NOT NULL,
    checksum      TEXT        NOT NULL,
    applied_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    execution_ms  BIGINT      NOT NULL,
    downgrade_sql TEXT        NOT NULL
)";

const HISTORY_TABLE_EXISTS: &str = "SELECT to_regclass('migration_history') IS NOT NULL";

const READ_HISTORY: &str = "SELECT version, description, checksum, applied_at, execution_ms, downgrade_sql
FROM migration_history ORDER BY version";

const INSERT_HISTORY: &str =
    "INSERT INTO migration_history (version, description, checksum, execution_ms, downgrade_sql)
VALUES ($1, $2, $3, $4, $5)";

#[derive(Debug, thiserror::Error)]
pub enum PostgresError {
    #[error("cannot connect to PostgreSQL at `{server}`: {reason}; {fix}")]
    Connect { server: String, reason: String, fix: String },
    #[error("`{server}`: unsupported connection parameter `{key}` in DATABASE_URL; supported: {supported}")]
    UnsupportedParameter { server: String, key: String, supported: String },
    #[error("`{server}`: invalid `sslmode={value}` in DATABASE_URL; use disable, allow, prefer, require, verify-ca or verify-full")]
    InvalidSslMode { server: String, value: String },
    #[error("`{server}`: cannot {action}: {reason}")]
    Query { server: String, action: String, reason: String },
    #[error("{location}: V{version} {description} failed on `{server}`: {reason}; {consequence}")]
    Migration {
        server: String,
        version: u64,
        description: &'static str,
        /// `path` or `path:line:column` of the failing SQL.
        location: String,
        reason: String,
        consequence: String,
    },
    #[error(
        "database is at V{database_head}, newer than this binary's plan (head V{plan_head}): `{server}` holds {unknown}, \
         applied by a newer release; deploy that release, or undo them with the `downgrade_sql` recorded in \
         `migration_history`, before migrating with this binary"
    )]
    AheadOfPlan { server: String, database_head: u64, plan_head: u64, unknown: String },
    #[error(
        "{path}: V{version} was applied to `{server}` with checksum `{recorded}`, but the file now has `{planned}`; \
         an applied migration must not change: restore the file and put the change in a new migration"
    )]
    ChecksumMismatch { server: String, path: &'static str, version: u64, recorded: String, planned: &'static str },
    #[error("`{server}`: `migration_history` holds version {version}, which no migration file can have; fix or delete that row")]
    InvalidHistoryVersion { server: String, version: i64 },
    #[error("{path}: version {version} does not fit PostgreSQL's BIGINT; renumber the migration")]
    VersionOutOfRange { path: &'static str, version: u64 },
}

/// One row of `migration_history`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryRow {
    pub version: u64,
    pub description: String,
    pub checksum: String,
    pub applied_at: DateTime<Utc>,
    pub execution_ms: i64,
    /// The downgrade script's SQL as it was when the migration was applied.
    pub downgrade_sql: String,
}

/// Applies `plan.postgres` to one database. Connects on first use (normally the health check).
pub struct PostgresTarget {
    connection: Connection,
}

impl PostgresTarget {
    pub fn new(config: &PostgresConfig) -> Self {
        PostgresTarget { connection: Connection::new(config) }
    }

    /// The applied migrations in ascending version order; empty when `migration_history` does
    /// not exist yet. Creates nothing.
    pub async fn history(&mut self) -> Result<Vec<HistoryRow>, PostgresError> {
        let server = self.connection.server();
        let connection = self.connection.get().await?;
        if !history_table_exists(connection, &server).await? {
            return Ok(Vec::new());
        }
        read_history(connection, &server).await
    }

    /// Creates `migration_history` if it is missing and reads it.
    async fn prepare_history(&mut self) -> Result<Vec<HistoryRow>, PostgresError> {
        let server = self.connection.server();
        let connection = self.connection.get().await?;
        // Checking first keeps `CREATE TABLE IF NOT EXISTS` from sending a notice on every run.
        if !history_table_exists(connection, &server).await? {
            sqlx::raw_sql(CREATE_HISTORY_TABLE)
                .execute(&mut *connection)
                .await
                .map_err(|error| query_error(&server, "create `migration_history`", &error))?;
        }
        read_history(connection, &server).await
    }
}

impl Target for PostgresTarget {
    type Error = PostgresError;

    fn name(&self) -> TargetName {
        TargetName::Postgres
    }

    async fn health_check(&mut self) -> Result<(), PostgresError> {
        self.connection.health_check().await
    }

    async fn status(&mut self, plan: &Plan) -> Result<Status, PostgresError> {
        let history = self.history().await?;
        Ok(status(&history, plan.postgres))
    }

    async fn apply(&mut self, plan: &Plan, _options: &ApplyOptions) -> Result<Changes, Failure<PostgresError>> {
        let history = self.prepare_history().await?;
        let server = self.connection.server();
        refuse_drift(&history, plan.postgres, &server)?;
        let applied: HashSet<u64> = history.iter().map(|row| row.version).collect();
        let connection = self.connection.get().await?;
        let mut done = Changes::default();
        for migration in plan.postgres.iter().filter(|migration| !applied.contains(&migration.version)) {
            match apply_migration(connection, &server, migration).await {
                Ok(execution_ms) => {
                    done.push(format!("V{} {} ({execution_ms} ms)", migration.version, migration.description))
                }
                Err(error) => return Err(Failure::new(error, done)),
            }
        }
        if done.is_empty() {
            let version = history.last().map(|row| row.version);
            tracing::info!(
                event = "postgresql_migrator.up_to_date",
                target = "postgres",
                version,
                "postgres is up to date"
            );
        }
        Ok(done)
    }
}

async fn history_table_exists(connection: &mut PgConnection, server: &str) -> Result<bool, PostgresError> {
    sqlx::query_scalar(HISTORY_TABLE_EXISTS)
        .fetch_one(connection)
        .await
        .map_err(|error| query_error(server, "look for `migration_history`", &error))
}

async fn read_history(connection: &mut PgConnection, server: &str) -> Result<Vec<HistoryRow>, PostgresError> {
    let rows: Vec<(i64, String, String, DateTime<Utc>, i64, String)> = sqlx::query_as(READ_HISTORY)
        .fetch_all(connection)
        .await
        .map_err(|error| query_error(server, "read `migration_history`", &error))?;
    rows.into_iter()
        .map(|(version, description, checksum, applied_at, execution_ms, downgrade_sql)| {
            let version = u64::try_from(version)
                .map_err(|_| PostgresError::InvalidHistoryVersion { server: server.to_owned(), version })?;
            Ok(HistoryRow { version, description, checksum, applied_at, execution_ms, downgrade_sql })
        })
        .collect()
}

/// Runs one migration and records it; returns its execution time in milliseconds.
async fn apply_migration(
    connection: &mut PgConnection,
    server: &str,
    migration: &Migration,
) -> Result<i64, PostgresError> {
    tracing::info!(
        event = "postgresql_migrator.migration_started",
        target = "postgres",
        version = migration.version,
        description = migration.description,
        "applying V{} {}",
        migration.version,
        migration.description
    );
    let execution_ms = if migration.upgrade.transactional {
        apply_in_transaction(connection, server, migration).await?
    } else {
        apply_statement_by_statement(connection, server, migration).await?
    };
    tracing::info!(
        event = "postgresql_migrator.migration_applied",
        target = "postgres",
        version = migration.version,
        description = migration.description,
        duration_ms = execution_ms,
        "applied V{} {} in {execution_ms} ms",
        migration.version,
        migration.description
    );
    Ok(execution_ms)
}

/// The whole script in one round trip, then the history row, then COMMIT: either the
/// migration and its record are both there, or neither is.
async fn apply_in_transaction(
    connection: &mut PgConnection,
    server: &str,
    migration: &Migration,
) -> Result<i64, PostgresError> {
    let version = bigint_version(migration)?;
    let mut transaction = connection
        .begin()
        .await
        .map_err(|error| query_error(server, &format!("begin the transaction of V{}", migration.version), &error))?;
    let started = Instant::now();
    let outcome = sqlx::raw_sql(migration.upgrade.sql).execute(&mut *transaction).await;
    let execution_ms = elapsed_ms(started);
    if let Err(error) = outcome {
        // Rolling back now, rather than when the transaction is dropped, releases the
        // migration's locks before the error is reported.
        let _ = transaction.rollback().await;
        let location = script_location(&migration.upgrade, 0, &error);
        return Err(migration_error(server, migration, location, &error, ROLLED_BACK.to_owned()));
    }
    if let Err(error) = insert_history(&mut transaction, migration, version, execution_ms).await {
        let _ = transaction.rollback().await;
        return Err(query_error(server, &format!("record V{} in `migration_history`", migration.version), &error));
    }
    transaction.commit().await.map_err(|error| {
        let location = migration.upgrade.path.to_owned();
        migration_error(server, migration, location, &error, ROLLED_BACK.to_owned())
    })?;
    Ok(execution_ms)
}

const ROLLED_BACK: &str =
    "its transaction was rolled back and no later migration was run; fix the file and run migrate again";

/// A `-- migrator:no-transaction` script (e.g. `CREATE INDEX CONCURRENTLY`, which PostgreSQL
/// refuses inside a transaction): each statement commits on its own, the history row follows.
async fn apply_statement_by_statement(
    connection: &mut PgConnection,
    server: &str,
    migration: &Migration,
) -> Result<i64, PostgresError> {
    let version = bigint_version(migration)?;
    let script = &migration.upgrade;
    let started = Instant::now();
    for (index, statement) in script.statements.iter().enumerate() {
        if let Err(error) = sqlx::raw_sql(*statement).execute(&mut *connection).await {
            let offset = script.sql.find(statement).unwrap_or(0);
            let location = script_location(script, offset, &error);
            let consequence = format!(
                "statement {} of {} failed in a `-- migrator:no-transaction` script: the statements before it stay \
                 applied and V{} is not recorded; undo them or make them idempotent (`IF NOT EXISTS`) before running migrate again",
                index + 1,
                script.statements.len(),
                migration.version
            );
            return Err(migration_error(server, migration, location, &error, consequence));
        }
    }
    let execution_ms = elapsed_ms(started);
    insert_history(connection, migration, version, execution_ms).await.map_err(|error| {
        query_error(server, &format!("record V{} in `migration_history`", migration.version), &error)
    })?;
    Ok(execution_ms)
}

async fn insert_history(
    connection: &mut PgConnection,
    migration: &Migration,
    version: i64,
    execution_ms: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(INSERT_HISTORY)
        .bind(version)
        .bind(migration.description)
        .bind(migration.checksum)
        .bind(execution_ms)
        .bind(migration.downgrade.sql)
        .execute(connection)
        .await?;
    Ok(())
}

fn bigint_version(migration: &Migration) -> Result<i64, PostgresError> {
    i64::try_from(migration.version)
        .map_err(|_| PostgresError::VersionOutOfRange { path: migration.upgrade.path, version: migration.version })
}

fn elapsed_ms(started: Instant) -> i64 {
    i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX)
}

/// What in `migration_history` does not match the plan.
#[derive(Debug)]
enum Drift<'a> {
    /// Applied, but newer than the plan's last migration: a newer release ran before this one.
    Ahead(&'a HistoryRow),
    /// Applied, older than the plan's head, but no longer in the plan.
    Unknown(&'a HistoryRow),
    /// Applied from a file whose text has changed since.
    Edited { row: &'a HistoryRow, migration: &'static Migration },
}

fn drift<'a>(history: &'a [HistoryRow], plan: &'static [Migration]) -> Vec<Drift<'a>> {
    let head = plan_head(plan);
    history
        .iter()
        .filter_map(|row| match plan.iter().find(|migration| migration.version == row.version) {
            None if row.version > head => Some(Drift::Ahead(row)),
            None => Some(Drift::Unknown(row)),
            Some(migration) if migration.checksum != row.checksum => Some(Drift::Edited { row, migration }),
            Some(_) => None,
        })
        .collect()
}

fn plan_head(plan: &[Migration]) -> u64 {
    plan.last().map_or(0, |migration| migration.version)
}

/// Refuses to migrate a database that a newer release has migrated, or whose applied
/// migrations no longer match their files. Versions merely missing from the plan are only
/// reported by `status` for now.
fn refuse_drift(history: &[HistoryRow], plan: &'static [Migration], server: &str) -> Result<(), PostgresError> {
    let drift = drift(history, plan);
    let ahead: Vec<&HistoryRow> =
        drift.iter().filter_map(|drift| if let Drift::Ahead(row) = drift { Some(*row) } else { None }).collect();
    if let Some(newest) = ahead.last() {
        let unknown = ahead.iter().map(|row| format!("V{} {}", row.version, row.description)).collect::<Vec<_>>();
        return Err(PostgresError::AheadOfPlan {
            server: server.to_owned(),
            database_head: newest.version,
            plan_head: plan_head(plan),
            unknown: unknown.join(", "),
        });
    }
    for drift in drift {
        if let Drift::Edited { row, migration } = drift {
            return Err(PostgresError::ChecksumMismatch {
                server: server.to_owned(),
                path: migration.upgrade.path,
                version: row.version,
                recorded: row.checksum.clone(),
                planned: migration.checksum,
            });
        }
    }
    Ok(())
}

fn status(history: &[HistoryRow], plan: &'static [Migration]) -> Status {
    let applied: HashSet<u64> = history.iter().map(|row| row.version).collect();
    let current = history.last().map(|row| format!("V{} {}", row.version, row.description));
    let pending = plan
        .iter()
        .filter(|migration| !applied.contains(&migration.version))
        .map(|migration| format!("V{} {} ({})", migration.version, migration.description, migration.upgrade.path))
        .collect();
    let head = plan_head(plan);
    let problems = drift(history, plan)
        .into_iter()
        .map(|drift| match drift {
            Drift::Ahead(row) => {
                format!(
                    "V{} {} is applied but newer than this binary's plan (head V{head})",
                    row.version, row.description
                )
            }
            Drift::Unknown(row) => format!("V{} {} is applied but not in the plan", row.version, row.description),
            Drift::Edited { row, migration } => format!(
                "V{} {}: applied with checksum `{}`, but `{}` now has `{}`",
                row.version, row.description, row.checksum, migration.upgrade.path, migration.checksum
            ),
        })
        .collect();
    Status { current, pending, problems, notes: Vec::new() }
}

fn query_error(server: &str, action: &str, error: &sqlx::Error) -> PostgresError {
    PostgresError::Query { server: server.to_owned(), action: action.to_owned(), reason: describe_error(error) }
}

fn migration_error(
    server: &str,
    migration: &Migration,
    location: String,
    error: &sqlx::Error,
    consequence: String,
) -> PostgresError {
    PostgresError::Migration {
        server: server.to_owned(),
        version: migration.version,
        description: migration.description,
        location,
        reason: describe_error(error),
        consequence,
    }
}

/// `path:line:column` of the error when the server gave a position in the SQL that was sent
/// (which starts `offset` bytes into the script), otherwise just `path`.
fn script_location(script: &Script, offset: usize, error: &sqlx::Error) -> String {
    let position = database_error(error).and_then(|database_error| match database_error.position() {
        Some(PgErrorPosition::Original(position)) => Some(position),
        _ => None,
    });
    match position {
        Some(position) => {
            let (line, column) = line_column(script.sql, offset, position);
            format!("{}:{line}:{column}", script.path)
        }
        None => script.path.to_owned(),
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

    fn row(version: u64, checksum: &str) -> HistoryRow {
        HistoryRow {
            version,
            description: format!("m{version}"),
            checksum: checksum.to_owned(),
            applied_at: DateTime::<Utc>::UNIX_EPOCH,
            execution_ms: 1,
            downgrade_sql: String::new(),
        }
    }

    const SCRIPT: Script = Script { path: "V1.sql", sql: "", statements: &[], transactional: true };
    static PLAN: [Migration; 2] = [
        Migration {
            version: 1,
            description: "one",
            checksum: "sha256:1",
            upgrade: Script { path: "V1.sql", ..SCRIPT },
            downgrade: Script { path: "down/V1.sql", ..SCRIPT },
        },
        Migration {
            version: 3,
            description: "three",
            checksum: "sha256:3",
            upgrade: Script { path: "V3.sql", ..SCRIPT },
            downgrade: Script { path: "down/V3.sql", ..SCRIPT },
        },
    ];

    #[test]
    fn newer_history_is_refused_naming_both_heads() {
        let history = [row(1, "sha256:1"), row(3, "sha256:3"), row(9, "sha256:9")];
        let error = refuse_drift(&history, &PLAN, "postgres://u@h:1/d").expect_err("refused");
        let message = error.to_string();
        assert!(message.starts_with("database is at V9, newer than this binary's plan (head V3)"), "{message}");
        assert!(message.contains("V9 m9"), "{message}");
    }

    #[test]
    fn edited_migration_is_refused_with_both_checksums() {
        let history = [row(1, "sha256:old")];
        let error = refuse_drift(&history, &PLAN, "postgres://u@h:1/d").expect_err("refused");
        let message = error.to_string();
        assert!(message.starts_with("V1.sql: V1 was applied"), "{message}");
        assert!(message.contains("`sha256:old`") && message.contains("`sha256:1`"), "{message}");
    }

    #[test]
    fn status_lists_pending_and_every_problem() {
        let history = [row(1, "sha256:old"), row(2, "sha256:2"), row(4, "sha256:4")];
        let status = status(&history, &PLAN);
        assert_eq!(status.current.as_deref(), Some("V4 m4"));
        assert_eq!(status.pending, vec!["V3 three (V3.sql)".to_owned()]);
        assert_eq!(status.problems.len(), 3, "{:?}", status.problems);
        assert!(status.problems[0].contains("`sha256:old`"));
        assert!(status.problems[1].contains("not in the plan"));
        assert!(status.problems[2].contains("newer than this binary's plan (head V3)"));
    }
}
