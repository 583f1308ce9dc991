//! `repair`: accepts what a person fixed by hand, by writing history rows and running nothing.
//!
//! - A partial migration is recorded as applied (with the plan's checksum); the line names the
//!   statements the migrator did not run, which the person ran or made unnecessary.
//! - A downgrade left half-way is recorded as reverted; the line names the downgrade statements
//!   the migrator did not run.
//! - An applied migration whose file changed since gets the plan's checksum, description and
//!   downgrade; one whose downgrade file alone changed gets the plan's downgrade.
//! - A version the plan does not know, below the plan's head (its file was deleted or renumbered),
//!   is forgotten: a `reverted` row marked as such makes it read as not applied, and what it
//!   created stays in the database. This is the way past `migrate`'s refusal, as in PostgreSQL.
//! - A version above the plan's head is left as it is, and the line says so: only the release
//!   that has its file, or `down` with its stored downgrade, can deal with it.

use chrono::Utc;

use super::downgrade::Downgrade;
use super::history::{History, HistoryRow, MigrationState};
use super::history_entries;
use super::script::{first_line, numbered};
use crate::plan::Migration;
use crate::targets::versioned::{self, drift::find, saturating_u32};

/// One line of the report, and the row to write for it (none when the version is left alone).
#[derive(Debug)]
pub(super) struct Fix {
    pub line: String,
    pub write: Option<Write>,
}

#[derive(Debug)]
pub(super) enum Write {
    /// The row as the version's new current state.
    Current(HistoryRow),
    /// The row as the version's `reverted` row: the version reads as not applied from now on.
    Reverted(HistoryRow),
}

/// What `repair` does, one fix per version that needs one, in version order: the same list for
/// the preview the operator confirms and for the writes.
pub(super) fn fixes(history: &History, plan: &'static [Migration]) -> Vec<Fix> {
    let mut fixes: Vec<(u64, Fix)> =
        history.rows.iter().filter_map(|row| fix(row, plan).map(|fix| (row.version, fix))).collect();
    let entries = history_entries(&history.rows);
    let head = versioned::applied_head(plan, &entries);
    fixes.extend(versioned::unrecorded_gaps(plan, &entries).into_iter().map(|migration| {
        let sequence = history.last_sequence(migration.version) + 1;
        let row = HistoryRow::recorded_without_running(migration, Utc::now(), sequence);
        (migration.version, Fix { line: versioned::gap_repair_line(migration, head), write: Some(Write::Current(row)) })
    }));
    fixes.sort_by_key(|(version, _)| *version);
    fixes.into_iter().map(|(_, fix)| fix).collect()
}

fn fix(row: &HistoryRow, plan: &'static [Migration]) -> Option<Fix> {
    let migration = find(plan, row.version);
    let plan_head = plan.last().map_or(0, |migration| migration.version);
    match (row.state, migration) {
        (MigrationState::Reverting, _) => Some(finish_downgrade(row, plan)),
        (MigrationState::Partial | MigrationState::Running, Some(migration)) => Some(finish_upgrade(row, migration)),
        (MigrationState::Applied, Some(migration)) => follow_file(row, migration),
        (MigrationState::Partial | MigrationState::Running | MigrationState::Applied, None)
            if row.version < plan_head =>
        {
            Some(forget(row, plan_head))
        }
        (MigrationState::Partial | MigrationState::Running, None) => {
            Some(leave(row, &format!("partial at {}/{}", row.statements_done, row.statements_total)))
        }
        (MigrationState::Applied, None) => Some(leave(row, "applied")),
    }
}

/// The row a repair writes: `row` as the plan has the migration, a step past it.
fn as_planned(row: &HistoryRow, migration: &Migration) -> HistoryRow {
    let total = saturating_u32(migration.upgrade.statements.len());
    HistoryRow {
        description: migration.description.to_owned(),
        checksum: migration.checksum.to_owned(),
        state: MigrationState::Applied,
        statements_done: total,
        statements_total: total,
        downgrade_sql: migration.downgrade.sql.to_owned(),
        error: String::new(),
        sequence: row.sequence + 1,
        ..row.clone()
    }
}

