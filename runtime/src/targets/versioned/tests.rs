use chrono::{DateTime, Utc};

use super::*;
use crate::plan::{Migration, Script};
use crate::targets::{EntryState, HistoryEntry, TargetName, VersionTarget};

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
        let is_applied = |version: u64| history.iter().any(|e| e.version == version && e.state == EntryState::Applied);
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

/// An unknown version is named with the nearest versions on both sides, in one wording for
/// every backend.
#[test]
fn unknown_version_names_the_nearest_on_both_sides() {
    static SPARSE: [Migration; 5] =
        [migration(1, "one"), migration(2, "two"), migration(4, "four"), migration(5, "five"), migration(8, "eight")];
    let error = schedule::find_version(&SPARSE, 3, TargetName::Postgres).expect_err("not in the plan");
    assert_eq!(
        error.to_string(),
        "V3 is not a PostgreSQL migration of this plan; the nearest are V1 one, V2 two, V4 four, V5 five"
    );
    let error = schedule::find_version(&SPARSE, 99, TargetName::Clickhouse).expect_err("not in the plan");
    assert_eq!(error.to_string(), "V99 is not a ClickHouse migration of this plan; the nearest are V5 five, V8 eight");
    static EMPTY: [Migration; 0] = [];
    let error = schedule::find_version(&EMPTY, 1, TargetName::Clickhouse).expect_err("empty plan");
    assert!(error.to_string().ends_with("the plan has no ClickHouse migrations"), "{error}");
}

