//! The `migration_history` table: one row per progress step, the newest row of a version wins.
//!
//! ClickHouse 18.16 has no cheap `UPDATE` or `DELETE`, so every change is recorded by inserting:
//! a `ReplacingMergeTree(sequence)` ordered by `version` keeps, per version, the row with the
//! highest `sequence`, and every read uses `FINAL` so it sees that row whether or not the
//! background merge has run yet. Each write of a version carries the previous row's
//! `sequence + 1`, so the order never depends on clocks.
//!
//! A version's newest row is `running`, `partial` or `applied` while its upgrade runs and after it,
//! `reverting` while its downgrade runs, and `reverted` once the downgrade finished. A
//! `reverted` row means "not applied": [`read`] drops it and keeps only its `sequence`, so that a
//! later upgrade of the same version writes past it. The filter runs here, not in SQL: 18.16
//! moves a `WHERE` on a non-key column to `PREWHERE`, which filters *before* `FINAL` picks the
//! newest row, and would bring an older `applied` row back.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use clickhouse::error::Error as ClientError;
use clickhouse::sql::Identifier;

use super::connection::{error_code, Connection};
use super::ClickHouseError;

pub(super) const TABLE: &str = "migration_history";

/// The type of `status`. `reverting` and `reverted` came with `down`, `running` with the intent
/// record; [`extend_status`] adds them to a table created before (adding values to an `Enum8` is
/// a metadata change, allowed on 18.16). An older migrator that meets a `running` row refuses
/// the whole history (`InvalidHistory`: "status 5, which this migrator does not know") rather
/// than re-running the statement; the row is there only while a migration is interrupted.
const STATUS_TYPE: &str = "Enum8('partial' = 1, 'applied' = 2, 'reverting' = 3, 'reverted' = 4, 'running' = 5)";

/// Plain types only (no `DateTime64`, `LowCardinality`, TTL), so the same table works from
/// 18.16 to current releases.
///
/// On a cluster the table is created `ON CLUSTER` on every replica as a
/// `ReplicatedReplacingMergeTree` with the same columns and key, so every replica holds every
/// row (inserts with `insert_quorum`, reads with `select_sequential_consistency`: see
/// `Connection::history_client`). Its ZooKeeper path is the migrator's own, named after the
/// cluster and the database (not the servers' `{shard}` macro: the history is one for the whole
/// cluster), and `{replica}` is each server's macro. A single server keeps the plain
/// `ReplacingMergeTree`, so databases created before read as they are.
fn create_table(connection: &Connection) -> clickhouse::query::Query {
    let columns = format!(
        "(
    version          UInt64,
    description      String,
    checksum         String,
    status           {STATUS_TYPE},
    statements_done  UInt32,
    statements_total UInt32,
    applied_at       DateTime,
    execution_ms     UInt64,
    downgrade_sql    String,
    error            String,
    sequence         UInt64
)"
    );
    let database = Identifier(connection.database());
    match connection.cluster() {
        Some(cluster) => {
            let path = format!("/clickhouse/tradeforge-migrator/{cluster}/{}/{TABLE}", connection.database());
            connection
                .client()
                .query(&format!(
                    "CREATE TABLE IF NOT EXISTS ?.{TABLE} ON CLUSTER ? {columns}
ENGINE = ReplicatedReplacingMergeTree(?, '{{replica}}', sequence)
ORDER BY version"
                ))
                .bind(database)
                .bind(cluster)
                .bind(path.as_str())
        }
        None => connection
            .client()
            .query(&format!("CREATE TABLE IF NOT EXISTS ?.{TABLE} {columns}\nENGINE = ReplacingMergeTree(sequence)\nORDER BY version"))
            .bind(database),
    }
}

const READ: &str = "SELECT ?fields FROM migration_history FINAL ORDER BY version";

/// ClickHouse's error codes for a missing table and a missing database: a read that fails with
/// one of them tells what to create, so reading needs no existence check first.
const UNKNOWN_TABLE: u32 = 60;
const UNKNOWN_DATABASE: u32 = 81;

const STATUS_COLUMN_TYPE: &str = "SELECT type FROM system.columns WHERE database = ? AND table = ? AND name = 'status'";

/// Where a recorded migration stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MigrationState {
    /// The intent record: statements `1..=statements_done` ran, and statement
    /// `statements_done + 1` was started but its outcome was never recorded (the run was
    /// interrupted, or the answer lost). `migrate` settles that statement from the catalog
    /// before going on, or stops and asks for `repair`. It is written before every statement
    /// and so also stands for "the statements before it are done": no row per outcome.
    Running,
    /// Statements `1..=statements_done` ran and statement `statements_done + 1` failed with
    /// ClickHouse's `error` (so it did not run); `migrate` resumes there. Rows written before the
    /// intent record also used it for "interrupted": an empty `error`.
    Partial,
    /// Every upgrade statement ran.
    Applied,
    /// Its downgrade stopped part-way: `statements_done` of the downgrade's `statements_total`
    /// statements ran; `down` resumes it at statement `statements_done + 1`.
    Reverting,
}

