//! Decisions of a versioned target (PostgreSQL, ClickHouse) that read only the plan and a
//! backend's history ([`HistoryEntry`]), written once for both, with one error type and one
//! wording: the backends ask their servers and pass the answers in.
//!
//! - *Gaps* ([`gaps`]): a plan version below the newest applied one that the history does not
//!   record as applied (its row was deleted, or a `partial` row was forged or left below applied
//!   versions). Running it now could repeat what it did; `migrate`/`up` refuse, `status` reports
//!   it, `repair` records it as applied once a person has checked (after a confirmation).
//! - *A schema without history* ([`refuse_schema_without_history`]): no history table, but the
//!   database already holds tables (the history table was dropped, or another tool made the
//!   schema). Running V1 over them would fail or duplicate; `baseline` is the way in.
//! - *An intent without an outcome* (the [`effect`] submodule): a statement that was started but
//!   whose outcome was never recorded (the migrator died in between) is settled from what the
//!   server's catalog shows, or, where the catalog cannot tell, the run stops and asks for `repair`.

pub mod effect;

use std::fmt;

use super::{EntryState, HistoryEntry, TargetName};
use crate::plan::Migration;

/// Refusals shared by the SQL targets; each backend's error wraps it unchanged.
#[derive(Debug, thiserror::Error)]
pub enum VersionedError {
    #[error(
        "`{server}`: the history has a gap below V{head}, its newest applied version: {gaps}; running {them} now \
         could repeat what {they} did, so nothing was run; if {they} did run here (a history row was deleted or \
         lost), check that the database has {their} changes and run `migrator repair --target {target}`, which \
         records {them} as applied after you confirm; if {they} never ran here (a file merged with a version below \
         ones already applied), renumber {them} above V{head}",
        gaps = list(.gaps),
        them = pronoun(.gaps.len(), "it", "them"),
        they = pronoun(.gaps.len(), "it", "they"),
        their = pronoun(.gaps.len(), "its", "their"),
    )]
    Gaps { server: String, target: TargetName, head: u64, gaps: Vec<Gap> },
    #[error(
        "`{server}` has no migration history (`migration_history` does not exist), but the database already holds \
         {objects}; migrating would run \
         V{first} over a schema it did not create; if another tool (or a lost history table) built this schema, \
         find the plan version it matches and run `migrator baseline --target {target} <version>`, which records \
         the migrations up to it as applied without running them; if these objects do not belong here, point the \
         migrator at an empty database",
        objects = object_list(.objects),
    )]
    SchemaWithoutHistory { server: String, target: TargetName, objects: Vec<String>, first: u64 },
    #[error(transparent)]
    Unsettled(Box<Unsettled>),
}

/// A statement started but without a recorded outcome, which the catalog cannot settle:
/// [`VersionedError::Unsettled`].
#[derive(Debug, thiserror::Error)]
#[error(
    "{path}: statement {number}/{total} of V{version} {description} (`{first_line}`) was started on `{server}` \
     but its outcome was never recorded (the migrator stopped in between), and {why}, so nothing was run; \
     check whether it ran: if it did, finish V{version} by hand and run `migrator repair --target {target}`, \
     which records V{version} as applied after you confirm; if it did not, run it (and the rest of V{version}) \
     by hand and run repair the same way"
)]
pub struct Unsettled {
    pub server: String,
    pub target: TargetName,
    pub path: &'static str,
    pub version: u64,
    pub description: &'static str,
    /// 1-based.
    pub number: usize,
    pub total: usize,
    pub first_line: String,
    /// Why the catalog cannot tell ([`effect::Unreadable`]), or what it showed.
    pub why: String,
}

/// One plan version the history does not record as applied, below applied versions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Gap {
    pub version: u64,
    pub description: &'static str,
    /// `None`: no row at all; `Some`: the row says `done` of `total` statements ran.
    pub partial: Option<(u32, u32)>,
}

impl fmt::Display for Gap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.partial {
            None => write!(f, "V{} {} (no history row)", self.version, self.description),
            Some((done, total)) => {
                write!(f, "V{} {} (recorded as partial at {done}/{total})", self.version, self.description)
            }
        }
    }
}

fn list(gaps: &[Gap]) -> String {
    gaps.iter().map(Gap::to_string).collect::<Vec<_>>().join(", ")
}

fn pronoun(count: usize, one: &'static str, many: &'static str) -> &'static str {
    if count == 1 {
        one
    } else {
        many
    }
}

