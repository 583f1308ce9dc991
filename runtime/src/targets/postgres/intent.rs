//! `migration_intent`: where a `-- migrator:no-transaction` upgrade stands while it runs.
//!
//! Each statement of such a script commits on its own, so a crash between a statement and the
//! history row would leave no trace of what ran. Before each statement the script's row here is
//! set (committing on its own) to "`statements_done` ran, the next one started" (`running`); after
//! a statement PostgreSQL refused, to "`statements_done` ran, the next one failed"; the history row is inserted and this row deleted in one transaction after the last
//! statement, and the table is dropped once it is empty: it exists only while such a script is
//! in flight or was interrupted. A row here therefore always belongs to a version without a
//! history row, and means an interrupted script: `migrate` settles that statement from the catalog (see
//! `targets::versioned::effect`) or stops and asks for `repair`.
//!
//! A table of its own, not a column of `migration_history`: an older release reads
//! `migration_history` by column names and would take a row there for an applied migration; it
//! ignores this table and re-runs the script from its first statement, as it always did.

use sqlx::{PgConnection, Row as _};

use super::connection::is_undefined_table;
use super::{query_error, PostgresError};

const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS migration_intent (
    version    BIGINT      PRIMARY KEY,
    checksum   TEXT        NOT NULL,
    statements_done  INTEGER NOT NULL,
    running    BOOLEAN     NOT NULL,
    total      INTEGER     NOT NULL,
    started_at TIMESTAMPTZ NOT NULL DEFAULT now()
)";

const READ: &str = "SELECT version, checksum, statements_done, running, total FROM migration_intent ORDER BY version";

const SET: &str = "INSERT INTO migration_intent (version, checksum, statements_done, running, total)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (version) DO UPDATE SET checksum = $2, statements_done = $3, running = $4, total = $5,
    started_at = now()";

const DELETE: &str = "DELETE FROM migration_intent WHERE version = $1";

const COUNT: &str = "SELECT count(*) FROM migration_intent";

const DROP: &str = "DROP TABLE migration_intent";

/// `statements_done` of the `total` statements of `version` ran; the next one was started
/// without a recorded outcome (`running`), or failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Intent {
    pub version: u64,
    pub checksum: String,
    pub statements_done: u32,
    pub running: bool,
    pub total: u32,
}

/// Every intent, ascending by version; none when the table does not exist.
pub(super) async fn read(connection: &mut PgConnection, server: &str) -> Result<Vec<Intent>, PostgresError> {
    let rows = match sqlx::raw_sql(READ).fetch_all(connection).await {
        Ok(rows) => rows,
        Err(error) if is_undefined_table(&error) => return Ok(Vec::new()),
        Err(error) => return Err(query_error(server, "read `migration_intent`", &error)),
    };
    let decode = |error: sqlx::Error| query_error(server, "read `migration_intent`", &error);
    rows.iter()
        .map(|row| {
            let version: i64 = row.try_get(0).map_err(decode)?;
            let done: i32 = row.try_get(2).map_err(decode)?;
            let total: i32 = row.try_get(4).map_err(decode)?;
            Ok(Intent {
                version: u64::try_from(version).unwrap_or(0),
                checksum: row.try_get(1).map_err(decode)?,
                statements_done: u32::try_from(done).unwrap_or(0),
                running: row.try_get(3).map_err(decode)?,
                total: u32::try_from(total).unwrap_or(0),
            })
        })
        .collect()
}

pub(super) async fn create(connection: &mut PgConnection, server: &str) -> Result<(), PostgresError> {
    sqlx::raw_sql(CREATE_TABLE)
        .execute(connection)
        .await
        .map(drop)
        .map_err(|error| query_error(server, "create `migration_intent`", &error))
}

/// Records that `done` statements ran and the next one is about to run (`running`), or failed.
pub(super) async fn set(
    connection: &mut PgConnection,
    version: u64,
    checksum: &str,
    done: usize,
    running: bool,
    total: usize,
) -> Result<(), sqlx::Error> {
    sqlx::query(SET)
        .bind(i64::try_from(version).unwrap_or(i64::MAX))
        .bind(checksum)
        .bind(i32::try_from(done).unwrap_or(i32::MAX))
        .bind(running)
        .bind(i32::try_from(total).unwrap_or(i32::MAX))
        .execute(connection)
        .await
        .map(drop)
}

/// Removes the intent of `version` (the table exists whenever this is called), and the table
/// with it when no other intent is left, so that a database with nothing in flight holds no
/// trace of it. Runs inside the transaction that records the migration.
pub(super) async fn delete(connection: &mut PgConnection, version: u64) -> Result<(), sqlx::Error> {
    sqlx::query(DELETE).bind(i64::try_from(version).unwrap_or(i64::MAX)).execute(&mut *connection).await?;
    let left: i64 = sqlx::query_scalar(COUNT).fetch_one(&mut *connection).await?;
    if left == 0 {
        sqlx::raw_sql(DROP).execute(connection).await?;
    }
    Ok(())
}
