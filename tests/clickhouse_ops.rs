//! The ClickHouse operator operations (`up --to`, `down`, `baseline`, `repair`, dry runs, history)
//! and drift refusals against the stack's real server (`scripts/stack up`,
//! `eval "$(scripts/stack env)"`): each test uses a database of its own and checks what the
//! server holds afterwards.

mod common;

use clickhouse::sql::Identifier;
use clickhouse::Client;
use common::clickhouse::TestDatabase;
use common::plan::{leak, plan_of};
use tradeforge_migrator::plan::{Migration, Plan, SqlTarget};
use tradeforge_migrator::targets::clickhouse::{ClickHouseError, ClickHouseTarget, HistoryRow, MigrationState};
use tradeforge_migrator::targets::versioned::VersionedError;
use tradeforge_migrator::targets::{
    ApplyOptions, Changes, EntryState, Failure, HistoryEntry, Target, VersionTarget, VersionedTarget,
};

/// V1 `events`; V2 `orders` and `fills`; V3 adds `orders.price` and writes a note into `events`
/// (its downgrade drops the column and writes another note, with a `;` in the string); V4 a view.
/// No downgrade uses `IF EXISTS`, so a downgrade statement run twice fails.
mod ops {
    tradeforge_migrator_macros::plan!("fixtures/ch_ops");
}

/// V1 `base`; V2's statement 2 reads `source`, which no migration creates; V3 comes after.
mod partial {
    tradeforge_migrator_macros::plan!("fixtures/ch_ops_partial");
}

/// A plan of these ClickHouse migrations.
/// `migration` with another upgrade checksum, as if its file had been edited.
fn copy(migration: &'static Migration, checksum: &'static str) -> Migration {
    Migration { checksum, ..*migration }
}

/// The `ops` fixture's plan with only these versions, e.g. one left out as if its file was deleted.
fn ops(versions: &[u64]) -> Plan {
    plan_of(SqlTarget::ClickHouse, leak(versions.iter().map(|version| ops_migration(*version)).copied().collect()))
}

fn ops_migration(version: u64) -> &'static Migration {
    ops::PLAN.clickhouse.iter().find(|migration| migration.version == version).expect("a version of the fixture")
}

async fn apply(target: &mut ClickHouseTarget, plan: &Plan) -> Result<Changes, Failure<ClickHouseError>> {
    target.apply(plan, &ApplyOptions::default()).await
}

async fn versions(target: &mut ClickHouseTarget) -> Vec<(u64, EntryState)> {
    let entries: Vec<HistoryEntry> = target.history_entries().await.expect("history entries");
    entries.into_iter().map(|entry| (entry.version, entry.state)).collect()
}

fn applied(versions: &[u64]) -> Vec<(u64, EntryState)> {
    versions.iter().map(|version| (*version, EntryState::Applied)).collect()
}

/// Each change line without its timing: `V2 orders (2 statements, 5 ms)` → `V2 orders (2 statements`.
fn without_timing(changes: &Changes) -> Vec<String> {
    changes.0.iter().map(|line| line.rsplit_once(", ").map_or(line.as_str(), |(kept, _)| kept).to_owned()).collect()
}

/// A client without a database, to create one by hand as another tool would.
fn server_client(database: &TestDatabase) -> Client {
    let config = &database.config;
    let client = Client::default().with_url(config.url.as_str()).with_user(config.user.as_str()).with_validation(false);
    if config.password.is_empty() {
        client
    } else {
        client.with_password(config.password.expose())
    }
}

async fn create_database_by_hand(database: &TestDatabase) {
    server_client(database)
        .query("CREATE DATABASE ?")
        .bind(Identifier(database.name()))
        .execute()
        .await
        .expect("create the database by hand");
}

/// Every table and view of the database as the server describes it.
async fn schema(database: &TestDatabase) -> Vec<(String, String, String)> {
    server_client(database)
        .query("SELECT name, engine, create_table_query FROM system.tables WHERE database = ? ORDER BY name")
        .bind(database.name())
        .fetch_all()
        .await
        .expect("read system.tables")
}