fn finish_upgrade(row: &HistoryRow, migration: &'static Migration) -> Fix {
    let statements = migration.upgrade.statements;
    let done = row.statements_done as usize;
    let same_file = row.checksum == migration.checksum && row.statements_total as usize == statements.len();
    let not_run = if same_file && done >= statements.len() {
        "every statement had run".to_owned()
    } else if same_file && row.state == MigrationState::Running {
        let started = format!("statement {}/{} (`{}`)", done + 1, statements.len(), first_line(statements[done]));
        let rest = if done + 1 < statements.len() {
            format!(
                "; {} {} not run by the migrator",
                numbered(statements, done + 1),
                were(statements.len() - done - 1)
            )
        } else {
            String::new()
        };
        format!("{started} was started by the migrator but its outcome was never recorded{rest}")
    } else if same_file {
        format!("{} {} not run by the migrator", numbered(statements, done), were(statements.len() - done))
    } else {
        format!(
            "with the file's checksum `{}`; the migrator had run {} of {} statements of the file as it was then \
             (checksum `{}`), the rest was not run by it",
            migration.checksum, row.statements_done, row.statements_total, row.checksum
        )
    };
    let mut applied = as_planned(row, migration);
    applied.applied_at = Utc::now();
    Fix {
        line: format!("V{} {}: recorded as applied; {not_run}", row.version, migration.description),
        write: Some(Write::Current(applied)),
    }
}

fn finish_downgrade(row: &HistoryRow, plan: &'static [Migration]) -> Fix {
    let done = row.statements_done as usize;
    // The statements are named when they can be found as the downgrade that stopped had them.
    let statements = Downgrade::of(row, find(plan, row.version), "")
        .ok()
        .map(|downgrade| downgrade.statements().into_iter().map(str::to_owned).collect::<Vec<_>>())
        .filter(|statements| statements.len() == row.statements_total as usize);
    let not_run = match statements {
        Some(statements) if done < statements.len() => {
            format!(
                "downgrade {} {} not run by the migrator",
                numbered(&statements, done),
                were(statements.len() - done)
            )
        }
        _ => format!(
            "the migrator had run {} of its {} downgrade statements, the rest was not run by it",
            row.statements_done, row.statements_total
        ),
    };
    let reverted =
        HistoryRow { error: String::new(), applied_at: Utc::now(), sequence: row.sequence + 1, ..row.clone() };
    Fix {
        line: format!("V{} {}: recorded as reverted; {not_run}", row.version, row.description),
        write: Some(Write::Reverted(reverted)),
    }
}

/// An applied migration takes the file's checksum, description and downgrade, as they are now.
fn follow_file(row: &HistoryRow, migration: &'static Migration) -> Option<Fix> {
    let mut changed = Vec::new();
    if row.checksum != migration.checksum {
        changed.push(format!(
            "checksum `{}` → `{}` (`{}` changed after it was applied)",
            row.checksum, migration.checksum, migration.upgrade.path
        ));
    }
    if row.description != migration.description {
        changed.push(format!("description `{}` → `{}`", row.description, migration.description));
    }
    if row.downgrade_sql != migration.downgrade.sql {
        changed.push(format!("stored downgrade replaced by `{}` as it is now", migration.downgrade.path));
    }
    if changed.is_empty() {
        return None;
    }
    Some(Fix {
        line: format!("V{} {}: {}", row.version, migration.description, changed.join("; ")),
        write: Some(Write::Current(as_planned(row, migration))),
    })
}

fn forget(row: &HistoryRow, plan_head: u64) -> Fix {
    let note = "forgotten by repair: not in the plan; what it created was left in the database";
    let forgotten =
        HistoryRow { error: note.to_owned(), applied_at: Utc::now(), sequence: row.sequence + 1, ..row.clone() };
    Fix {
        line: format!(
            "V{} {}: forgotten: not in this binary's plan, below its head V{plan_head} (deleted or renumbered); \
             what it created stays in the database",
            row.version, row.description
        ),
        write: Some(Write::Reverted(forgotten)),
    }
}

fn leave(row: &HistoryRow, state: &str) -> Fix {
    Fix {
        line: format!(
            "V{} {}: left as it is ({state}): not in this binary's plan; the release that has its file can deal \
             with it, or down undoes it with the downgrade stored in `migration_history`",
            row.version, row.description
        ),
        write: None,
    }
}

