//! How `migration_history` compares with the plan: what `migrate` refuses, what it will run
//! (and from which statement), and what `status` reports. Pure functions of the history rows.

use std::collections::HashMap;

use super::history::{History, HistoryRow, MigrationState};
use super::{history_entries, ClickHouseError};
use crate::plan::Migration;
use crate::targets::{versioned, Status, TargetName};

/// What in `migration_history` does not match the plan.
#[derive(Debug)]
pub(super) enum Drift<'a> {
    /// Recorded, but newer than the plan's last migration: a newer release ran before this one.
    Ahead(&'a HistoryRow),
    /// Recorded, older than the plan's head, but no longer in the plan: its file was deleted or
    /// renumbered.
    Missing(&'a HistoryRow),
    /// Recorded from a file whose text (or statement split) has changed since.
    Edited { row: &'a HistoryRow, migration: &'static Migration },
}

/// A migration `migrate` will run, and the row it continues from when it stopped part-way.
#[derive(Debug)]
pub(super) struct Step<'a> {
    pub migration: &'static Migration,
    pub partial: Option<&'a HistoryRow>,
    /// The `sequence` of the version's newest row (a reverted one included), 0 when it has none:
    /// the rows this step writes go past it.
    pub last_sequence: u64,
}

pub(super) fn drift<'a>(history: &'a [HistoryRow], plan: &'static [Migration]) -> Vec<Drift<'a>> {
    let head = plan_head(plan);
    history
        .iter()
        .filter_map(|row| match find(plan, row.version) {
            None if row.version > head => Some(Drift::Ahead(row)),
            None => Some(Drift::Missing(row)),
            Some(migration) if !matches_file(row, migration) => Some(Drift::Edited { row, migration }),
            Some(_) => None,
        })
        .collect()
}

pub(super) fn find(plan: &'static [Migration], version: u64) -> Option<&'static Migration> {
    plan.iter().find(|migration| migration.version == version)
}

/// A partial row also needs the same statement count: its `statements_done` indexes into the
/// split, which a newer splitter could change without changing the text. (A reverting row counts
/// the downgrade's statements, which the downgrade checks itself.)
fn matches_file(row: &HistoryRow, migration: &Migration) -> bool {
    row.checksum == migration.checksum
        && (!row.state.is_upgrade_in_progress() || row.statements_total as usize == migration.upgrade.statements.len())
}

pub(super) fn plan_head(plan: &[Migration]) -> u64 {
    plan.last().map_or(0, |migration| migration.version)
}

/// The migrations to run, up to and including `to` (all for `None`), in version order, each with
/// the partial row it resumes from; or the refusal when the history does not match the plan
/// (see [`refuse_drift`]). `to` must be a plan version; the caller checks it.
pub(super) fn schedule<'a>(
    history: &'a History,
    plan: &'static [Migration],
    to: Option<u64>,
    server: &str,
) -> Result<Vec<Step<'a>>, ClickHouseError> {
    refuse_drift(&history.rows, plan, server)?;
    let recorded: HashMap<u64, &HistoryRow> = history.rows.iter().map(|row| (row.version, row)).collect();
    let steps = plan
        .iter()
        .filter(|migration| to.is_none_or(|to| migration.version <= to))
        .filter_map(|migration| {
            let last_sequence = history.last_sequence(migration.version);
            match recorded.get(&migration.version) {
                Some(row) if row.state == MigrationState::Applied => None,
                Some(row) => Some(Step { migration, partial: Some(*row), last_sequence }),
                None => Some(Step { migration, partial: None, last_sequence }),
            }
        })
        .collect();
    Ok(steps)
}