async fn columns(database: &TestDatabase, table: &str) -> Vec<String> {
    server_client(database)
        .query("SELECT name FROM system.columns WHERE database = ? AND table = ?")
        .bind(database.name())
        .bind(table)
        .fetch_all()
        .await
        .expect("read system.columns")
}

async fn notes(database: &TestDatabase) -> Vec<(u32, String)> {
    database.client.query("SELECT id, note FROM events ORDER BY id").fetch_all().await.expect("read events")
}

#[tokio::test]
async fn up_to_a_version_stops_there_and_a_later_run_goes_to_the_head() {
    let database = TestDatabase::new();
    let mut target = ClickHouseTarget::new(&database.config);

    let failure = target.upgrade_to(&ops::PLAN, Some(9)).await.expect_err("V9 is not in the plan");
    assert!(
        matches!(failure.error.versioned(), Some(VersionedError::UnknownVersion { version: 9, .. })),
        "{}",
        failure.error
    );
    assert!(!database.exists().await, "refused before creating anything");

    let changes = target.upgrade_to(&ops::PLAN, Some(2)).await.expect("up to V2");
    assert_eq!(without_timing(&changes), ["V1 events (1 statement", "V2 orders (2 statements"]);
    assert_eq!(database.table_names().await, ["events", "fills", "migration_history", "orders"]);
    assert_eq!(columns(&database, "orders").await, ["id", "symbol"]);
    assert_eq!(versions(&mut target).await, applied(&[1, 2]));
    let status = target.status(&ops::PLAN).await.expect("status");
    assert_eq!(status.current.as_deref(), Some("V2 orders"));
    assert_eq!(status.pending.len(), 2, "{status:?}");

    let changes = target.upgrade_to(&ops::PLAN, None).await.expect("up to the head");
    assert_eq!(without_timing(&changes), ["V3 prices (2 statements", "V4 order_count (1 statement"]);
    assert_eq!(database.table_names().await, ["events", "fills", "migration_history", "order_count", "orders"]);
    assert_eq!(columns(&database, "orders").await, ["id", "symbol", "price"]);
    assert_eq!(notes(&database).await, [(3, "V3 applied; with a semicolon".to_owned())]);
    assert_eq!(versions(&mut target).await, applied(&[1, 2, 3, 4]));
    assert!(target.status(&ops::PLAN).await.expect("status").is_at_plan());
}

#[tokio::test]
async fn down_reverts_one_version_then_down_to_a_version_reverts_newest_first() {
    let database = TestDatabase::new();
    let mut target = ClickHouseTarget::new(&database.config);
    apply(&mut target, &ops::PLAN).await.expect("apply");

    let changes = target.downgrade_to(&ops::PLAN, VersionTarget::Version(3)).await.expect("down one");
    assert_eq!(without_timing(&changes), ["V4 order_count reverted (1 statement"]);
    assert_eq!(database.table_names().await, ["events", "fills", "migration_history", "orders"]);
    assert_eq!(versions(&mut target).await, applied(&[1, 2, 3]));

    let changes = target.downgrade_to(&ops::PLAN, VersionTarget::Version(1)).await.expect("down to V1");
    assert_eq!(without_timing(&changes), ["V3 prices reverted (2 statements", "V2 orders reverted (2 statements"]);
    assert_eq!(database.table_names().await, ["events", "migration_history"]);
    let expected_notes = [(3, "V3 applied; with a semicolon"), (30, "V3 undone; by its downgrade")];
    assert_eq!(notes(&database).await, expected_notes.map(|(id, note)| (id, note.to_owned())));
    assert_eq!(versions(&mut target).await, applied(&[1]));
    let status = target.status(&ops::PLAN).await.expect("status");
    assert_eq!(status.current.as_deref(), Some("V1 events"));
    assert_eq!(status.pending.len(), 3, "{status:?}");
    assert!(status.problems.is_empty(), "{status:?}");

    let unchanged = target.downgrade_to(&ops::PLAN, VersionTarget::Version(1)).await.expect("already at V1");
    assert!(unchanged.is_empty(), "{unchanged:?}");
    let failure = target.downgrade_to(&ops::PLAN, VersionTarget::Version(3)).await.expect_err("V3 is above V1");
    let message = failure.error.to_string();
    assert!(
        matches!(failure.error.versioned(), Some(VersionedError::DowngradeAboveCurrent { to: 3, .. })),
        "{message}"
    );
    assert!(message.starts_with("cannot go down to V3: "), "{message}");
    assert_eq!(database.table_names().await, ["events", "migration_history"]);
}

