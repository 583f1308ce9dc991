//! A decision of `down` (see `schedule::undo_steps`): a migration whose downgrade declares
//! `-- migrator:irreversible <reason>` is never crossed. [`refuse_crossing`] gets the versions
//! `down` is about to undo before the first of them runs, so `down` either undoes everything
//! asked or nothing.

use tradeforge_migrator_spec::migrations;

use crate::plan::{Migration, Reversal};
use crate::targets::{HistoryEntry, TargetName};

/// `down` asked to undo a migration that cannot be undone.
#[derive(Debug, thiserror::Error)]
#[error(
    "{target}: V{version} {description} cannot be undone: {reason} (its downgrade says \
     `{directive}`), so nothing was undone; choose a version of V{version} or later to go down to, \
     or restore the database from a backup taken before it"
)]
pub struct IrreversibleError {
    pub target: &'static str,
    pub version: u64,
    pub description: String,
    pub reason: String,
    pub directive: &'static str,
}

/// Fails on the first (newest) of `undo` that is irreversible: by the plan's declaration, or,
/// for a version the plan does not know (a newer release applied it), by the directive on the
/// first line of its stored downgrade.
pub fn refuse_crossing<'a>(
    target: TargetName,
    plan: &[Migration],
    undo: impl IntoIterator<Item = &'a HistoryEntry>,
) -> Result<(), IrreversibleError> {
    for step in undo {
        let reason = match plan.iter().find(|migration| migration.version == step.version) {
            Some(migration) => match migration.reversal {
                Reversal::Irreversible { reason } => Some(reason),
                Reversal::Script | Reversal::NoOp { .. } => None,
            },
            None => migrations::irreversible_reason(&step.downgrade_sql),
        };
        if let Some(reason) = reason {
            return Err(IrreversibleError {
                target: target.as_str(),
                version: step.version,
                description: step.description.clone(),
                reason: reason.to_owned(),
                directive: migrations::IRREVERSIBLE,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Script;

    const SCRIPT: Script = Script { path: "V.sql", sql: "", statements: &[], transactional: true };

    const fn migration(version: u64, reversal: Reversal) -> Migration {
        Migration {
            version,
            description: "x",
            checksum: "sha256:x",
            upgrade: SCRIPT,
            downgrade: SCRIPT,
            data: None,
            reversal,
        }
    }

    const PLAN: [Migration; 3] = [
        migration(1, Reversal::Script),
        migration(2, Reversal::Irreversible { reason: "the old column is gone" }),
        migration(3, Reversal::NoOp { reason: "nothing to undo" }),
    ];

    fn undo(versions: &[u64]) -> Vec<HistoryEntry> {
        versions.iter().map(|&version| entry(version, "SELECT 1;")).collect()
    }

    fn entry(version: u64, downgrade_sql: &str) -> HistoryEntry {
        HistoryEntry {
            version,
            description: "x".to_owned(),
            checksum: "sha256:x".to_owned(),
            applied_at: chrono::DateTime::<chrono::Utc>::UNIX_EPOCH,
            execution_ms: 0,
            state: crate::targets::EntryState::Applied,
            downgrade_sql: downgrade_sql.to_owned(),
        }
    }

    #[test]
    fn crossing_an_irreversible_migration_is_refused_with_its_reason() {
        let error = refuse_crossing(TargetName::Postgres, &PLAN, &undo(&[3, 2, 1])).expect_err("V2 is irreversible");
        assert_eq!(
            error.to_string(),
            "postgres: V2 x cannot be undone: the old column is gone (its downgrade says `-- migrator:irreversible`), \
             so nothing was undone; choose a version of V2 or later to go down to, or restore the database from a \
             backup taken before it"
        );
    }

    #[test]
    fn no_op_and_ordinary_downgrades_may_be_crossed() {
        assert!(refuse_crossing(TargetName::Clickhouse, &PLAN, &undo(&[3])).is_ok());
        assert!(refuse_crossing(TargetName::Clickhouse, &PLAN, &undo(&[1])).is_ok());
    }

    #[test]
    fn a_stored_downgrade_of_an_unknown_version_is_read_for_the_directive() {
        let stored = [entry(9, "-- migrator:irreversible data merged\n")];
        let error = refuse_crossing(TargetName::Clickhouse, &PLAN, &stored).expect_err("V9 is irreversible");
        assert_eq!((error.version, error.reason.as_str()), (9, "data merged"));
    }
}
