//! What `up`/`migrate` apply, what `down` undoes and what `baseline` records: pure functions of
//! the plan and a backend's history, each refusing (before any step runs) what it cannot do.

use super::drift::{self, find, label};
use super::irreversible;
use super::refusal::{kind, VersionedError};
use crate::plan::Migration;
use crate::targets::{EntryState, HistoryEntry, TargetName, VersionTarget};

/// Which way a step moves the database: the spec's own `Direction`, the folder a script comes from.
pub use tradeforge_migrator_spec::source::Direction;

/// The command that runs (and resumes) a step of `direction`.
pub fn command(direction: Direction) -> &'static str {
    match direction {
        Direction::Upgrade => "migrate",
        Direction::Downgrade => "down",
    }
}

/// One migration to run, in one direction.
#[derive(Clone, Copy, Debug)]
pub enum Step<'a> {
    /// The plan's upgrade of `migration`; `resume` is its entry when an earlier run stopped
    /// part-way (`EntryState::Partial`).
    Upgrade { migration: &'static Migration, resume: Option<&'a HistoryEntry> },
    /// Undoes the recorded `entry`: with the plan's downgrade when the plan knows the version
    /// (`planned`), else with the downgrade stored in the entry. `entry.state` is `Reverting`
    /// when an earlier `down` stopped part-way.
    Downgrade { entry: &'a HistoryEntry, planned: Option<&'static Migration> },
}

impl Step<'_> {
    pub fn version(&self) -> u64 {
        match self {
            Step::Upgrade { migration, .. } => migration.version,
            Step::Downgrade { entry, .. } => entry.version,
        }
    }

    pub fn direction(&self) -> Direction {
        match self {
            Step::Upgrade { .. } => Direction::Upgrade,
            Step::Downgrade { .. } => Direction::Downgrade,
        }
    }
}

/// The migration of `version`, or the refusal naming the nearest versions the plan has.
pub fn find_version(
    plan: &'static [Migration],
    version: u64,
    target: TargetName,
) -> Result<&'static Migration, VersionedError> {
    find(plan, version).ok_or_else(|| VersionedError::UnknownVersion {
        target,
        version,
        known: nearby(plan, version, target),
    })
}

/// `the nearest are V3 orders, V5 audit`: up to two versions on each side of `version`.
fn nearby(plan: &[Migration], version: u64, target: TargetName) -> String {
    let split = plan.partition_point(|migration| migration.version < version);
    let below = &plan[split.saturating_sub(2)..split];
    let above = &plan[split..plan.len().min(split + 2)];
    let names: Vec<String> = below
        .iter()
        .chain(above)
        .map(|migration| format!("V{} {}", migration.version, migration.description))
        .collect();
    if names.is_empty() {
        format!("the plan has no {} migrations", kind(target))
    } else {
        format!("the nearest are {}", names.join(", "))
    }
}

/// The migrations `up --to to` (all for `None`) applies, in version order, each with the entry it
/// resumes from; or the refusal: a `to` the plan does not have, then every drift
/// (`drift::refuse_for_upgrade`).
pub fn upgrade_steps<'a>(
    plan: &'static [Migration],
    history: &'a [HistoryEntry],
    to: Option<u64>,
    server: &str,
    target: TargetName,
) -> Result<Vec<Step<'a>>, VersionedError> {
    if let Some(to) = to {
        find_version(plan, to, target)?;
    }
    drift::refuse_for_upgrade(plan, history, server, target)?;
    let last = to.unwrap_or(u64::MAX);
    Ok(plan
        .iter()
        .filter(|migration| migration.version <= last)
        .filter_map(|migration| {
            let entry = history.iter().find(|entry| entry.version == migration.version);
            match entry.map(|entry| entry.state) {
                Some(EntryState::Applied | EntryState::Reverting { .. }) => None,
                Some(EntryState::Partial { .. }) => Some(Step::Upgrade { migration, resume: entry }),
                None => Some(Step::Upgrade { migration, resume: None }),
            }
        })
        .collect())
}

/// What `down --to to` undoes, newest first, until only versions up to `to` remain; or the
/// refusal, in this order: a migration stopped part-way (resume or repair it first), a `to`
/// above the current version, a `to` neither recorded nor in the plan, a downgrade stopped
/// part-way that `to` would not finish, an edited file among the versions to undo, an
/// irreversible migration among them. A version the plan does not know is undone with the
/// downgrade stored in its entry.
pub fn downgrade_steps<'a>(
    plan: &'static [Migration],
    history: &'a [HistoryEntry],
    to: VersionTarget,
    server: &str,
    target: TargetName,
) -> Result<Vec<Step<'a>>, VersionedError> {
    if let Some(entry) = history.iter().find(|entry| matches!(entry.state, EntryState::Partial { .. })) {
        let EntryState::Partial { done, total } = entry.state else { unreachable!("matched above") };
        return Err(VersionedError::PartialBlocksDowngrade {
            server: server.to_owned(),
            version: entry.version,
            description: entry.description.clone(),
            done,
            total,
        });
    }
    let keep = match to {
        VersionTarget::Base => 0,
        VersionTarget::Version(version) => {
            let current = history.last().map_or(0, |entry| entry.version);
            if version > current {
                let current = history.last().map_or_else(|| "base (nothing applied)".to_owned(), label);
                return Err(VersionedError::DowngradeAboveCurrent { server: server.to_owned(), to: version, current });
            }
            if !history.iter().any(|entry| entry.version == version) {
                find_version(plan, version, target)?;
            }
            version
        }
    };
    if let Some(entry) =
        history.iter().find(|entry| matches!(entry.state, EntryState::Reverting { .. }) && entry.version <= keep)
    {
        return Err(drift::reverting(entry, server));
    }
    let undo: Vec<&HistoryEntry> = history.iter().rev().take_while(|entry| entry.version > keep).collect();
    for entry in &undo {
        if let Some(migration) = find(plan, entry.version).filter(|migration| migration.checksum != entry.checksum) {
            return Err(drift::edited(entry, migration, server));
        }
    }
    irreversible::refuse_crossing(target, plan, undo.iter().copied())?;
    Ok(undo.into_iter().map(|entry| Step::Downgrade { entry, planned: find(plan, entry.version) }).collect())
}

/// The plan migrations `baseline` records as applied without running them: every one up to and
/// including `version`; refused for a `version` the plan does not have and for a history that
/// records anything.
pub fn baseline_migrations(
    plan: &'static [Migration],
    history: &[HistoryEntry],
    version: u64,
    server: &str,
    target: TargetName,
) -> Result<Vec<&'static Migration>, VersionedError> {
    find_version(plan, version, target)?;
    if let Some(last) = history.last() {
        return Err(VersionedError::BaselineOnHistory {
            server: server.to_owned(),
            target,
            count: history.len(),
            current: label(last),
        });
    }
    Ok(plan.iter().take_while(|migration| migration.version <= version).collect())
}