#[tokio::test]
async fn down_to_base_leaves_only_the_history_and_what_was_there_before() {
    let database = TestDatabase::new();
    create_database_by_hand(&database).await;
    let mut target = ClickHouseTarget::new(&database.config);
    // The history is started before another tool's table appears: a database whose history table
    // is missing but which holds tables is refused (it names `baseline`).
    apply(&mut target, &plan_of(SqlTarget::ClickHouse, &[])).await.expect("start the history");
    database.execute("CREATE TABLE kept_by_hand (id UInt32) ENGINE = Memory").await;
    let mut before = schema(&database).await;
    before.retain(|(name, _, _)| name != "migration_history");
    apply(&mut target, &ops::PLAN).await.expect("apply");

    let changes = target.downgrade_to(&ops::PLAN, VersionTarget::Base).await.expect("down to base");

    assert_eq!(changes.0.len(), 4, "{changes:?}");
    assert!(changes.0[0].starts_with("V4 order_count reverted") && changes.0[3].starts_with("V1 events reverted"));
    let mut after = schema(&database).await;
    let history_table = after.iter().position(|(name, _, _)| name == "migration_history").expect("history kept");
    after.remove(history_table);
    assert_eq!(after, before);
    assert!(target.history_entries().await.expect("history").is_empty());
    let status = target.status(&ops::PLAN).await.expect("status");
    assert_eq!((status.current, status.pending.len()), (None, 4));
}

#[tokio::test]
async fn up_down_up_leaves_the_schema_as_it_was() {
    let database = TestDatabase::new();
    let mut target = ClickHouseTarget::new(&database.config);
    let plan = &tradeforge_migrator::PLAN;
    apply(&mut target, plan).await.expect("first up");
    let migrated = schema(&database).await;
    assert!(migrated.iter().any(|(name, engine, _)| name == "ohlcv_daily_mv" && engine == "MaterializedView"));

    let reverted = target.downgrade_to(plan, VersionTarget::Base).await.expect("down to base");
    assert_eq!(reverted.0.len(), plan.clickhouse.len(), "{reverted:?}");
    assert_eq!(database.table_names().await, ["migration_history"]);

    let reapplied = apply(&mut target, plan).await.expect("second up");
    assert_eq!(reapplied.0.len(), plan.clickhouse.len(), "{reapplied:?}");
    assert_eq!(schema(&database).await, migrated);
    let every_version: Vec<u64> = plan.clickhouse.iter().map(|migration| migration.version).collect();
    assert_eq!(versions(&mut target).await, applied(&every_version));
    assert!(target.status(plan).await.expect("status").is_at_plan());
    assert!(apply(&mut target, plan).await.expect("third run").is_empty());
}