fn were(count: usize) -> &'static str {
    if count == 1 {
        "was"
    } else {
        "were"
    }
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;

    use super::*;
    use crate::plan::Script;

    /// A row that stored its downgrade and its last error.
    fn row(version: u64, checksum: &str, state: MigrationState, done: u32, total: u32) -> HistoryRow {
        HistoryRow {
            downgrade_sql: "DROP TABLE b;
DROP TABLE a;
"
            .to_owned(),
            error: "Code: 60".to_owned(),
            sequence: 4,
            ..crate::targets::clickhouse::fixtures::row(version, checksum, state, done, total)
        }
    }

    const DOWN: Script = Script {
        path: "down/V1.sql",
        sql: "DROP TABLE b;\nDROP TABLE a;\n",
        statements: &["DROP TABLE b", "DROP TABLE a"],
        transactional: true,
    };
    static PLAN: [Migration; 1] = [Migration {
        version: 1,
        description: "m1",
        checksum: "sha256:1",
        upgrade: Script {
            path: "V1.sql",
            sql: "CREATE TABLE a (x UInt8) ENGINE = Memory;\nCREATE TABLE b (x UInt8) ENGINE = Memory;\n",
            statements: &["CREATE TABLE a (x UInt8) ENGINE = Memory", "CREATE TABLE b (x UInt8) ENGINE = Memory"],
            transactional: true,
        },
        downgrade: DOWN,
        data: None,
        reversal: crate::plan::Reversal::Script,
    }];

    fn written(fix: &Fix) -> &HistoryRow {
        match &fix.write {
            Some(Write::Current(row) | Write::Reverted(row)) => row,
            None => panic!("nothing written for {fix:?}"),
        }
    }

    #[test]
    fn a_partial_migration_becomes_applied_naming_the_statements_not_run() {
        let fixes = fixes(&History::of(vec![row(1, "sha256:1", MigrationState::Partial, 1, 2)], &[]), &PLAN);
        assert_eq!(fixes.len(), 1);
        assert_eq!(
            fixes[0].line,
            "V1 m1: recorded as applied; statement 2/2 (`CREATE TABLE b (x UInt8) ENGINE = Memory`) was not run by \
             the migrator"
        );
        let applied = written(&fixes[0]);
        assert!(matches!(fixes[0].write, Some(Write::Current(_))));
        assert_eq!((applied.state, applied.statements_done, applied.statements_total), (MigrationState::Applied, 2, 2));
        assert_eq!((applied.sequence, applied.error.as_str()), (5, ""));
    }

    #[test]
    fn a_partial_migration_of_an_edited_file_becomes_applied_with_the_new_checksum() {
        let fixes = fixes(&History::of(vec![row(1, "sha256:old", MigrationState::Partial, 1, 3)], &[]), &PLAN);
        assert!(fixes[0].line.contains("`sha256:1`") && fixes[0].line.contains("1 of 3"), "{}", fixes[0].line);
        assert_eq!(written(&fixes[0]).checksum, "sha256:1");
    }

    #[test]
    fn a_downgrade_left_half_way_becomes_reverted() {
        let fixes = fixes(&History::of(vec![row(1, "sha256:1", MigrationState::Reverting, 1, 2)], &[]), &PLAN);
        assert_eq!(
            fixes[0].line,
            "V1 m1: recorded as reverted; downgrade statement 2/2 (`DROP TABLE a`) was not run by the migrator"
        );
        assert!(matches!(fixes[0].write, Some(Write::Reverted(_))));
        assert_eq!(written(&fixes[0]).sequence, 5);
    }

    #[test]
    fn an_edited_applied_migration_takes_the_files_checksum_and_downgrade() {
        let mut applied = row(1, "sha256:old", MigrationState::Applied, 2, 2);
        applied.downgrade_sql = "DROP TABLE a;\n".to_owned();
        let fixes = fixes(&History::of(vec![applied], &[]), &PLAN);
        assert_eq!(
            fixes[0].line,
            "V1 m1: checksum `sha256:old` → `sha256:1` (`V1.sql` changed after it was applied); stored downgrade \
             replaced by `down/V1.sql` as it is now"
        );
        let repaired = written(&fixes[0]);
        assert_eq!((repaired.checksum.as_str(), repaired.downgrade_sql.as_str()), ("sha256:1", DOWN.sql));
        assert_eq!(repaired.applied_at, DateTime::<Utc>::UNIX_EPOCH, "keeps when it was applied");
    }

    #[test]
    fn a_matching_history_needs_no_repair_and_unknown_versions_are_left() {
        let mut matching = row(1, "sha256:1", MigrationState::Applied, 2, 2);
        matching.error.clear();
        let fixes = fixes(&History::of(vec![matching, row(7, "sha256:7", MigrationState::Applied, 1, 1)], &[]), &PLAN);
        assert_eq!(fixes.len(), 1, "{fixes:?}");
        assert!(fixes[0].line.starts_with("V7 m7: left as it is (applied): not in this binary's plan"), "{fixes:?}");
        assert!(fixes[0].write.is_none());
    }
}