impl MigrationState {
    /// `Partial` or `Running`: the upgrade started and `migrate` resumes it.
    pub fn is_upgrade_in_progress(self) -> bool {
        matches!(self, MigrationState::Partial | MigrationState::Running)
    }
}

/// The `status` column's codes. `Reverted` never leaves this module: a reverted version is read
/// as absent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Code {
    Partial = 1,
    Applied = 2,
    Reverting = 3,
    Reverted = 4,
    Running = 5,
}

impl Code {
    fn of(state: MigrationState) -> Code {
        match state {
            MigrationState::Partial => Code::Partial,
            MigrationState::Applied => Code::Applied,
            MigrationState::Reverting => Code::Reverting,
            MigrationState::Running => Code::Running,
        }
    }

    fn from_i8(code: i8) -> Option<Code> {
        [Code::Partial, Code::Applied, Code::Reverting, Code::Reverted, Code::Running]
            .into_iter()
            .find(|known| *known as i8 == code)
    }

    fn state(self) -> Option<MigrationState> {
        match self {
            Code::Partial => Some(MigrationState::Partial),
            Code::Applied => Some(MigrationState::Applied),
            Code::Reverting => Some(MigrationState::Reverting),
            Code::Running => Some(MigrationState::Running),
            Code::Reverted => None,
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
    /// How many statements have run: of the upgrade (all of them once applied), or, while
    /// `Reverting`, of the downgrade.
    pub statements_done: u32,
    /// The upgrade's statement count, or the downgrade's while `Reverting`.
    pub statements_total: u32,
    /// When it was applied; for a partial or reverting migration, when its last progress was
    /// recorded.
    pub applied_at: DateTime<Utc>,
    /// Time spent in its statements, summed over every run that worked on it (the downgrade's
    /// own while `Reverting`).
    pub execution_ms: u64,
    /// The downgrade script's SQL as it was when the migration was applied (or repaired).
    pub downgrade_sql: String,
    /// ClickHouse's error for the statement a partial or reverting migration stopped at; empty
    /// once applied, and when the run was interrupted rather than refused.
    pub error: String,
    /// Orders the rows of one version; the highest is the current one.
    pub sequence: u64,
}

impl HistoryRow {
    /// `migration` recorded as applied without the migrator running it (`baseline`, and `repair`
    /// of a gap a person checked), as row `sequence` of its version.
    pub(super) fn recorded_without_running(
        migration: &crate::plan::Migration,
        applied_at: DateTime<Utc>,
        sequence: u64,
    ) -> HistoryRow {
        let total = crate::targets::versioned::saturating_u32(migration.upgrade.statements.len());
        HistoryRow {
            version: migration.version,
            description: migration.description.to_owned(),
            checksum: migration.checksum.to_owned(),
            state: MigrationState::Applied,
            statements_done: total,
            statements_total: total,
            applied_at,
            execution_ms: 0,
            downgrade_sql: migration.downgrade.sql.to_owned(),
            error: String::new(),
            sequence,
        }
    }
}

/// What `migration_history` holds now.
#[derive(Debug, Default)]
pub(super) struct History {
    /// The current row of every version that is not reverted, in ascending version order.
    pub rows: Vec<HistoryRow>,
    /// The highest `sequence` written for every version, reverted ones included.
    sequences: BTreeMap<u64, u64>,
    /// The table (or the database) did not exist when it was read.
    pub missing: bool,
}

impl History {
    /// The `sequence` of the newest row of `version`, reverted or not; 0 when it has none. The
    /// next row of the version must be written past it.
    pub fn last_sequence(&self, version: u64) -> u64 {
        self.sequences.get(&version).copied().unwrap_or(0)
    }
}

impl History {
    /// The newest `sequence` of every version as ClickHouse prints
    /// `toString(groupArray((version, sequence)))` (`[(1,3),(2,5)]`), to compare with a
    /// replica's copy (`replicas::history_digest`).
    pub fn digest(&self) -> String {
        let pairs: Vec<String> =
            self.sequences.iter().map(|(version, sequence)| format!("({version},{sequence})")).collect();
        format!("[{}]", pairs.join(","))
    }
}

#[cfg(test)]
impl History {
    /// A history of these current rows, and of reverted versions with their last `sequence`.
    pub fn of(rows: Vec<HistoryRow>, reverted: &[(u64, u64)]) -> History {
        let mut sequences: BTreeMap<u64, u64> = reverted.iter().copied().collect();
        sequences.extend(rows.iter().map(|row| (row.version, row.sequence)));
        History { rows, sequences, missing: false }
    }
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

/// What a read of `migration_history` found missing.
enum Missing {
    Database,
    Table,
}

/// The history, or what is missing: one request either way.
async fn try_read(connection: &Connection) -> Result<Result<History, Missing>, ClickHouseError> {
    match connection.history_client().query(READ).fetch_all::<Record>().await {
        Ok(records) => history_of(connection, records).map(Ok),
        Err(error) => match error_code(&error) {
            Some(UNKNOWN_TABLE) => Ok(Err(Missing::Table)),
            Some(UNKNOWN_DATABASE) => Ok(Err(Missing::Database)),
            _ => Err(connection.error("read `migration_history`", &error)),
        },
    }
}

/// Reads the history, creating the database and the table first when they are missing. An older
/// table's `status` lacks `reverting` and `reverted`, which only a downgrade or a repair writes:
/// they extend it (`extend_status`) before they do.
pub(super) async fn prepare(connection: &Connection) -> Result<History, ClickHouseError> {
    match try_read(connection).await? {
        Ok(history) => Ok(history),
        Err(missing) => {
            if let Missing::Database = missing {
                connection.create_database().await?;
            }
            create(connection).await?;
            Ok(History::default())
        }
    }
}

async fn create(connection: &Connection) -> Result<(), ClickHouseError> {
    let created = connection.lagging_allowed(create_table(connection).execute().await, "create `migration_history`");
    created.map_err(|error| connection.error("create `migration_history`", &error))
}

/// Adds `reverting`, `reverted` and `running` to a `status` column created before them. A column
/// that already has them (or more, from a newer migrator) is left alone.
pub(super) async fn extend_status(connection: &Connection) -> Result<(), ClickHouseError> {
    let column_type: String = connection
        .server_client()
        .query(STATUS_COLUMN_TYPE)
        .bind(connection.database())
        .bind(TABLE)
        .fetch_one()
        .await
        .map_err(|error| connection.error("read the type of `migration_history.status`", &error))?;
    if column_type.contains("'running' = 5") {
        return Ok(());
    }
    let alter = format!("ALTER TABLE ?.{TABLE} ON CLUSTER ? MODIFY COLUMN status {STATUS_TYPE}");
    let query = match connection.cluster() {
        Some(cluster) => connection.client().query(&alter).bind(Identifier(connection.database())).bind(cluster),
        None => connection.client().query(&alter.replace(" ON CLUSTER ?", "")).bind(Identifier(connection.database())),
    };
    let altered = connection.lagging_allowed(query.execute().await, "extend `migration_history.status`");
    altered.map_err(|error| {
        connection.error("add `reverting`, `reverted` and `running` to `migration_history.status`", &error)
    })
}

/// The current row of every version, reverted ones left out, in ascending version order; empty
/// when the table (or the database) does not exist. Creates nothing.
pub(super) async fn read_if_exists(connection: &Connection) -> Result<History, ClickHouseError> {
    Ok(try_read(connection).await?.unwrap_or(History { missing: true, ..History::default() }))
}

fn history_of(connection: &Connection, records: Vec<Record>) -> Result<History, ClickHouseError> {
    let mut history = History::default();
    for record in records {
        history.sequences.insert(record.version, record.sequence);
        let code = Code::from_i8(record.status).ok_or_else(|| ClickHouseError::InvalidHistory {
            server: connection.server().to_owned(),
            reason: format!("V{} has status {}, which this migrator does not know", record.version, record.status),
        })?;
        if let Some(state) = code.state() {
            history.rows.push(row(record, state));
        }
    }
    Ok(history)
}

/// Inserts `row` as the newest state of its version.
pub(super) async fn write(connection: &Connection, row: &HistoryRow) -> Result<(), ClientError> {
    write_records(connection, &[record(row, Code::of(row.state))]).await
}

/// Inserts every row in one `INSERT`, which ClickHouse writes as one block: all or none.
pub(super) async fn write_all(connection: &Connection, rows: &[HistoryRow]) -> Result<(), ClientError> {
    let records: Vec<Record> = rows.iter().map(|row| record(row, Code::of(row.state))).collect();
    write_records(connection, &records).await
}

/// Inserts `row` as a `reverted` row: its version reads as never applied from now on.
pub(super) async fn write_reverted(connection: &Connection, row: &HistoryRow) -> Result<(), ClientError> {
    write_records(connection, &[record(row, Code::Reverted)]).await
}

async fn write_records(connection: &Connection, records: &[Record]) -> Result<(), ClientError> {
    let mut insert = connection.history_client().insert::<Record>(TABLE).await?;
    for record in records {
        insert.write(record).await?;
    }
    insert.end().await
}

fn row(record: Record, state: MigrationState) -> HistoryRow {
    HistoryRow {
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
    }
}

fn record(row: &HistoryRow, code: Code) -> Record {
    Record {
        version: row.version,
        description: row.description.clone(),
        checksum: row.checksum.clone(),
        status: code as i8,
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