#[tokio::test]
async fn a_version_the_plan_does_not_know_is_undone_with_its_stored_downgrade() {
    let database = TestDatabase::new();
    let mut target = ClickHouseTarget::new(&database.config);
    apply(&mut target, &ops(&[1, 2, 3])).await.expect("apply V1-V3");
    // An older binary, whose plan ends at V2: it refuses to migrate, and says how to undo V3.
    let older = ops(&[1, 2]);
    let failure = apply(&mut target, &older).await.expect_err("ahead of the plan");
    assert!(
        matches!(failure.error.versioned(), Some(VersionedError::AheadOfPlan { database_head: 3, .. })),
        "{}",
        failure.error
    );
    assert!(failure.error.to_string().contains("undo them with `down`"), "{}", failure.error);

    let changes = target.downgrade_to(&older, VersionTarget::Version(2)).await.expect("down to V2");

    assert_eq!(
        without_timing(&changes),
        ["V3 prices reverted with the downgrade stored in `migration_history` (2 statements"]
    );
    assert_eq!(columns(&database, "orders").await, ["id", "symbol"]);
    let expected_notes = [(3, "V3 applied; with a semicolon"), (30, "V3 undone; by its downgrade")];
    assert_eq!(notes(&database).await, expected_notes.map(|(id, note)| (id, note.to_owned())));
    assert_eq!(versions(&mut target).await, applied(&[1, 2]));
    assert!(apply(&mut target, &older).await.expect("at the older plan").is_empty());
    assert!(target.status(&older).await.expect("status").is_at_plan());
}

#[tokio::test]
async fn a_downgrade_that_fails_half_way_is_recorded_and_the_next_down_resumes_it() {
    let database = TestDatabase::new();
    let mut target = ClickHouseTarget::new(&database.config);
    let plan = ops(&[1, 2]);
    apply(&mut target, &plan).await.expect("apply V1 and V2");
    // V2's downgrade drops `fills`, then `orders`, which someone already dropped by hand.
    database.execute("DROP TABLE orders").await;

    let failure = target.downgrade_to(&plan, VersionTarget::Base).await.expect_err("DROP TABLE orders fails");

    assert!(failure.done.is_empty(), "{failure:?}");
    let message = failure.error.to_string();
    let downgrade = &ops_migration(2).downgrade;
    assert!(
        message.starts_with(&format!(
            "{}:2: the downgrade of V2 orders stopped at statement 2/2 (`DROP TABLE orders`) on `{}`: ",
            downgrade.path,
            database.config.describe()
        )),
        "{message}"
    );
    assert!(message.contains("statement 1 of the downgrade has run") && message.contains("run down again"));
    assert_eq!(database.table_names().await, ["events", "migration_history"]);
    assert_eq!(
        versions(&mut target).await,
        [(1, EntryState::Applied), (2, EntryState::Reverting { done: 1, total: 2 })]
    );
    let history = target.history().await.expect("history");
    assert_eq!((history[1].state, history[1].statements_done), (MigrationState::Reverting, 1));
    assert!(history[1].error.contains("orders"), "{:?}", history[1]);

    // Nothing moves forward over a half-reverted version.
    let refused = apply(&mut target, &ops::PLAN).await.expect_err("migrate refuses");
    assert!(matches!(refused.error.versioned(), Some(VersionedError::Reverting { version: 2, done: 1, total: 2, .. })));
    assert!(target.pending_sql(&ops::PLAN, None).await.is_err());
    let status = target.status(&ops::PLAN).await.expect("status");
    assert!(status.problems[0].starts_with("V2 orders: its downgrade stopped at statement 2/2"), "{status:?}");
    let refused = target.downgrade_to(&plan, VersionTarget::Version(2)).await.expect_err("would not finish V2");
    assert!(
        matches!(refused.error.versioned(), Some(VersionedError::Reverting { version: 2, .. })),
        "{}",
        refused.error
    );

    // The cause is fixed; `down` resumes at statement 2 (statement 1 would fail: `fills` is gone).
    database.execute("CREATE TABLE orders (id UInt32) ENGINE = Memory").await;
    let changes = target.downgrade_to(&plan, VersionTarget::Version(1)).await.expect("resumed down");

    assert_eq!(without_timing(&changes), ["V2 orders reverted (resumed at statement 2/2"]);
    assert_eq!(database.table_names().await, ["events", "migration_history"]);
    assert_eq!(versions(&mut target).await, applied(&[1]));
    let changes = apply(&mut target, &ops::PLAN).await.expect("up again");
    assert_eq!(changes.0.len(), 3, "{changes:?}");
    assert_eq!(versions(&mut target).await, applied(&[1, 2, 3, 4]));
}