/// `tables `a`, `b` and 3 more`.
fn object_list(names: &[String]) -> String {
    const SHOWN: usize = 5;
    let mut text = names.iter().take(SHOWN).map(|name| format!("`{name}`")).collect::<Vec<_>>().join(", ");
    if names.len() > SHOWN {
        text.push_str(&format!(" and {} more", names.len() - SHOWN));
    }
    format!("{} {text}", pronoun(names.len(), "the table", "the tables"))
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
    gaps(plan, history)
        .iter()
        .filter(|gap| gap.partial.is_none())
        .filter_map(|gap| plan.iter().find(|migration| migration.version == gap.version))
        .collect()
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

#[cfg(test)]
pub(crate) mod tests {
    use chrono::{DateTime, Utc};

    use super::*;
    use crate::plan::Script;

    const SCRIPT: Script = Script { path: "V.sql", sql: "", statements: &["SELECT 1"], transactional: true };

    /// A one-statement migration `V<version> <description>`, for the SQL targets' unit tests.
    pub(crate) const fn migration(version: u64, description: &'static str) -> Migration {
        Migration {
            version,
            description,
            checksum: "sha256:x",
            upgrade: SCRIPT,
            downgrade: SCRIPT,
            reversal: crate::plan::Reversal::Script,
            data: None,
        }
    }
    static PLAN: [Migration; 4] = [migration(1, "a"), migration(2, "b"), migration(3, "c"), migration(4, "d")];

    fn entry(version: u64, state: EntryState) -> HistoryEntry {
        HistoryEntry {
            version,
            description: format!("m{version}"),
            checksum: "sha256:x".to_owned(),
            applied_at: DateTime::<Utc>::UNIX_EPOCH,
            execution_ms: 0,
            state,
            downgrade_sql: String::new(),
        }
    }

    fn applied(version: u64) -> HistoryEntry {
        entry(version, EntryState::Applied)
    }

    #[test]
    fn a_deleted_row_below_the_head_is_a_gap_named_with_the_fixes() {
        let history = [applied(1), applied(3)];
        assert_eq!(gaps(&PLAN, &history), [Gap { version: 2, description: "b", partial: None }]);
        let message =
            refuse_gaps(&PLAN, &history, "postgres://u@h/d", TargetName::Postgres).expect_err("refused").to_string();
        assert!(message.starts_with("`postgres://u@h/d`: the history has a gap below V3"), "{message}");
        assert!(message.contains("V2 b (no history row)"), "{message}");
        assert!(message.contains("`migrator repair --target postgres`"), "{message}");
        assert!(message.contains("renumber it above V3"), "{message}");
    }

    #[test]
    fn a_partial_row_below_applied_versions_is_a_gap_but_a_partial_head_is_a_resume() {
        let partial = EntryState::Partial { done: 1, total: 2 };
        let history = [applied(1), entry(2, partial), applied(3)];
        assert_eq!(gaps(&PLAN, &history), [Gap { version: 2, description: "b", partial: Some((1, 2)) }]);
        assert!(unrecorded_gaps(&PLAN, &history).is_empty(), "the backend's repair finishes partial rows");
        assert!(gaps(&PLAN, &[applied(1), entry(2, partial)]).is_empty());
    }

    #[test]
    fn pending_versions_above_the_head_are_no_gap() {
        assert!(gaps(&PLAN, &[]).is_empty());
        assert!(gaps(&PLAN, &[applied(1), applied(2)]).is_empty());
        let gaps = gaps(&PLAN, &[applied(4)]);
        assert_eq!(gaps.iter().map(|gap| gap.version).collect::<Vec<_>>(), [1, 2, 3]);
        let message = refuse_gaps(&PLAN, &[applied(4)], "s", TargetName::Clickhouse).expect_err("gap").to_string();
        assert!(message.contains("running them now could repeat what they did"), "{message}");
    }

    /// Every history a backend can hold over a four-migration plan (each version absent,
    /// applied or partial): a history refused for gaps is exactly one where an applied version
    /// sits above a version not applied; and recording the unrecorded gaps as applied (repair)
    /// leaves only partial gaps.
    #[test]
    fn gaps_are_exactly_the_unapplied_versions_below_an_applied_one() {
        for code in 0..3u32.pow(4) {
            let mut history = Vec::new();
            let mut digits = code;
            for version in 1..=4 {
                match digits % 3 {
                    1 => history.push(applied(version)),
                    2 => history.push(entry(version, EntryState::Partial { done: 0, total: 1 })),
                    _ => {}
                }
                digits /= 3;
            }
            let is_applied =
                |version: u64| history.iter().any(|e| e.version == version && e.state == EntryState::Applied);
            let expected: Vec<u64> = (1..=4).filter(|&v| !is_applied(v) && (v + 1..=4).any(&is_applied)).collect();
            let found: Vec<u64> = gaps(&PLAN, &history).iter().map(|gap| gap.version).collect();
            assert_eq!(found, expected, "{history:?}");
            assert_eq!(refuse_gaps(&PLAN, &history, "s", TargetName::Postgres).is_err(), !expected.is_empty());
            let mut repaired = history.clone();
            repaired.extend(unrecorded_gaps(&PLAN, &history).iter().map(|migration| applied(migration.version)));
            assert!(gaps(&PLAN, &repaired).iter().all(|gap| gap.partial.is_some()), "{repaired:?}");
        }
    }

    #[test]
    fn a_schema_without_history_is_refused_naming_baseline() {
        let tables = vec!["orders".to_owned(), "trades".to_owned()];
        let message =
            refuse_schema_without_history(&PLAN, tables, "s", TargetName::Clickhouse).expect_err("refused").to_string();
        assert!(message.starts_with("`s` has no migration history (`migration_history` does not exist)"), "{message}");
        assert!(message.contains("the tables `orders`, `trades`"), "{message}");
        assert!(message.contains("`migrator baseline --target clickhouse <version>`"), "{message}");
        assert!(refuse_schema_without_history(&PLAN, Vec::new(), "s", TargetName::Postgres).is_ok());
        static EMPTY: [Migration; 0] = [];
        let tables = vec!["orders".to_owned()];
        assert!(refuse_schema_without_history(&EMPTY, tables, "s", TargetName::Postgres).is_ok());
    }
}
