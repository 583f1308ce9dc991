//! What in `migration_history` does not match the plan, and which of it stops which command.
//!
//! Three kinds, each named by version in messages:
//! - *ahead*: an applied version above the plan's head, from a newer release. `migrate`/`up`
//!   refuse; `down` undoes it with the downgrade stored in its row.
//! - *missing*: an applied version below the plan's head that the plan no longer has (a deleted
//!   or renumbered file). `migrate`/`up` refuse; restoring the file or `repair` (which forgets
//!   the row) is the way past it.
//! - *edited*: an applied version whose file's checksum changed. Every command but `repair`
//!   refuses; `repair` accepts the edit.

use std::collections::HashSet;

use super::history::HistoryRow;
use super::PostgresError;
use crate::plan::Migration;
use crate::targets::Status;

/// One mismatch between a history row and the plan.
#[derive(Debug)]
pub(super) enum Drift<'a> {
    /// Applied, but newer than the plan's last migration: a newer release ran before this one.
    Ahead(&'a HistoryRow),
    /// Applied, older than the plan's head, but no longer in the plan.
    Missing(&'a HistoryRow),
    /// Applied from a file whose text has changed since.
    Edited { row: &'a HistoryRow, migration: &'static Migration },
}

pub(super) fn drift<'a>(history: &'a [HistoryRow], plan: &'static [Migration]) -> Vec<Drift<'a>> {
    let head = plan_head(plan);
    history
        .iter()
        .filter_map(|row| match plan.iter().find(|migration| migration.version == row.version) {
            None if row.version > head => Some(Drift::Ahead(row)),
            None => Some(Drift::Missing(row)),
            Some(migration) if migration.checksum != row.checksum => Some(Drift::Edited { row, migration }),
            Some(_) => None,
        })
        .collect()
}

/// The plan's last version, 0 for an empty plan.
pub(super) fn plan_head(plan: &[Migration]) -> u64 {
    plan.last().map_or(0, |migration| migration.version)
}

/// Refuses to migrate forward when a newer release has migrated the database, when an applied
/// migration is gone from the plan, or when an applied migration's file changed: each would
/// leave the schema different from what the plan describes, whatever `migrate` then did.
pub(super) fn refuse_for_upgrade(
    history: &[HistoryRow],
    plan: &'static [Migration],
    server: &str,
) -> Result<(), PostgresError> {
    let drift = drift(history, plan);
    refuse_ahead(&drift, plan, server)?;
    refuse_missing(&drift, plan, server)?;
    refuse_edited(&drift, server)
}

/// Refuses to go down past an edited migration: the plan's downgrade was written for the file
/// as it is now, not for what was applied. Versions ahead of or missing from the plan are no
/// obstacle: their rows carry the downgrade to run.
pub(super) fn refuse_for_downgrade(
    history: &[HistoryRow],
    plan: &'static [Migration],
    server: &str,
) -> Result<(), PostgresError> {
    refuse_edited(&drift(history, plan), server)
}

fn refuse_ahead(drift: &[Drift<'_>], plan: &[Migration], server: &str) -> Result<(), PostgresError> {
    let ahead: Vec<&HistoryRow> =
        drift.iter().filter_map(|drift| if let Drift::Ahead(row) = drift { Some(*row) } else { None }).collect();
    let Some(newest) = ahead.last() else {
        return Ok(());
    };
    Err(PostgresError::AheadOfPlan {
        server: server.to_owned(),
        database_head: newest.version,
        plan_head: plan_head(plan),
        unknown: labels(&ahead),
    })
}

fn refuse_missing(drift: &[Drift<'_>], plan: &[Migration], server: &str) -> Result<(), PostgresError> {
    let missing: Vec<&HistoryRow> =
        drift.iter().filter_map(|drift| if let Drift::Missing(row) = drift { Some(*row) } else { None }).collect();
    let Some(first) = missing.first() else {
        return Ok(());
    };
    Err(PostgresError::MissingFromPlan {
        server: server.to_owned(),
        version: first.version,
        missing: labels(&missing),
        plan_head: plan_head(plan),
    })
}

fn refuse_edited(drift: &[Drift<'_>], server: &str) -> Result<(), PostgresError> {
    let edited = drift.iter().find_map(|drift| match drift {
        Drift::Edited { row, migration } => Some((*row, *migration)),
        _ => None,
    });
    let Some((row, migration)) = edited else {
        return Ok(());
    };
    Err(PostgresError::ChecksumMismatch {
        server: server.to_owned(),
        path: migration.upgrade.path,
        version: row.version,
        recorded: row.checksum.clone(),
        planned: migration.checksum,
    })
}

fn labels(rows: &[&HistoryRow]) -> String {
    rows.iter().map(|row| row.label()).collect::<Vec<_>>().join(", ")
}

/// Where the database stands: the newest applied version, what `migrate` would apply, and
/// every mismatch with the plan.
pub(super) fn status(history: &[HistoryRow], plan: &'static [Migration]) -> Status {
    let applied: HashSet<u64> = history.iter().map(|row| row.version).collect();
    let current = history.last().map(HistoryRow::label);
    let pending = plan
        .iter()
        .filter(|migration| !applied.contains(&migration.version))
        .map(|migration| format!("V{} {} ({})", migration.version, migration.description, migration.upgrade.path))
        .collect();
    let head = plan_head(plan);
    let problems = drift(history, plan).into_iter().map(|drift| problem(&drift, head)).collect();
    Status { current, pending, problems, notes: Vec::new() }
}

fn problem(drift: &Drift<'_>, head: u64) -> String {
    match drift {
        Drift::Ahead(row) => format!(
            "{} is applied but newer than this binary's plan (head V{head}); `down` undoes it with its stored downgrade",
            row.label()
        ),
        Drift::Missing(row) => format!(
            "{} is applied but not in the plan (below its head V{head}): its file was deleted or renumbered; \
             restore the file, or run `repair` to forget the row",
            row.label()
        ),
        Drift::Edited { row, migration } => format!(
            "{}: applied with checksum `{}`, but `{}` now has `{}`; restore the file, or run `repair` to accept the edit",
            row.label(),
            row.checksum,
            migration.upgrade.path,
            migration.checksum
        ),
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};

    use super::*;
    use crate::plan::Script;

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
            data: None,
            reversal: crate::plan::Reversal::Script,
        },
        Migration {
            version: 3,
            description: "three",
            checksum: "sha256:3",
            upgrade: Script { path: "V3.sql", ..SCRIPT },
            downgrade: Script { path: "down/V3.sql", ..SCRIPT },
            data: None,
            reversal: crate::plan::Reversal::Script,
        },
    ];

    const SERVER: &str = "postgres://u@h:1/d";

    #[test]
    fn newer_history_is_refused_naming_both_heads() {
        let history = [row(1, "sha256:1"), row(3, "sha256:3"), row(9, "sha256:9")];
        let error = refuse_for_upgrade(&history, &PLAN, SERVER).expect_err("refused");
        let message = error.to_string();
        assert!(message.starts_with("database is at V9, newer than this binary's plan (head V3)"), "{message}");
        assert!(message.contains("V9 m9"), "{message}");
    }

    #[test]
    fn edited_migration_is_refused_with_both_checksums() {
        let history = [row(1, "sha256:old")];
        let error = refuse_for_upgrade(&history, &PLAN, SERVER).expect_err("refused");
        let message = error.to_string();
        assert!(message.starts_with("V1.sql: V1 was applied"), "{message}");
        assert!(message.contains("`sha256:old`") && message.contains("`sha256:1`"), "{message}");
        assert!(message.contains("`repair`"), "names the way past it: {message}");
    }

    #[test]
    fn version_missing_below_the_head_is_refused_by_name() {
        let history = [row(1, "sha256:1"), row(2, "sha256:2")];
        let error = refuse_for_upgrade(&history, &PLAN, SERVER).expect_err("refused");
        let message = error.to_string();
        assert!(message.contains("V2 m2"), "{message}");
        assert!(message.contains("`repair`") && message.contains("restore"), "{message}");
    }

    #[test]
    fn downgrade_passes_versions_it_can_undo_from_history_but_not_edits() {
        let unknown = [row(1, "sha256:1"), row(2, "sha256:2"), row(3, "sha256:3"), row(9, "sha256:9")];
        assert!(refuse_for_downgrade(&unknown, &PLAN, SERVER).is_ok());
        let edited = [row(1, "sha256:1"), row(3, "sha256:edited")];
        let error = refuse_for_downgrade(&edited, &PLAN, SERVER).expect_err("refused");
        assert!(error.to_string().starts_with("V3.sql: V3 was applied"), "{error}");
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
