//! Values shared by the ClickHouse target's unit tests.

use chrono::{DateTime, Utc};

use super::history::{HistoryRow, MigrationState};

/// A history row for `version`, named `m<version>`, with no stored downgrade and no error.
pub(super) fn row(version: u64, checksum: &str, state: MigrationState, done: u32, total: u32) -> HistoryRow {
    HistoryRow {
        version,
        description: format!("m{version}"),
        checksum: checksum.to_owned(),
        state,
        statements_done: done,
        statements_total: total,
        applied_at: DateTime::<Utc>::UNIX_EPOCH,
        execution_ms: 1,
        downgrade_sql: String::new(),
        error: String::new(),
        sequence: 1,
    }
}

/// Two statements whose comments and `;` inside comments the splitter must keep apart.
pub(super) const TWO_TABLES_SQL: &str = concat!(
    "-- Two tables; the second reads the first.\n",
    "CREATE TABLE a (x UInt8) ENGINE = Memory;\n",
    "\n",
    "/* copy; keep */\n",
    "-- of a\n",
    "CREATE TABLE b ENGINE = Memory\n",
    "AS SELECT * FROM a;\n",
);

/// [`TWO_TABLES_SQL`] as the build splits it.
pub(super) const TWO_TABLES_STATEMENTS: [&str; 2] = [
    "-- Two tables; the second reads the first.\nCREATE TABLE a (x UInt8) ENGINE = Memory",
    "/* copy; keep */\n-- of a\nCREATE TABLE b ENGINE = Memory\nAS SELECT * FROM a",
];
