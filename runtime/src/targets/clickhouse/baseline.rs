//! `baseline`: starts the history of a database whose schema another tool created, by recording
//! plan migrations as applied without running them.

use chrono::Utc;

use super::drift::find;
use super::history::{History, HistoryRow};
use super::ClickHouseError;
use crate::plan::Migration;

/// The `applied` row of every plan migration up to and including `version`; refused when
/// `migration_history` already records a version (reverted ones do not count).
pub(super) fn rows(
    history: &History,
    plan: &'static [Migration],
    version: u64,
    server: &str,
) -> Result<Vec<HistoryRow>, ClickHouseError> {
    if !history.rows.is_empty() {
        let recorded = history.rows.iter().map(|row| format!("V{}", row.version)).collect::<Vec<_>>().join(", ");
        return Err(ClickHouseError::BaselineNotEmpty { server: server.to_owned(), recorded });
    }
    if find(plan, version).is_none() {
        return Err(super::unknown_version(plan, version));
    }
    let applied_at = Utc::now();
    let rows = plan
        .iter()
        .take_while(|migration| migration.version <= version)
        .map(|migration| {
            HistoryRow::recorded_without_running(migration, applied_at, history.last_sequence(migration.version) + 1)
        })
        .collect();
    Ok(rows)
}
