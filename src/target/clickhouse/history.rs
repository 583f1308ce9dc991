//! The `migration_history` table: one row per progress step, the newest row of a version wins.
//!
//! ClickHouse 18.16 has no cheap `UPDATE`, so progress is recorded by inserting: a
//! `ReplacingMergeTree(sequence)` ordered by `version` keeps, per version, the row with the
//! highest `sequence`, and every read uses `FINAL` so it sees that row whether or not the
//! background merge has run yet. Each write of a version carries the previous row's
//! `sequence + 1`, so the order never depends on clocks.

use chrono::{DateTime, Utc};
use clickhouse::error::Error as ClientError;

use super::connection::Connection;
use super::ClickHouseError;

pub(super) const TABLE: &str = "migration_history";

/// Plain types only (no `DateTime64`, `LowCardinality`, TTL), so the same table works from
/// 18.16 to current releases.
const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS migration_history
(
    version          UInt64,
    description      String,
    checksum         String,
    status           Enum8('partial' = 1, 'applied' = 2),
    statements_done  UInt32,
    statements_total UInt32,
    applied_at       DateTime,
    execution_ms     UInt64,
    downgrade_sql    String,
    error            String,
    sequence         UInt64
)
ENGINE = ReplacingMergeTree(sequence)
ORDER BY version";

const READ: &str = "SELECT ?fields FROM migration_history FINAL ORDER BY version";

const TABLE_EXISTS: &str = "SELECT count() FROM system.tables WHERE database = ? AND name = ?";

/// Where a recorded migration stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MigrationState {
    /// Some of its statements ran (possibly none, if the run was interrupted before the first
    /// finished); `migrate` resumes it at statement `statements_done + 1`.
    Partial,
    /// Every statement ran.
    Applied,
}

impl MigrationState {
    const PARTIAL: i8 = 1;
    const APPLIED: i8 = 2;

    fn code(self) -> i8 {
        match self {
            MigrationState::Partial => Self::PARTIAL,
            MigrationState::Applied => Self::APPLIED,
        }
    }

    fn from_code(code: i8) -> Option<Self> {
        match code {
            Self::PARTIAL => Some(MigrationState::Partial),
            Self::APPLIED => Some(MigrationState::Applied),
            _ => None,
        }
    }
}

/// The current row of one version in `migration_history`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryRow {
    pub version: u64,
    pub description: String,
    /// The upgrade's checksum when it was (started to be) applied.
    pub checksum: String,
    pub state: MigrationState,
    /// How many of the upgrade's statements have run: all of them once applied.
    pub statements_done: u32,
    pub statements_total: u32,
    /// When it was applied; for a partial migration, when its last progress was recorded.
    pub applied_at: DateTime<Utc>,
    /// Time spent in its statements, summed over every run that worked on it.
    pub execution_ms: u64,
    /// The downgrade script's SQL as it was when the migration was applied.
    pub downgrade_sql: String,
    /// ClickHouse's error for the statement a partial migration stopped at; empty once
    /// applied, and when the run was interrupted rather than refused.
    pub error: String,
    /// Orders the rows of one version; the highest is the current one.
    pub sequence: u64,
}

/// A row as RowBinary carries it: `Enum8` as `i8`, `DateTime` as seconds in a `u32`.
#[derive(clickhouse::Row, serde::Serialize, serde::Deserialize)]
struct Record {
    version: u64,
    description: String,
    checksum: String,
    status: i8,
    statements_done: u32,
    statements_total: u32,
    applied_at: u32,
    execution_ms: u64,
    downgrade_sql: String,
    error: String,
    sequence: u64,
}

/// Whether the table exists; creates nothing (the database itself may be missing).
pub(super) async fn exists(connection: &Connection) -> Result<bool, ClickHouseError> {
    let count: u64 = connection
        .server_client()
        .query(TABLE_EXISTS)
        .bind(connection.database())
        .bind(TABLE)
        .fetch_one()
        .await
        .map_err(|error| connection.error("look for `migration_history`", &error))?;
    Ok(count > 0)
}

pub(super) async fn create(connection: &Connection) -> Result<(), ClickHouseError> {
    connection
        .client()
        .query(CREATE_TABLE)
        .execute()
        .await
        .map_err(|error| connection.error("create `migration_history`", &error))
}

/// The current row of every version, in ascending version order.
pub(super) async fn read(connection: &Connection) -> Result<Vec<HistoryRow>, ClickHouseError> {
    let records: Vec<Record> = connection
        .client()
        .query(READ)
        .fetch_all()
        .await
        .map_err(|error| connection.error("read `migration_history`", &error))?;
    records.into_iter().map(|record| row(record, connection)).collect()
}

/// Inserts `row` as the newest state of its version.
pub(super) async fn write(connection: &Connection, row: &HistoryRow) -> Result<(), ClientError> {
    let mut insert = connection.client().insert::<Record>(TABLE).await?;
    insert.write(&record(row)).await?;
    insert.end().await
}

fn row(record: Record, connection: &Connection) -> Result<HistoryRow, ClickHouseError> {
    let state = MigrationState::from_code(record.status).ok_or_else(|| ClickHouseError::InvalidHistory {
        server: connection.server().to_owned(),
        reason: format!("V{} has status {}, which this migrator does not know", record.version, record.status),
    })?;
    Ok(HistoryRow {
        version: record.version,
        description: record.description,
        checksum: record.checksum,
        state,
        statements_done: record.statements_done,
        statements_total: record.statements_total,
        applied_at: DateTime::from_timestamp(i64::from(record.applied_at), 0).unwrap_or_default(),
        execution_ms: record.execution_ms,
        downgrade_sql: record.downgrade_sql,
        error: record.error,
        sequence: record.sequence,
    })
}

fn record(row: &HistoryRow) -> Record {
    Record {
        version: row.version,
        description: row.description.clone(),
        checksum: row.checksum.clone(),
        status: row.state.code(),
        statements_done: row.statements_done,
        statements_total: row.statements_total,
        // `DateTime` holds seconds since 1970 in a UInt32.
        applied_at: u32::try_from(row.applied_at.timestamp()).unwrap_or(u32::MAX),
        execution_ms: row.execution_ms,
        downgrade_sql: row.downgrade_sql.clone(),
        error: row.error.clone(),
        sequence: row.sequence,
    }
}