#[tokio::test]
async fn repair_accepts_a_migration_finished_by_hand_and_migrate_goes_on_with_the_next() {
    let database = TestDatabase::new();
    let mut target = ClickHouseTarget::new(&database.config);
    apply(&mut target, &partial::PLAN).await.expect_err("V2 stops at statement 2");
    assert_eq!(versions(&mut target).await, [(1, EntryState::Applied), (2, EntryState::Partial { done: 1, total: 3 })]);
    let pending: Vec<(u64, String)> = target
        .pending_sql(&partial::PLAN, None)
        .await
        .expect("dry run")
        .into_iter()
        .map(|statement| (statement.version, statement.sql))
        .collect();
    let v2 = partial::PLAN.clickhouse[1].upgrade.statements;
    let v3 = partial::PLAN.clickhouse[2].upgrade.statements;
    assert_eq!(pending, [(2, v2[1].to_owned()), (2, v2[2].to_owned()), (3, v3[0].to_owned())]);
    let refused = target.downgrade_to(&partial::PLAN, VersionTarget::Base).await.expect_err("down refuses");
    assert!(refused.error.to_string().contains("resume it with migrate, or finish it by hand and run repair"));

    // The operator finishes V2 differently from its file; the migrator must not run its rest.
    database.execute("CREATE TABLE second_copy (id UInt32, by_hand UInt8) ENGINE = Memory").await;
    database.execute("CREATE TABLE third_copy (id UInt32, by_hand UInt8) ENGINE = Memory").await;
    let repaired = target.repair(&partial::PLAN).await.expect("repair");

    assert_eq!(
        repaired.0,
        ["V2 copies: recorded as applied; statements 2/3 (`CREATE TABLE second_copy ENGINE = Memory AS SELECT id \
          FROM source`), 3/3 (`CREATE TABLE third_copy (id UInt32) ENGINE = Memory`) were not run by the migrator"]
    );
    let entries = target.history_entries().await.expect("history");
    assert_eq!(entries[1].state, EntryState::Applied);
    assert_eq!(entries[1].checksum, partial::PLAN.clickhouse[1].checksum);
    assert_eq!(target.pending_sql(&partial::PLAN, None).await.expect("dry run").len(), 1);

    let changes = apply(&mut target, &partial::PLAN).await.expect("migrate goes on");

    assert_eq!(without_timing(&changes), ["V3 after (1 statement"]);
    assert_eq!(columns(&database, "second_copy").await, ["id", "by_hand"]);
    assert_eq!(columns(&database, "third_copy").await, ["id", "by_hand"]);
    assert!(database.table_names().await.contains(&"after_repair".to_owned()));
    assert!(target.status(&partial::PLAN).await.expect("status").is_at_plan());
    assert!(target.repair(&partial::PLAN).await.expect("second repair").is_empty());
}