/// Everything that stops `migrate` before it runs anything: versions newer than the plan, a
/// downgrade left half-way, versions missing from the plan below its head, and edited files.
fn refuse_drift(history: &[HistoryRow], plan: &'static [Migration], server: &str) -> Result<(), ClickHouseError> {
    let drift = drift(history, plan);
    let ahead: Vec<&HistoryRow> =
        drift.iter().filter_map(|drift| if let Drift::Ahead(row) = drift { Some(*row) } else { None }).collect();
    if let Some(newest) = ahead.last() {
        return Err(ClickHouseError::AheadOfPlan {
            server: server.to_owned(),
            database_head: newest.version,
            plan_head: plan_head(plan),
            unknown: names(&ahead),
        });
    }
    if let Some(row) = history.iter().find(|row| row.state == MigrationState::Reverting) {
        return Err(reverting_error(row, server));
    }
    let missing: Vec<&HistoryRow> =
        drift.iter().filter_map(|drift| if let Drift::Missing(row) = drift { Some(*row) } else { None }).collect();
    if !missing.is_empty() {
        return Err(ClickHouseError::MissingFromPlan {
            server: server.to_owned(),
            missing: names(&missing),
            plan_head: plan_head(plan),
        });
    }
    for drift in drift {
        if let Drift::Edited { row, migration } = drift {
            return Err(edited_error(row, migration, server));
        }
    }
    versioned::refuse_gaps(plan, &history_entries(history), server, TargetName::Clickhouse)?;
    Ok(())
}

/// `V4 research, V5 ohlcv_daily_mv`.
fn names(rows: &[&HistoryRow]) -> String {
    rows.iter().map(|row| format!("V{} {}", row.version, row.description)).collect::<Vec<_>>().join(", ")
}

pub(super) fn reverting_error(row: &HistoryRow, server: &str) -> ClickHouseError {
    ClickHouseError::Reverting {
        server: server.to_owned(),
        version: row.version,
        description: row.description.clone(),
        done: row.statements_done,
        total: row.statements_total,
    }
}

pub(super) fn edited_error(row: &HistoryRow, migration: &'static Migration, server: &str) -> ClickHouseError {
    match row.state {
        MigrationState::Applied | MigrationState::Reverting => ClickHouseError::ChecksumMismatch {
            server: server.to_owned(),
            path: migration.upgrade.path,
            version: row.version,
            recorded: row.checksum.clone(),
            planned: migration.checksum,
        },
        MigrationState::Partial | MigrationState::Running => ClickHouseError::EditedAfterPartial {
            server: server.to_owned(),
            path: migration.upgrade.path,
            version: row.version,
            done: row.statements_done,
            recorded_total: row.statements_total,
            recorded: row.checksum.clone(),
            planned_total: migration.upgrade.statements.len(),
            planned: migration.checksum,
        },
    }
}

pub(super) fn status(history: &[HistoryRow], plan: &'static [Migration]) -> Status {
    let current = history
        .iter()
        .rev()
        .find(|row| row.state == MigrationState::Applied)
        .map(|row| format!("V{} {}", row.version, row.description));
    let recorded: HashMap<u64, &HistoryRow> = history.iter().map(|row| (row.version, row)).collect();
    let pending = plan
        .iter()
        .filter_map(|migration| match recorded.get(&migration.version) {
            Some(row) if !row.state.is_upgrade_in_progress() => None,
            Some(row) => Some(format!(
                "V{} {} ({}): resume at statement {}/{}",
                migration.version,
                migration.description,
                migration.upgrade.path,
                row.statements_done + 1,
                row.statements_total
            )),
            None => Some(format!("V{} {} ({})", migration.version, migration.description, migration.upgrade.path)),
        })
        .collect();
    let mut problems: Vec<String> = history.iter().filter_map(state_problem).collect();
    problems.extend(drift(history, plan).into_iter().map(|drift| drift_problem(drift, plan)));
    problems.extend(versioned::gap_problems(plan, &history_entries(history)));
    Status { current, pending, problems, notes: Vec::new() }
}

