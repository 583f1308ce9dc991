//! What in a backend's history does not match the plan, and which of it stops which command.
//!
//! - *ahead*: a recorded version above the plan's head, from a newer release. `migrate`/`up`
//!   refuse; `down` undoes it with the downgrade stored in its row.
//! - *missing*: a recorded version below the plan's head that the plan no longer has (a deleted
//!   or renumbered file). `migrate`/`up` refuse; restoring the file, `down` or `repair` (which
//!   forgets the row) is the way past it.
//! - *edited*: a recorded version whose file's checksum changed (or, for a migration stopped
//!   part-way, whose statement split changed: its progress counts statements). `migrate`/`up`
//!   refuse, and `down` refuses to undo it; `repair` accepts the edit.
//! - *gaps* ([`gaps`]): a plan version below the newest applied one that the history does not
//!   record as applied (its row was deleted, or a `partial` row was forged or left below applied
//!   versions). Running it now could repeat what it did; `migrate`/`up` refuse, `status` reports
//!   it, `repair` records it as applied once a person has checked.
//! - *a schema without history* ([`refuse_schema_without_history`]): no history table, but the
//!   database already holds tables. Running V1 over them would fail or duplicate; `baseline` is
//!   the way in.

use super::refusal::{Gap, VersionedError};
use crate::plan::Migration;
use crate::targets::{EntryState, HistoryEntry, Status, TargetName};

