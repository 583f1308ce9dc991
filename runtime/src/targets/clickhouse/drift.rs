//! What ClickHouse adds to the engine's view of its history (`targets::versioned`): the row an
//! upgrade continues from, and the `status` line of a migration stopped part-way in either
//! direction (the engine sees both as entries; only the rows say which statement was in flight).

use super::history::{HistoryRow, MigrationState};
use crate::plan::Migration;

/// A migration `migrate` will run, and the row it continues from when it stopped part-way.
#[derive(Debug)]
pub(super) struct Step<'a> {
    pub migration: &'static Migration,
    pub partial: Option<&'a HistoryRow>,
    /// The `sequence` of the version's newest row (a reverted one included), 0 when it has none:
    /// the rows this step writes go past it.
    pub last_sequence: u64,
}

/// A migration stopped part-way, in either direction.
pub(super) fn state_problem(row: &HistoryRow) -> Option<String> {
    let cause = if row.error.is_empty() { "the run was interrupted".to_owned() } else { row.error.clone() };
    let (version, description, next, total) =
        (row.version, &row.description, row.statements_done + 1, row.statements_total);
    match row.state {
        MigrationState::Applied => None,
        MigrationState::Partial => Some(format!(
            "V{version} {description} stopped at statement {next}/{total} ({cause}); fix the cause, then run migrate \
             to resume there, or finish it by hand and run repair"
        )),
        MigrationState::Running => Some(format!(
            "V{version} {description} was interrupted during statement {next}/{total} before its outcome was \
             recorded; migrate settles that statement from the catalog and resumes (or, where the catalog cannot \
             tell, stops and asks for repair)"
        )),
        MigrationState::Reverting => Some(format!(
            "V{version} {description}: its downgrade stopped at statement {next}/{total} ({cause}); migrate refuses \
             until it is finished: fix the cause and run down again to resume there, or finish it by hand and run \
             repair"
        )),
    }
}