#[tokio::test]
async fn repair_records_edited_checksums_and_leaves_versions_the_plan_does_not_know() {
    let database = TestDatabase::new();
    let mut target = ClickHouseTarget::new(&database.config);
    apply(&mut target, &ops(&[1, 2, 3])).await.expect("apply V1-V3");
    let (v1, v2) = (ops_migration(1), ops_migration(2));
    // V2's file was edited after it was applied; V3's is not in this binary.
    let edited = plan_of(SqlTarget::ClickHouse, leak(vec![copy(v1, v1.checksum), copy(v2, "sha256:edited")]));
    let before = target.history().await.expect("history");

    let repaired = target.repair(&edited).await.expect("repair");

    assert_eq!(repaired.0.len(), 2, "{repaired:?}");
    assert_eq!(
        repaired.0[0],
        format!(
            "V2 orders: checksum `{}` → `sha256:edited` (`{}` changed after it was applied)",
            v2.checksum, v2.upgrade.path
        )
    );
    assert!(repaired.0[1].starts_with("V3 prices: left as it is (applied): not in this binary's plan"), "{repaired:?}");
    let after = target.history().await.expect("history");
    let sequences = |rows: &[HistoryRow]| rows.iter().map(|row| row.sequence).collect::<Vec<_>>();
    let (old, new) = (sequences(&before), sequences(&after));
    assert_eq!((new[0], new[1], new[2]), (old[0], old[1] + 1, old[2]), "one row written, for V2");
    let entries = target.history_entries().await.expect("history");
    let checksums: Vec<&str> = entries.iter().map(|entry| entry.checksum.as_str()).collect();
    assert_eq!(checksums, [v1.checksum, "sha256:edited", ops_migration(3).checksum]);
    // V2 now matches; V3 still stops this binary until it is undone or its release deploys.
    let failure = apply(&mut target, &edited).await.expect_err("V3 is ahead");
    assert!(
        matches!(failure.error.versioned(), Some(VersionedError::AheadOfPlan { database_head: 3, .. })),
        "{}",
        failure.error
    );
    let status = target.status(&edited).await.expect("status");
    assert_eq!(status.problems.len(), 1, "{status:?}");
}

#[tokio::test]
async fn baseline_records_an_existing_schema_without_running_it() {
    let database = TestDatabase::new();
    create_database_by_hand(&database).await;
    // Another tool created V1 and V2's tables, `events` with a column of its own.
    database
        .execute("CREATE TABLE events (id UInt32, note String, by_hand UInt8) ENGINE = MergeTree ORDER BY id")
        .await;
    database.execute("CREATE TABLE orders (id UInt32, symbol String) ENGINE = MergeTree ORDER BY id").await;
    database.execute("CREATE TABLE fills (order_id UInt32, quantity UInt32) ENGINE = Memory").await;
    let mut target = ClickHouseTarget::new(&database.config);

    let error = target.baseline(&ops::PLAN, 9).await.expect_err("V9 is not in the plan");
    assert!(matches!(error.versioned(), Some(VersionedError::UnknownVersion { version: 9, .. })), "{error}");
    assert!(!database.table_names().await.contains(&"migration_history".to_owned()));

    let changes = target.baseline(&ops::PLAN, 2).await.expect("baseline");

    assert_eq!(
        changes.0,
        ["V1 events recorded as applied (baseline, not run)", "V2 orders recorded as applied (baseline, not run)"]
    );
    let entries = target.history_entries().await.expect("history");
    assert_eq!(entries.len(), 2);
    for (entry, migration) in entries.iter().zip(ops::PLAN.clickhouse) {
        assert_eq!((entry.version, entry.state), (migration.version, EntryState::Applied));
        assert_eq!(
            (entry.checksum.as_str(), entry.downgrade_sql.as_str()),
            (migration.checksum, migration.downgrade.sql)
        );
    }
    assert_eq!(columns(&database, "events").await, ["id", "note", "by_hand"]);

    let changes = apply(&mut target, &ops::PLAN).await.expect("migrate the rest");
    assert_eq!(without_timing(&changes), ["V3 prices (2 statements", "V4 order_count (1 statement"]);
    let history = target.history().await.expect("history");
    let error = target.baseline(&ops::PLAN, 2).await.expect_err("history is not empty");
    assert!(matches!(error.versioned(), Some(VersionedError::BaselineOnHistory { .. })), "{error}");
    assert!(error.to_string().contains("already records 4 migrations (up to V4"), "{error}");
    assert_eq!(target.history().await.expect("history"), history);
}