/// One mismatch between a history entry and the plan.
#[derive(Debug)]
pub enum Drift<'a> {
    Ahead(&'a HistoryEntry),
    Missing(&'a HistoryEntry),
    Edited { entry: &'a HistoryEntry, migration: &'static Migration },
}

/// The plan's migration of `version`.
pub fn find(plan: &'static [Migration], version: u64) -> Option<&'static Migration> {
    plan.iter().find(|migration| migration.version == version)
}

/// The plan's last version, 0 for an empty plan.
pub fn plan_head(plan: &[Migration]) -> u64 {
    plan.last().map_or(0, |migration| migration.version)
}

/// `V3 add_orders`, as every message names a recorded migration.
pub fn label(entry: &HistoryEntry) -> String {
    format!("V{} {}", entry.version, entry.description)
}

pub fn drift<'a>(plan: &'static [Migration], history: &'a [HistoryEntry]) -> Vec<Drift<'a>> {
    let head = plan_head(plan);
    history
        .iter()
        .filter_map(|entry| match find(plan, entry.version) {
            None if entry.version > head => Some(Drift::Ahead(entry)),
            None => Some(Drift::Missing(entry)),
            Some(migration) if !matches_file(entry, migration) => Some(Drift::Edited { entry, migration }),
            Some(_) => None,
        })
        .collect()
}

/// A partial entry also needs the same statement count: its progress indexes into the split,
/// which a newer splitter could change without changing the text. (A reverting entry counts the
/// downgrade's statements, which the backend checks against the downgrade it will run.)
fn matches_file(entry: &HistoryEntry, migration: &Migration) -> bool {
    entry.checksum == migration.checksum
        && match entry.state {
            EntryState::Partial { total, .. } => total as usize == migration.upgrade.statements.len(),
            EntryState::Applied | EntryState::Reverting { .. } => true,
        }
}

/// Everything that stops `migrate`/`up` before they run anything, in this order: versions newer
/// than the plan, a downgrade left half-way, versions missing from the plan below its head,
/// edited files, gaps.
pub fn refuse_for_upgrade(
    plan: &'static [Migration],
    history: &[HistoryEntry],
    server: &str,
    target: TargetName,
) -> Result<(), VersionedError> {
    let drift = drift(plan, history);
    let ahead: Vec<&HistoryEntry> =
        drift.iter().filter_map(|drift| if let Drift::Ahead(entry) = drift { Some(*entry) } else { None }).collect();
    if let Some(newest) = ahead.last() {
        return Err(VersionedError::AheadOfPlan {
            server: server.to_owned(),
            target,
            database_head: newest.version,
            plan_head: plan_head(plan),
            unknown: labels(&ahead),
        });
    }
    if let Some(entry) = history.iter().find(|entry| matches!(entry.state, EntryState::Reverting { .. })) {
        return Err(reverting(entry, server));
    }
    let missing: Vec<&HistoryEntry> =
        drift.iter().filter_map(|drift| if let Drift::Missing(entry) = drift { Some(*entry) } else { None }).collect();
    if let Some(first) = missing.first() {
        return Err(VersionedError::MissingFromPlan {
            server: server.to_owned(),
            target,
            version: first.version,
            missing: labels(&missing),
            plan_head: plan_head(plan),
        });
    }
    if let Some(Drift::Edited { entry, migration }) = drift.iter().find(|drift| matches!(drift, Drift::Edited { .. })) {
        return Err(edited(entry, migration, server));
    }
    refuse_gaps(plan, history, server, target)
}

pub(super) fn reverting(entry: &HistoryEntry, server: &str) -> VersionedError {
    let (done, total) = match entry.state {
        EntryState::Reverting { done, total } | EntryState::Partial { done, total } => (done, total),
        EntryState::Applied => (0, 0),
    };
    VersionedError::Reverting {
        server: server.to_owned(),
        version: entry.version,
        description: entry.description.clone(),
        done,
        total,
    }
}

/// The refusal of an entry whose file changed since it was recorded.
pub(super) fn edited(entry: &HistoryEntry, migration: &'static Migration, server: &str) -> VersionedError {
    match entry.state {
        EntryState::Applied | EntryState::Reverting { .. } => VersionedError::ChecksumMismatch {
            server: server.to_owned(),
            path: migration.upgrade.path,
            version: entry.version,
            recorded: entry.checksum.clone(),
            planned: migration.checksum,
        },
        EntryState::Partial { done, total } => VersionedError::EditedAfterPartial {
            server: server.to_owned(),
            path: migration.upgrade.path,
            version: entry.version,
            done,
            recorded_total: total,
            recorded: entry.checksum.clone(),
            planned_total: migration.upgrade.statements.len(),
            planned: migration.checksum,
        },
    }
}

fn labels(entries: &[&HistoryEntry]) -> String {
    entries.iter().map(|entry| label(entry)).collect::<Vec<_>>().join(", ")
}

/// Where the database stands: the newest applied version, what `migrate` would apply (and
/// where a migration stopped part-way resumes), every drift and gap. The backend adds what only
/// it can say (an interrupted statement, a downgrade stopped part-way).
pub fn status(plan: &'static [Migration], history: &[HistoryEntry]) -> Status {
    let current = history.iter().rev().find(|entry| entry.state == EntryState::Applied).map(label);
    let pending = plan
        .iter()
        .filter_map(|migration| {
            let entry = history.iter().find(|entry| entry.version == migration.version);
            let line = format!("V{} {} ({})", migration.version, migration.description, migration.upgrade.path);
            match entry.map(|entry| entry.state) {
                None => Some(line),
                Some(EntryState::Partial { done, total }) => {
                    Some(format!("{line}: resume at statement {}/{total}", done + 1))
                }
                Some(EntryState::Applied | EntryState::Reverting { .. }) => None,
            }
        })
        .collect();
    let head = plan_head(plan);
    let mut problems: Vec<String> = drift(plan, history).into_iter().map(|drift| problem(&drift, head)).collect();
    problems.extend(gap_problems(plan, history));
    Status { current, pending, problems, notes: Vec::new() }
}

fn problem(drift: &Drift<'_>, head: u64) -> String {
    match drift {
        Drift::Ahead(entry) => format!(
            "{} is applied but newer than this binary's plan (head V{head}); `down` undoes it with its stored downgrade",
            label(entry)
        ),
        Drift::Missing(entry) => format!(
            "{} is applied but not in the plan (below its head V{head}): its file was deleted or renumbered; \
             restore the file, undo it with `down`, or run `repair` to forget the row",
            label(entry)
        ),
        Drift::Edited { entry, migration } => format!(
            "{}: applied with checksum `{}`, but `{}` now has `{}`; restore the file, or run `repair` to accept the edit",
            label(entry),
            entry.checksum,
            migration.upgrade.path,
            migration.checksum
        ),
    }
}

/// The newest plan version the history records as applied; 0 when none is. Versions the plan
/// does not have (a newer release's, a deleted file's) are drift of their own and left out.
pub fn applied_head(plan: &[Migration], history: &[HistoryEntry]) -> u64 {
    history
        .iter()
        .filter(|entry| entry.state == EntryState::Applied)
        .filter(|entry| plan.iter().any(|migration| migration.version == entry.version))
        .map(|entry| entry.version)
        .max()
        .unwrap_or(0)
}

/// Every plan version below [`applied_head`] that the history does not record as applied, in
/// version order. A version being undone (`Reverting`) is `down`'s business, not a gap.
pub fn gaps(plan: &'static [Migration], history: &[HistoryEntry]) -> Vec<Gap> {
    let head = applied_head(plan, history);
    plan.iter()
        .take_while(|migration| migration.version < head)
        .filter_map(|migration| {
            let entry = history.iter().find(|entry| entry.version == migration.version);
            let partial = match entry.map(|entry| entry.state) {
                Some(EntryState::Applied | EntryState::Reverting { .. }) => return None,
                Some(EntryState::Partial { done, total }) => Some((done, total)),
                None => None,
            };
            Some(Gap { version: migration.version, description: migration.description, partial })
        })
        .collect()
}

/// Refuses to migrate forward over a gap (see [`gaps`]).
pub fn refuse_gaps(
    plan: &'static [Migration],
    history: &[HistoryEntry],
    server: &str,
    target: TargetName,
) -> Result<(), VersionedError> {
    let gaps = gaps(plan, history);
    if gaps.is_empty() {
        return Ok(());
    }
    Err(VersionedError::Gaps { server: server.to_owned(), target, head: applied_head(plan, history), gaps })
}

/// `status`'s line for each gap.
pub fn gap_problems(plan: &'static [Migration], history: &[HistoryEntry]) -> Vec<String> {
    let head = applied_head(plan, history);
    gaps(plan, history)
        .iter()
        .map(|gap| {
            format!(
                "{gap} is below V{head}, the newest applied version: migrate refuses; if it ran here, check its \
                 changes and run repair to record it, otherwise renumber it above V{head}"
            )
        })
        .collect()
}

/// The gaps with no row at all, which `repair` records as applied (a `partial` gap is finished
/// by the backend's own repair of partial rows).
pub fn unrecorded_gaps(plan: &'static [Migration], history: &[HistoryEntry]) -> Vec<&'static Migration> {
    gaps(plan, history).iter().filter(|gap| gap.partial.is_none()).filter_map(|gap| find(plan, gap.version)).collect()
}

/// `repair`'s line for a gap it records as applied.
pub fn gap_repair_line(migration: &Migration, head: u64) -> String {
    format!(
        "V{} {}: recorded as applied without running it: it had no history row below V{head}, the newest applied \
         version; a person checked that it ran",
        migration.version, migration.description
    )
}

/// Refuses to start a history over a schema that already holds tables. The backend asks only when
/// its history table does not exist; `objects` are the tables it found. Nothing to refuse when the
/// plan is empty or the database holds nothing. (A history table that exists, even empty, was made
/// by the migrator: the tables beside it are not taken for an unrecorded schema.)
pub fn refuse_schema_without_history(
    plan: &'static [Migration],
    objects: Vec<String>,
    server: &str,
    target: TargetName,
) -> Result<(), VersionedError> {
    match plan.first() {
        Some(first) if !objects.is_empty() => Err(VersionedError::SchemaWithoutHistory {
            server: server.to_owned(),
            target,
            objects,
            first: first.version,
        }),
        _ => Ok(()),
    }
}