fn versions(steps: &[Step<'_>]) -> Vec<u64> {
    steps.iter().map(Step::version).collect()
}

#[test]
fn up_applies_pending_versions_up_to_the_target_resuming_a_partial_one() {
    let partial = EntryState::Partial { done: 0, total: 1 };
    let history = [applied(1), entry(2, partial)];
    let steps = schedule::upgrade_steps(&PLAN, &history, Some(3), "s", TargetName::Clickhouse).expect("steps");
    assert_eq!(versions(&steps), [2, 3]);
    assert!(matches!(steps[0], Step::Upgrade { resume: Some(_), .. }));
    let steps = schedule::upgrade_steps(&PLAN, &history, None, "s", TargetName::Clickhouse).expect("steps");
    assert_eq!(versions(&steps), [2, 3, 4]);
}

#[test]
fn down_undoes_newest_first_with_the_stored_downgrade_for_unknown_versions() {
    let history = [applied(1), applied(2), applied(4), applied(9)];
    let undo = |to| versions(&schedule::downgrade_steps(&PLAN, &history, to, "s", TargetName::Postgres).expect("ok"));
    assert_eq!(undo(VersionTarget::Version(2)), [9, 4]);
    assert_eq!(undo(VersionTarget::Version(9)), Vec::<u64>::new());
    assert_eq!(undo(VersionTarget::Base), [9, 4, 2, 1]);
    let steps =
        schedule::downgrade_steps(&PLAN, &history, VersionTarget::Version(4), "s", TargetName::Postgres).expect("ok");
    assert!(matches!(steps[0], Step::Downgrade { planned: None, .. }), "V9 is undone with its stored downgrade");
}

#[test]
fn down_refuses_a_target_above_the_current_version_unknown_a_partial_migration_and_an_edit() {
    let refuse = |history: &[HistoryEntry], to| {
        schedule::downgrade_steps(&PLAN, history, to, "s", TargetName::Postgres).expect_err("refused").to_string()
    };
    let message = refuse(&[applied(1), applied(2)], VersionTarget::Version(4));
    assert!(message.ends_with("`s` is at V2 m2; `down` cannot go to V4, which is above it; `up --to 4` goes forward"));
    assert!(refuse(&[], VersionTarget::Version(1)).contains("base (nothing applied)"));
    let message = refuse(&[applied(1), applied(4), applied(9)], VersionTarget::Version(7));
    assert!(message.starts_with("V7 is not a PostgreSQL migration"), "{message}");
    let partial = [applied(1), entry(2, EntryState::Partial { done: 1, total: 2 })];
    assert!(refuse(&partial, VersionTarget::Base).contains("down cannot undo a half-applied migration"));
    let mut edited = applied(2);
    edited.checksum = "sha256:old".to_owned();
    assert!(refuse(&[applied(1), edited.clone()], VersionTarget::Version(1)).contains("with checksum `sha256:old`"));
    assert!(
        schedule::downgrade_steps(&PLAN, &[applied(1), edited], VersionTarget::Version(2), "s", TargetName::Postgres)
            .is_ok(),
        "an edit below the target is not undone, so it does not matter"
    );
}

#[test]
fn baseline_refuses_a_history_and_an_unknown_version() {
    let message = schedule::baseline_migrations(&PLAN, &[applied(1)], 2, "s", TargetName::Clickhouse)
        .expect_err("refused")
        .to_string();
    assert!(message.contains("already records 1 migrations (up to V1 m1)"), "{message}");
    assert!(schedule::baseline_migrations(&PLAN, &[], 7, "s", TargetName::Clickhouse).is_err());
    let adopted = schedule::baseline_migrations(&PLAN, &[], 3, "s", TargetName::Clickhouse).expect("ok");
    assert_eq!(adopted.iter().map(|migration| migration.version).collect::<Vec<_>>(), [1, 2, 3]);
}

/// The two backends' refusal of the same situation reads the same once the server and the
/// target are replaced: the wording lives in one place (`refusal`).
#[test]
fn postgres_and_clickhouse_refuse_each_situation_in_the_same_words() {
    let mut edited = applied(2);
    edited.checksum = "sha256:old".to_owned();
    let situations: Vec<(Vec<HistoryEntry>, Option<VersionTarget>)> = vec![
        (vec![applied(1), applied(9)], None),
        (vec![applied(1), applied(2), applied(7), applied(4)], None),
        (vec![applied(1), edited.clone()], None),
        (vec![applied(1), applied(3)], None),
        (vec![applied(1), entry(2, EntryState::Reverting { done: 1, total: 2 })], None),
        (vec![applied(1), entry(2, EntryState::Partial { done: 1, total: 2 })], Some(VersionTarget::Base)),
        (vec![applied(1)], Some(VersionTarget::Version(3))),
        (vec![applied(1), applied(2)], Some(VersionTarget::Version(7))),
        (vec![applied(1), edited], Some(VersionTarget::Base)),
    ];
    for (history, down) in situations {
        let refusal = |target: TargetName, server: &str| {
            let error = match down {
                None => schedule::upgrade_steps(&PLAN, &history, None, server, target).map(drop),
                Some(to) => schedule::downgrade_steps(&PLAN, &history, to, server, target).map(drop),
            };
            let message = error.expect_err("refused").to_string();
            message
                .replace(server, "<server>")
                .replace(target.as_str(), "<target>")
                .replace(refusal::kind(target), "<kind>")
        };
        assert_eq!(
            refusal(TargetName::Postgres, "postgres://u@h:5432/d"),
            refusal(TargetName::Clickhouse, "http://u@h:8123/d"),
            "{history:?}"
        );
    }
    let unknown = |target| schedule::find_version(&PLAN, 9, target).expect_err("unknown").to_string();
    assert_eq!(
        unknown(TargetName::Postgres).replace("PostgreSQL", "<kind>"),
        unknown(TargetName::Clickhouse).replace("ClickHouse", "<kind>")
    );
}

mod double {
    //! A backend double that keeps its history in memory and records every primitive called:
    //! the runner's unit tests see what ran, and that a refusal ran nothing.

    use super::super::runner::{self, Backend};
    use super::super::{drift, Direction, Step, VersionedError};
    use crate::plan::{Migration, Plan};
    use crate::targets::{
        ApplyOptions, Changes, Checkpoint, EntryState, Failure, HistoryEntry, Status, Stop, Target, TargetName,
    };

    #[derive(Debug, thiserror::Error)]
    pub enum DoubleError {
        #[error(transparent)]
        Refused(#[from] VersionedError),
        #[error(transparent)]
        Stopped(#[from] Stop),
    }

    #[derive(Default)]
    pub struct Double {
        pub history: Option<Vec<HistoryEntry>>,
        pub objects: Vec<String>,
        pub calls: Vec<String>,
        pub checkpoint: Checkpoint,
    }

    impl Double {
        /// Calls that change the server.
        pub fn writes(&self) -> Vec<&String> {
            self.calls.iter().filter(|call| !call.starts_with("read") && !call.starts_with("objects")).collect()
        }
    }

    pub fn applied_entry(migration: &Migration) -> HistoryEntry {
        HistoryEntry {
            version: migration.version,
            description: migration.description.to_owned(),
            checksum: migration.checksum.to_owned(),
            applied_at: chrono::DateTime::<chrono::Utc>::UNIX_EPOCH,
            execution_ms: 0,
            state: EntryState::Applied,
            downgrade_sql: migration.downgrade.sql.to_owned(),
        }
    }

    impl Target for Double {
        type Error = DoubleError;

        fn name(&self) -> TargetName {
            TargetName::Postgres
        }

        async fn health_check(&mut self) -> Result<(), DoubleError> {
            Ok(())
        }

        fn is_permanent(_error: &DoubleError) -> bool {
            false
        }

        async fn status(&mut self, plan: &Plan) -> Result<Status, DoubleError> {
            Ok(drift::status(plan.postgres, self.history.as_deref().unwrap_or_default()))
        }

        async fn apply(&mut self, plan: &Plan, _options: &ApplyOptions) -> Result<Changes, Failure<DoubleError>> {
            let checkpoint = self.checkpoint.clone();
            runner::upgrade(self, plan.postgres, None, &checkpoint).await
        }
    }

    impl Backend for Double {
        fn migrations(plan: &Plan) -> &'static [Migration] {
            plan.postgres
        }

        fn checkpoint(&self) -> &Checkpoint {
            &self.checkpoint
        }

        fn server(&self) -> String {
            "double".to_owned()
        }

        async fn read_history(&mut self) -> Result<Option<Vec<HistoryEntry>>, DoubleError> {
            self.calls.push("read".to_owned());
            Ok(self.history.clone())
        }

        async fn objects_without_history(&mut self) -> Result<Vec<String>, DoubleError> {
            self.calls.push("objects".to_owned());
            Ok(self.objects.clone())
        }

        async fn prepare_history(&mut self, direction: Direction, steps: usize) -> Result<(), DoubleError> {
            self.calls.push(format!("prepare {direction} {steps}"));
            self.history.get_or_insert_with(Vec::new);
            Ok(())
        }

        async fn run_step(&mut self, step: &Step<'_>, _checkpoint: &Checkpoint) -> Result<String, DoubleError> {
            self.calls.push(format!("run {} V{}", step.direction(), step.version()));
            let history = self.history.get_or_insert_with(Vec::new);
            history.retain(|entry| entry.version != step.version());
            if let Step::Upgrade { migration, .. } = step {
                history.push(applied_entry(migration));
                history.sort_by_key(|entry| entry.version);
            }
            Ok(format!("V{}", step.version()))
        }

        async fn record_applied(&mut self, migrations: &[&'static Migration]) -> Result<(), DoubleError> {
            self.calls.push(format!("record {}", migrations.len()));
            let history = self.history.get_or_insert_with(Vec::new);
            history.extend(migrations.iter().map(|migration| applied_entry(migration)));
            Ok(())
        }

        fn planned_sql(&self, _step: &Step<'_>) -> Vec<String> {
            Vec::new()
        }
    }
}

use double::{applied_entry, Double};
use futures::executor::block_on;
use proptest::prelude::*;

fn up(double: &mut Double, plan: &'static [Migration], to: Option<u64>) -> bool {
    block_on(runner::upgrade(double, plan, to, &crate::targets::Checkpoint::default())).is_ok()
}

fn down(double: &mut Double, plan: &'static [Migration], to: VersionTarget) -> Result<(), VersionedError> {
    match block_on(runner::downgrade(double, plan, to, &crate::targets::Checkpoint::default())) {
        Ok(_) => Ok(()),
        Err(failure) => match failure.error {
            double::DoubleError::Refused(refusal) => Err(refusal),
            double::DoubleError::Stopped(stop) => panic!("the default checkpoint never stops: {stop}"),
        },
    }
}

#[test]
fn the_runner_applies_and_undoes_through_the_primitives() {
    let mut double = Double::default();
    assert!(up(&mut double, &PLAN, Some(2)));
    assert_eq!(double.calls, ["read", "objects", "prepare upgrade 2", "run upgrade V1", "run upgrade V2"]);
    double.calls.clear();
    down(&mut double, &PLAN, VersionTarget::Base).expect("undone");
    assert_eq!(double.calls, ["read", "prepare downgrade 2", "run downgrade V2", "run downgrade V1"]);
    assert_eq!(double.history, Some(Vec::new()));
}

#[test]
fn a_schema_without_history_is_refused_before_anything_is_written() {
    let mut double = Double { objects: vec!["orders".to_owned()], ..Double::default() };
    assert!(!up(&mut double, &PLAN, None));
    assert_eq!(double.calls, ["read", "objects"]);
    let mut double = Double { history: Some(vec![applied(1)]), ..Double::default() };
    let changes = block_on(runner::baseline(&mut double, &PLAN, 2));
    assert!(changes.is_err(), "a history is never baselined");
    assert!(double.writes().is_empty(), "{:?}", double.calls);
}

/// A plan of 1 to 8 versions below 20, some declared irreversible.
fn plans() -> impl Strategy<Value = &'static [Migration]> {
    proptest::collection::btree_map(1u64..20, proptest::bool::weighted(0.15), 1..8).prop_map(|versions| {
        let plan: Vec<Migration> = versions
            .into_iter()
            .map(|(version, irreversible)| Migration {
                checksum: Box::leak(format!("sha256:{version}").into_boxed_str()),
                downgrade: Script { sql: Box::leak(format!("DROP TABLE t{version};").into_boxed_str()), ..SCRIPT },
                reversal: if irreversible {
                    crate::plan::Reversal::Irreversible { reason: "data is merged" }
                } else {
                    crate::plan::Reversal::Script
                },
                ..migration(version, "m")
            })
            .collect();
        &*Box::leak(plan.into_boxed_slice())
    })
}

/// `up --to` (Some) or `down --to` (None) the plan version at an index, taken modulo the plan's
/// length; `down` to index `len` means base.
fn operations() -> impl Strategy<Value = Vec<(bool, usize)>> {
    proptest::collection::vec((proptest::bool::ANY, 0usize..10), 0..6)
}

fn version_at(plan: &[Migration], index: usize) -> u64 {
    plan[index % plan.len()].version
}

/// A history the engine produces from an empty database by a run of `up` and `down` commands.
fn produced(plan: &'static [Migration], operations: &[(bool, usize)]) -> Double {
    let mut double = Double::default();
    for &(is_up, index) in operations {
        if is_up {
            up(&mut double, plan, Some(version_at(plan, index)));
        } else if index % (plan.len() + 1) == plan.len() {
            let _ = down(&mut double, plan, VersionTarget::Base);
        } else {
            let _ = down(&mut double, plan, VersionTarget::Version(version_at(plan, index)));
        }
    }
    double
}

/// A history no engine wrote: any versions, any states, checksums that may not match.
fn foreign_histories() -> impl Strategy<Value = Vec<HistoryEntry>> {
    let entry = (1u64..22, 0u8..4, proptest::bool::weighted(0.8), 0u32..3).prop_map(|(version, state, same, done)| {
        let state = match state {
            0 | 1 => EntryState::Applied,
            2 => EntryState::Partial { done, total: 3 },
            _ => EntryState::Reverting { done, total: 3 },
        };
        HistoryEntry {
            checksum: if same { format!("sha256:{version}") } else { "sha256:edited".to_owned() },
            ..entry(version, state)
        }
    });
    proptest::collection::btree_map(1u64..22, entry, 0..8)
        .prop_map(|entries| entries.into_iter().map(|(version, entry)| HistoryEntry { version, ..entry }).collect())
}

proptest! {
    /// For any plan and any history the engine can produce, `up --to` then `down --to` the
    /// version it was at leaves the history as it was; where `down` refuses (an irreversible
    /// migration in between), it refuses before undoing anything.
    #[test]
    fn up_then_down_to_the_same_version_leaves_the_history_as_it_was(
        plan in plans(),
        before in operations(),
        to in 0usize..10,
    ) {
        let mut double = produced(plan, &before);
        let history = double.history.clone().unwrap_or_default();
        let back = history.last().map_or(VersionTarget::Base, |entry| VersionTarget::Version(entry.version));
        if up(&mut double, plan, Some(version_at(plan, to))) {
            let after_up = double.history.clone();
            double.calls.clear();
            match down(&mut double, plan, back) {
                Ok(()) => prop_assert_eq!(double.history.clone().unwrap_or_default(), history),
                Err(refusal) => {
                    prop_assert!(matches!(refusal, VersionedError::Irreversible(_)), "{}", refusal);
                    prop_assert!(double.writes().is_empty(), "{:?}", double.calls);
                    prop_assert_eq!(double.history.clone(), after_up);
                }
            }
        }
    }

    /// For any plan and any history (one the engine wrote or not), `up` and `down` either run
    /// or refuse; a refusal comes before any primitive that writes.
    #[test]
    fn a_refusal_comes_before_any_step_runs(
        plan in plans(),
        history in foreign_histories(),
        to in 0usize..10,
        base in proptest::bool::ANY,
    ) {
        let mut double = Double { history: Some(history.clone()), ..Double::default() };
        if !up(&mut double, plan, Some(version_at(plan, to))) {
            prop_assert!(double.writes().is_empty(), "{:?}", double.calls);
            prop_assert_eq!(double.history.clone(), Some(history.clone()));
        }
        let mut double = Double { history: Some(history.clone()), ..Double::default() };
        let to = if base { VersionTarget::Base } else { VersionTarget::Version(version_at(plan, to)) };
        if down(&mut double, plan, to).is_err() {
            prop_assert!(double.writes().is_empty(), "{:?}", double.calls);
            prop_assert_eq!(double.history.clone(), Some(history));
        }
    }

    /// After a successful `up --to v`, every plan version up to `v` is applied and nothing else
    /// changed; after `down --to v`, nothing above `v` is left.
    #[test]
    fn up_and_down_reach_the_version_asked(plan in plans(), before in operations(), to in 0usize..10) {
        let mut double = produced(plan, &before);
        let version = version_at(plan, to);
        if up(&mut double, plan, Some(version)) {
            let history = double.history.clone().unwrap_or_default();
            for migration in plan.iter().filter(|migration| migration.version <= version) {
                prop_assert!(history.contains(&applied_entry(migration)));
            }
        }
        if down(&mut double, plan, VersionTarget::Version(version)).is_ok() {
            let history = double.history.clone().unwrap_or_default();
            prop_assert!(history.iter().all(|entry| entry.version <= version), "{:?}", history);
        }
    }
}
