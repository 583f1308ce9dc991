//! The `migration_history` table: its definition and every statement that reads or writes it.
//!
//! One row per applied migration; `version` is the primary key, so a version is recorded at most
//! once. `downgrade_sql` keeps the downgrade as it was when the migration was applied, so a
//! binary that does not know the version (an older release, after an application rollback) can
//! still undo it.

use chrono::{DateTime, Utc};
use sqlx::postgres::{PgConnection, PgRow};
use sqlx::Row as _;

use super::connection::is_undefined_table;
use super::{query_error, PostgresError};
use crate::plan::Migration;
use crate::targets::{EntryState, HistoryEntry};

const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS migration_history (
    version       BIGINT      PRIMARY KEY,
    description   TEXT        NOT NULL,
    checksum      TEXT        NOT NULL,
    applied_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    execution_ms  BIGINT      NOT NULL,
    downgrade_sql TEXT        NOT NULL
)";

const READ: &str = "SELECT version, description, checksum, applied_at, execution_ms, downgrade_sql
FROM migration_history ORDER BY version";

const INSERT: &str = "INSERT INTO migration_history (version, description, checksum, execution_ms, downgrade_sql)
VALUES ($1, $2, $3, $4, $5)";

const DELETE: &str = "DELETE FROM migration_history WHERE version = $1";

const ACCEPT: &str =
    "UPDATE migration_history SET description = $2, checksum = $3, downgrade_sql = $4 WHERE version = $1";

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

impl HistoryRow {
    /// `V3 add_orders`, as every message names a migration.
    pub fn label(&self) -> String {
        format!("V{} {}", self.version, self.description)
    }
}

impl From<HistoryRow> for HistoryEntry {
    fn from(row: HistoryRow) -> HistoryEntry {
        HistoryEntry {
            version: row.version,
            description: row.description,
            checksum: row.checksum,
            applied_at: row.applied_at,
            // The column is written only from an elapsed time, so it is never negative.
            execution_ms: u64::try_from(row.execution_ms).unwrap_or(0),
            // A PostgreSQL migration and its row commit together (or the row follows the last
            // statement of a no-transaction script), so a row always means "applied".
            state: EntryState::Applied,
            downgrade_sql: row.downgrade_sql,
        }
    }
}

/// Every row, ascending by version, or `None` when the table does not exist yet: one round trip
/// (a simple query, no prepare), the read itself telling whether the table is there.
pub(super) async fn read_if_exists(
    connection: &mut PgConnection,
    server: &str,
) -> Result<Option<Vec<HistoryRow>>, PostgresError> {
    let rows = match sqlx::raw_sql(READ).fetch_all(connection).await {
        Ok(rows) => rows,
        Err(error) if is_undefined_table(&error) => return Ok(None),
        Err(error) => return Err(query_error(server, "read `migration_history`", &error)),
    };
    rows.iter().map(|row| history_row(row, server)).collect::<Result<_, _>>().map(Some)
}

fn history_row(row: &PgRow, server: &str) -> Result<HistoryRow, PostgresError> {
    let decode_error = |error: sqlx::Error| query_error(server, "read `migration_history`", &error);
    let version: i64 = row.try_get(0).map_err(decode_error)?;
    let version = u64::try_from(version)
        .map_err(|_| PostgresError::InvalidHistoryVersion { server: server.to_owned(), version })?;
    Ok(HistoryRow {
        version,
        description: row.try_get(1).map_err(decode_error)?,
        checksum: row.try_get(2).map_err(decode_error)?,
        applied_at: row.try_get(3).map_err(decode_error)?,
        execution_ms: row.try_get(4).map_err(decode_error)?,
        downgrade_sql: row.try_get(5).map_err(decode_error)?,
    })
}

/// Every row, creating the table first when it does not exist.
pub(super) async fn read_or_create(
    connection: &mut PgConnection,
    server: &str,
) -> Result<Vec<HistoryRow>, PostgresError> {
    if let Some(rows) = read_if_exists(connection, server).await? {
        return Ok(rows);
    }
    sqlx::raw_sql(CREATE_TABLE)
        .execute(connection)
        .await
        .map_err(|error| query_error(server, "create `migration_history`", &error))?;
    Ok(Vec::new())
}

/// Records `migration` as applied, with the plan's checksum and downgrade.
pub(super) async fn insert(
    connection: &mut PgConnection,
    migration: &Migration,
    execution_ms: u64,
) -> Result<(), sqlx::Error> {
    sqlx::query(INSERT)
        .bind(bigint(migration.version))
        .bind(migration.description)
        .bind(migration.checksum)
        .bind(i64::try_from(execution_ms).unwrap_or(i64::MAX))
        .bind(migration.downgrade.sql)
        .execute(connection)
        .await?;
    Ok(())
}

/// Removes the row of `version`; returns whether there was one.
pub(super) async fn delete(connection: &mut PgConnection, version: u64) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(DELETE).bind(bigint(version)).execute(connection).await?;
    Ok(result.rows_affected() == 1)
}

/// Rewrites the row of `migration.version` to the plan's description, checksum and downgrade.
pub(super) async fn accept(connection: &mut PgConnection, migration: &Migration) -> Result<(), sqlx::Error> {
    sqlx::query(ACCEPT)
        .bind(bigint(migration.version))
        .bind(migration.description)
        .bind(migration.checksum)
        .bind(migration.downgrade.sql)
        .execute(connection)
        .await?;
    Ok(())
}

/// The version as the BIGINT column holds it. Every version reaching here has been checked by
/// [`super::check_versions_fit`] or read from the table, so it fits.
fn bigint(version: u64) -> i64 {
    i64::try_from(version).unwrap_or(i64::MAX)
}