#[tokio::test]
async fn a_version_deleted_below_the_head_is_refused_before_anything_runs() {
    let database = TestDatabase::new();
    let mut target = ClickHouseTarget::new(&database.config);
    apply(&mut target, &ops(&[1, 2, 3])).await.expect("apply V1-V3");
    let history = target.history().await.expect("history");
    // V2's file was deleted, and V4 is new.
    let plan = ops(&[1, 3, 4]);

    let failure = apply(&mut target, &plan).await.expect_err("refused");

    let message = failure.error.to_string();
    assert!(
        matches!(failure.error.versioned(), Some(VersionedError::MissingFromPlan { plan_head: 4, .. })),
        "{message}"
    );
    assert!(message.contains("not in the plan: V2 orders") && message.contains("restore the file"), "{message}");
    assert!(failure.done.is_empty());
    assert!(!database.table_names().await.contains(&"order_count".to_owned()), "V4 must not run");
    assert_eq!(target.history().await.expect("history"), history, "no row written");
    assert!(target.upgrade_to(&plan, Some(4)).await.is_err());
    assert!(target.pending_sql(&plan, None).await.is_err());
    let status = target.status(&plan).await.expect("status");
    assert_eq!(status.problems.len(), 1, "{status:?}");
    assert!(status.problems[0].starts_with("V2 orders is applied but not in the plan"), "{status:?}");
    assert!(status.pending[0].starts_with("V4 order_count"), "{status:?}");

    // With the file restored, migrate goes on with V4.
    let changes = apply(&mut target, &ops::PLAN).await.expect("migrate");
    assert_eq!(without_timing(&changes), ["V4 order_count (1 statement"]);
}

#[tokio::test]
async fn repair_forgets_a_version_deleted_below_the_head_and_migrate_goes_on() {
    let database = TestDatabase::new();
    let mut target = ClickHouseTarget::new(&database.config);
    apply(&mut target, &ops(&[1, 2, 3])).await.expect("apply V1-V3");
    // V2's file was deleted on purpose (its table stays), and V4 is new.
    let plan = ops(&[1, 3, 4]);
    assert!(apply(&mut target, &plan).await.is_err(), "refused before repair");

    let changes = target.repair(&plan).await.expect("repair");

    assert_eq!(changes.0.len(), 1, "{changes:?}");
    assert!(changes.0[0].starts_with("V2 orders: forgotten"), "{changes:?}");
    assert_eq!(versions(&mut target).await, applied(&[1, 3]));
    assert!(database.table_names().await.contains(&"orders".to_owned()), "what V2 created stays");
    let changes = apply(&mut target, &plan).await.expect("migrate after repair");
    assert_eq!(without_timing(&changes), ["V4 order_count (1 statement"]);
}

#[tokio::test]
async fn a_history_table_from_before_down_gets_the_revert_states_and_keeps_its_rows() {
    let database = TestDatabase::new();
    create_database_by_hand(&database).await;
    // `migration_history` as the migrator created it before `down` existed.
    database
        .execute(
            "CREATE TABLE migration_history (version UInt64, description String, checksum String, \
             status Enum8('partial' = 1, 'applied' = 2), statements_done UInt32, statements_total UInt32, \
             applied_at DateTime, execution_ms UInt64, downgrade_sql String, error String, sequence UInt64) \
             ENGINE = ReplacingMergeTree(sequence) ORDER BY version",
        )
        .await;
    let mut target = ClickHouseTarget::new(&database.config);
    apply(&mut target, &ops(&[1, 2])).await.expect("apply V1 and V2");

    let changes = target.downgrade_to(&ops::PLAN, VersionTarget::Version(1)).await.expect("down one");

    assert_eq!(without_timing(&changes), ["V2 orders reverted (2 statements"]);
    let status_type: String = database
        .client
        .query("SELECT type FROM system.columns WHERE database = ? AND table = 'migration_history' AND name = 'status'")
        .bind(database.name())
        .fetch_one()
        .await
        .expect("read the column type");
    assert_eq!(status_type, "Enum8('partial' = 1, 'applied' = 2, 'reverting' = 3, 'reverted' = 4, 'running' = 5)");
    assert_eq!(versions(&mut target).await, applied(&[1]));
    assert_eq!(database.table_names().await, ["events", "migration_history"]);
}