/// A migration stopped part-way, in either direction.
fn state_problem(row: &HistoryRow) -> Option<String> {
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

fn drift_problem(drift: Drift<'_>, plan: &[Migration]) -> String {
    match drift {
        Drift::Ahead(row) => format!(
            "V{} {} is recorded but newer than this binary's plan (head V{})",
            row.version,
            row.description,
            plan_head(plan)
        ),
        Drift::Missing(row) => format!(
            "V{} {} is recorded but not in the plan (its file was deleted or renumbered); migrate refuses until the \
             file is restored or V{} is undone with down",
            row.version, row.description, row.version
        ),
        Drift::Edited { row, migration } => format!(
            "V{} {}: recorded with checksum `{}`, but `{}` now has `{}`",
            row.version, row.description, row.checksum, migration.upgrade.path, migration.checksum
        ),
    }
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::plan::Script;
    use crate::targets::clickhouse::history::History;

    use crate::targets::clickhouse::fixtures::row;

    fn applied(version: u64, checksum: &str) -> HistoryRow {
        row(version, checksum, MigrationState::Applied, 2, 2)
    }

    const SCRIPT: Script =
        Script { path: "V1.sql", sql: "", statements: &["SELECT 1", "SELECT 2"], transactional: true };
    const V1: Migration = Migration {
        version: 1,
        description: "one",
        checksum: "sha256:1",
        upgrade: Script { path: "V1.sql", ..SCRIPT },
        downgrade: Script { path: "down/V1.sql", ..SCRIPT },
        data: None,
        reversal: crate::plan::Reversal::Script,
    };
    const V2: Migration = Migration {
        version: 2,
        description: "two",
        checksum: "sha256:2",
        upgrade: Script { path: "V2.sql", statements: &["SELECT 1", "SELECT 2", "SELECT 3"], ..SCRIPT },
        downgrade: Script { path: "down/V2.sql", ..SCRIPT },
        data: None,
        reversal: crate::plan::Reversal::Script,
    };
    const V3: Migration = Migration {
        version: 3,
        description: "three",
        checksum: "sha256:3",
        upgrade: Script { path: "V3.sql", ..SCRIPT },
        downgrade: Script { path: "down/V3.sql", ..SCRIPT },
        data: None,
        reversal: crate::plan::Reversal::Script,
    };
    static PLAN: [Migration; 3] = [V1, V2, V3];

    fn versions(steps: &[Step<'_>]) -> Vec<(u64, Option<u32>)> {
        steps.iter().map(|step| (step.migration.version, step.partial.map(|row| row.statements_done))).collect()
    }

    #[test]
    fn schedule_skips_applied_and_resumes_the_partial_migration() {
        let history = History::of(vec![applied(1, "sha256:1"), row(2, "sha256:2", MigrationState::Partial, 1, 3)], &[]);
        let steps = schedule(&history, &PLAN, None, "server").expect("schedule");
        assert_eq!(versions(&steps), [(2, Some(1)), (3, None)]);
    }

    #[test]
    fn schedule_of_an_up_to_date_database_is_empty() {
        let history = History::of(
            vec![applied(1, "sha256:1"), row(2, "sha256:2", MigrationState::Applied, 3, 3), applied(3, "sha256:3")],
            &[],
        );
        assert!(schedule(&history, &PLAN, None, "server").expect("schedule").is_empty());
    }

    #[test]
    fn newer_history_is_refused_naming_both_heads() {
        let history = History::of(vec![applied(1, "sha256:1"), applied(9, "sha256:9")], &[]);
        let message = schedule(&history, &PLAN, None, "http://u@h:1/d").expect_err("refused").to_string();
        assert!(message.starts_with("database is at V9, newer than this binary's plan (head V3)"), "{message}");
        assert!(message.contains("V9 m9") && message.contains("`http://u@h:1/d`"), "{message}");
    }

    #[test]
    fn a_partial_migration_newer_than_the_plan_is_refused_too() {
        let history = History::of(vec![applied(1, "sha256:1"), row(4, "sha256:4", MigrationState::Partial, 1, 2)], &[]);
        let error = schedule(&history, &PLAN, None, "server").expect_err("refused");
        assert!(matches!(error, ClickHouseError::AheadOfPlan { database_head: 4, .. }), "{error}");
    }

    #[test]
    fn edited_applied_migration_is_refused_with_the_file_and_both_checksums() {
        let history = History::of(vec![applied(1, "sha256:old")], &[]);
        let message = schedule(&history, &PLAN, None, "server").expect_err("refused").to_string();
        assert!(message.starts_with("V1.sql: V1 was applied"), "{message}");
        assert!(message.contains("`sha256:old`") && message.contains("`sha256:1`"), "{message}");
    }

    #[test]
    fn edited_partial_migration_is_refused_rather_than_guessing_the_statements() {
        let history =
            History::of(vec![applied(1, "sha256:1"), row(2, "sha256:old", MigrationState::Partial, 1, 3)], &[]);
        let error = schedule(&history, &PLAN, None, "server").expect_err("refused");
        let message = error.to_string();
        assert!(matches!(error, ClickHouseError::EditedAfterPartial { done: 1, .. }), "{message}");
        assert!(message.starts_with("V2.sql: V2 stopped part-way"), "{message}");
    }

    #[test]
    fn partial_migration_split_differently_is_refused_even_with_the_same_checksum() {
        let history = History::of(vec![applied(1, "sha256:1"), row(2, "sha256:2", MigrationState::Partial, 1, 4)], &[]);
        let error = schedule(&history, &PLAN, None, "server").expect_err("refused");
        assert!(
            matches!(error, ClickHouseError::EditedAfterPartial { recorded_total: 4, planned_total: 3, .. }),
            "{error}"
        );
    }

    #[test]
    fn status_names_the_partial_statement_and_every_problem() {
        let mut partial = row(2, "sha256:2", MigrationState::Partial, 1, 3);
        partial.error = "Code: 60, DB::Exception: Table d.a doesn't exist.".to_owned();
        let history = [applied(1, "sha256:1"), partial, applied(5, "sha256:5")];
        let status = status(&history, &PLAN);
        assert_eq!(status.current.as_deref(), Some("V5 m5"));
        assert_eq!(status.pending, ["V2 two (V2.sql): resume at statement 2/3", "V3 three (V3.sql)"]);
        assert_eq!(status.problems.len(), 2, "{:?}", status.problems);
        assert!(status.problems[0].starts_with("V2 m2 stopped at statement 2/3 (Code: 60"), "{:?}", status.problems);
        assert!(status.problems[1].contains("newer than this binary's plan (head V3)"), "{:?}", status.problems);
    }

    #[test]
    fn status_of_an_interrupted_migration_says_so() {
        let history = [row(1, "sha256:1", MigrationState::Partial, 0, 2)];
        let status = status(&history, &PLAN);
        assert_eq!(status.current, None);
        assert!(status.problems[0].contains("statement 1/2 (the run was interrupted)"), "{:?}", status.problems);
    }

    #[test]
    fn a_version_missing_below_the_head_is_refused_naming_it() {
        let history = History::of(vec![applied(1, "sha256:1"), applied(2, "sha256:2")], &[]);
        static WITHOUT_V2: [Migration; 2] = [V1, V3];
        let error = schedule(&history, &WITHOUT_V2, None, "server").expect_err("refused");
        let message = error.to_string();
        assert!(matches!(error, ClickHouseError::MissingFromPlan { plan_head: 3, .. }), "{message}");
        assert!(message.contains("records V2 m2") && message.contains("deleted or renumbered"), "{message}");
        let status = status(&history.rows, &WITHOUT_V2);
        assert_eq!(status.problems.len(), 1, "{status:?}");
        assert!(status.problems[0].starts_with("V2 m2 is recorded but not in the plan"), "{status:?}");
    }

    #[test]
    fn a_downgrade_left_half_way_is_refused_until_it_is_finished() {
        let history =
            History::of(vec![applied(1, "sha256:1"), row(2, "sha256:2", MigrationState::Reverting, 1, 2)], &[]);
        let error = schedule(&history, &PLAN, None, "server").expect_err("refused");
        assert!(matches!(error, ClickHouseError::Reverting { version: 2, done: 1, total: 2, .. }), "{error}");
        let status = status(&history.rows, &PLAN);
        assert_eq!(status.pending, ["V3 three (V3.sql)"], "{status:?}");
        assert!(status.problems[0].starts_with("V2 m2: its downgrade stopped at statement 2/2"), "{status:?}");
    }

    #[test]
    fn schedule_stops_at_the_target_version() {
        let history = History::of(vec![applied(1, "sha256:1")], &[]);
        let steps = schedule(&history, &PLAN, Some(2), "server").expect("schedule");
        assert_eq!(versions(&steps), [(2, None)]);
        assert!(schedule(&history, &PLAN, Some(1), "server").expect("schedule").is_empty());
    }

    #[test]
    fn a_reverted_version_is_pending_again_and_written_past_its_reverted_row() {
        let history = History::of(vec![applied(1, "sha256:1")], &[(2, 7)]);
        let steps = schedule(&history, &PLAN, None, "server").expect("schedule");
        assert_eq!(versions(&steps), [(2, None), (3, None)]);
        assert_eq!((steps[0].last_sequence, steps[1].last_sequence), (7, 0));
    }
}
