//! The migrator on the stack's real two-replica ClickHouse cluster (`TFM_STACK_CLUSTER=1
//! scripts/stack up`, `eval "$(scripts/stack env)"`), with `CLICKHOUSE_CLUSTER` set: each test
//! has a database of its own, and the fixture's migrations are written once for a single server
//! and a cluster (`ON CLUSTER '{cluster}'`, Replicated engines with the servers' macros). Every
//! run goes through one node; what the tests check is read from both.

mod common;

use common::cluster::{Cluster, PrivateCluster};
use tradeforge_migrator::commands::verify::{self, VerifyOptions};
use tradeforge_migrator::commands::versions::Session;
use tradeforge_migrator::config::{Config, Environment, Overrides};
use tradeforge_migrator::plan::SqlTarget;
use tradeforge_migrator::run::{self, Request, RunError};
use tradeforge_migrator::targets::clickhouse::{ClickHouseTarget, HistoryRow, MigrationState};
use tradeforge_migrator::targets::{ApplyOptions, Target, TargetName, VersionTarget, VersionedTarget};

/// V1 `events`; V2 `orders` and a column added to it; V3 inserts one row into `events`.
mod fixture {
    tradeforge_migrator_macros::plan!("fixtures/ch_cluster");
}
use fixture::PLAN;

/// The migrator's configuration for `database` through `node` (1 or 2) of the cluster.
fn config(cluster: &Cluster, node: usize, database: &str) -> Config {
    config_with(cluster, node, database, Overrides::default())
}

fn config_with(cluster: &Cluster, node: usize, database: &str, overrides: Overrides) -> Config {
    let environment = Environment::from_pairs([
        ("MIGRATE", "enabled"),
        ("CLICKHOUSE_URL", cluster.urls[node - 1].as_str()),
        ("CLICKHOUSE_DB", database),
        ("CLICKHOUSE_CLUSTER", cluster.name.as_str()),
    ]);
    let wait = overrides.wait.clone().or_else(|| Some("10s".to_owned()));
    Config::load(&environment, &Overrides { wait, ..overrides }).expect("a valid configuration")
}

async fn migrate(cluster: &Cluster, node: usize, database: &str) -> Result<run::Applied, RunError> {
    migrate_with(cluster, node, database, Overrides::default()).await
}

async fn migrate_with(
    cluster: &Cluster,
    node: usize,
    database: &str,
    overrides: Overrides,
) -> Result<run::Applied, RunError> {
    let config = config_with(cluster, node, database, overrides);
    let request = Request {
        plan: &PLAN,
        config: &config,
        targets: vec![TargetName::Clickhouse],
        options: ApplyOptions::default(),
    };
    run::migrate(&request, &mut std::io::sink()).await
}

fn target(cluster: &Cluster, node: usize, database: &str) -> ClickHouseTarget {
    ClickHouseTarget::new(&config(cluster, node, database).clickhouse)
}

async fn tables(cluster: &Cluster, node: usize, database: &str) -> Vec<String> {
    cluster
        .node(node)
        .query("SELECT name FROM system.tables WHERE database = ? ORDER BY name")
        .bind(database)
        .fetch_all()
        .await
        .expect("read system.tables")
}

/// The rows of `events` on `node`, once it has fetched every part of the replication log.
async fn events(cluster: &Cluster, node: usize, database: &str) -> u64 {
    cluster.run(node, &format!("SYSTEM SYNC REPLICA {database}.events")).await;
    cluster.node(node).query(&format!("SELECT count() FROM {database}.events")).fetch_one().await.expect("count events")
}

/// Version and state of every row of the history, read through `node`.
async fn history(cluster: &Cluster, node: usize, database: &str) -> Vec<(u64, MigrationState, u32)> {
    let rows: Vec<HistoryRow> = target(cluster, node, database).history().await.expect("read the history");
    rows.into_iter().map(|row| (row.version, row.state, row.statements_done)).collect()
}

fn applied(versions: &[(u64, u32)]) -> Vec<(u64, MigrationState, u32)> {
    versions.iter().map(|&(version, done)| (version, MigrationState::Applied, done)).collect()
}

const EVERYTHING: [(u64, u32); 3] = [(1, 1), (2, 2), (3, 1)];

#[tokio::test]
async fn migrate_applies_every_migration_on_both_replicas_and_the_other_node_then_applies_nothing() {
    let cluster = Cluster::shared();
    let database = cluster.database().await;
    let name = &database.name;

    let first = migrate(&cluster, 1, name).await.expect("migrate through node 1");
    assert_eq!(first.change_count(), 3, "{first:?}");

    for node in [1, 2] {
        assert_eq!(tables(&cluster, node, name).await, ["events", "migration_history", "orders"], "node {node}");
        assert_eq!(history(&cluster, node, name).await, applied(&EVERYTHING), "node {node}");
        assert_eq!(events(&cluster, node, name).await, 1, "node {node}");
    }
    let engine: String = cluster
        .node(2)
        .query("SELECT engine FROM system.tables WHERE database = ? AND name = 'migration_history'")
        .bind(name.as_str())
        .fetch_one()
        .await
        .expect("read the history's engine");
    assert_eq!(engine, "ReplicatedReplacingMergeTree");

    let second = migrate(&cluster, 2, name).await.expect("migrate through node 2");
    assert_eq!(second.change_count(), 0, "{second:?}");
    assert_eq!(events(&cluster, 2, name).await, 1);

    let status = target(&cluster, 2, name).status(&PLAN).await.expect("status through node 2");
    assert!(status.pending.is_empty() && status.problems.is_empty(), "{status:?}");
    let caught_up: Vec<&String> = status.notes.iter().filter(|note| note.ends_with(": caught up")).collect();
    assert_eq!(caught_up.len(), 2, "one line per replica: {:?}", status.notes);
}

#[tokio::test]
async fn two_migrators_at_once_through_different_nodes_apply_each_statement_once() {
    let cluster = Cluster::shared();
    let database = cluster.database().await;
    let name = &database.name;

    // V1 and V2 create tables without IF NOT EXISTS and V2 adds a column: run twice, they fail;
    // V3's row would be there twice.
    let (one, two) = tokio::join!(migrate(&cluster, 1, name), migrate(&cluster, 2, name));
    let one = one.expect("migrate through node 1");
    let two = two.expect("migrate through node 2");
    assert_eq!(one.change_count() + two.change_count(), 3, "{one:?} {two:?}");
    for node in [1, 2] {
        assert_eq!(history(&cluster, node, name).await, applied(&EVERYTHING), "node {node}");
        assert_eq!(events(&cluster, node, name).await, 1, "node {node}");
        assert!(!tables(&cluster, node, name).await.contains(&"migration_run_lock".to_owned()), "lock released");
    }
}

#[tokio::test]
async fn down_and_up_again_through_either_node_change_both_replicas() {
    let cluster = Cluster::shared();
    let database = cluster.database().await;
    let name = &database.name;
    migrate(&cluster, 1, name).await.expect("migrate");

    let mut second = target(&cluster, 2, name);
    second.health_check().await.expect("every host answers");
    let reverted = second.downgrade_to(&PLAN, VersionTarget::Version(1)).await.expect("down to V1 through node 2");
    assert_eq!(reverted.0.len(), 2, "{reverted:?}");
    for node in [1, 2] {
        assert_eq!(tables(&cluster, node, name).await, ["events", "migration_history"], "node {node}");
        assert_eq!(history(&cluster, node, name).await, applied(&[(1, 1)]), "node {node}");
    }

    // `redo` is this pair: the same ZooKeeper paths are used again once the drop removed them.
    let mut first = target(&cluster, 1, name);
    first.health_check().await.expect("every host answers");
    first.upgrade_to(&PLAN, None).await.expect("up again through node 1");
    for node in [1, 2] {
        assert_eq!(tables(&cluster, node, name).await, ["events", "migration_history", "orders"], "node {node}");
        assert_eq!(history(&cluster, node, name).await, applied(&EVERYTHING), "node {node}");
    }
}

#[tokio::test]
async fn baseline_records_on_the_cluster_and_the_next_run_through_the_other_node_goes_on() {
    let cluster = Cluster::shared();
    let database = cluster.database().await;
    let name = &database.name;
    // V1's table exists already, made by hand on the cluster.
    cluster
        .run(
            1,
            &format!(
                "CREATE TABLE {name}.events ON CLUSTER '{{cluster}}' (id UInt64, note String) \
                 ENGINE = ReplicatedMergeTree('/clickhouse/tables/{{shard}}/{{database}}/{{table}}', '{{replica}}') ORDER BY id"
            ),
        )
        .await;

    let mut first = target(&cluster, 1, name);
    first.health_check().await.expect("every host answers");
    first.baseline(&PLAN, 1).await.expect("baseline V1 through node 1");
    assert_eq!(history(&cluster, 2, name).await, applied(&[(1, 1)]));

    let applied_now = migrate(&cluster, 2, name).await.expect("migrate through node 2");
    assert_eq!(applied_now.change_count(), 2, "{applied_now:?}");
    assert_eq!(history(&cluster, 1, name).await, applied(&EVERYTHING));
}

#[tokio::test]
async fn repair_on_the_cluster_accepts_a_migration_finished_by_hand() {
    let cluster = Cluster::shared();
    let database = cluster.database().await;
    let name = &database.name;
    let mut first = target(&cluster, 1, name);
    first.health_check().await.expect("every host answers");
    first.upgrade_to(&PLAN, Some(1)).await.expect("up to V1");
    // `orders` is there before V2 runs: its first statement fails on every host.
    cluster
        .run(
            1,
            &format!(
                "CREATE TABLE {name}.orders ON CLUSTER '{{cluster}}' (id UInt64, qty UInt32, ver UInt32) \
                 ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{{shard}}/{{database}}/{{table}}', '{{replica}}', ver) \
                 ORDER BY id"
            ),
        )
        .await;
    let error = migrate(&cluster, 1, name).await.expect_err("V2 stops at its first statement");
    assert!(error.to_string().contains("V2 orders stopped at statement 1/2"), "{error}");
    assert_eq!(history(&cluster, 2, name).await[1].1, MigrationState::Partial);

    // The operator finishes V2 by hand, and repairs through the other node.
    cluster
        .run(1, &format!("ALTER TABLE {name}.orders ON CLUSTER '{{cluster}}' ADD COLUMN price Float64 DEFAULT 0"))
        .await;
    let mut second = target(&cluster, 2, name);
    second.health_check().await.expect("every host answers");
    let repaired = second.repair(&PLAN).await.expect("repair through node 2");
    assert_eq!(repaired.0.len(), 1, "{repaired:?}");

    let rest = migrate(&cluster, 1, name).await.expect("migrate goes on with V3");
    assert_eq!(rest.change_count(), 1, "{rest:?}");
    for node in [1, 2] {
        assert_eq!(history(&cluster, node, name).await, applied(&EVERYTHING), "node {node}");
    }
}

#[tokio::test]
async fn verify_downgrades_runs_on_a_scratch_database_of_the_cluster_and_drops_it() {
    let cluster = Cluster::shared();
    let config = config(&cluster, 1, "tfm_cluster_unused");
    let mut out = Vec::new();
    let options = VerifyOptions { create_scratch: true, keep_going: false };
    verify::verify_downgrades(Session { plan: &PLAN, config: &config }, &[SqlTarget::ClickHouse], options, &mut out)
        .await
        .unwrap_or_else(|error| panic!("verify-downgrades: {error}\n{}", String::from_utf8_lossy(&out)));
    let out = String::from_utf8(out).expect("UTF-8 output");
    let scratch = out
        .lines()
        .find_map(|line| line.split_once("created scratch database `"))
        .and_then(|(_, rest)| rest.split_once('`'))
        .map(|(name, _)| name.to_owned())
        .unwrap_or_else(|| panic!("no scratch database in:\n{out}"));
    for node in [1, 2] {
        let left: u64 = cluster
            .node(node)
            .query("SELECT count() FROM system.databases WHERE name = ?")
            .bind(scratch.as_str())
            .fetch_one()
            .await
            .expect("read system.databases");
        assert_eq!(left, 0, "node {node} still has `{scratch}`:\n{out}");
    }
}

#[tokio::test]
async fn an_unknown_cluster_is_refused_naming_the_setting() {
    let cluster = Cluster { name: "no_such_cluster".to_owned(), urls: Cluster::shared().urls };
    let mut target = target(&cluster, 1, "tfm_cluster_unused");
    let error = target.health_check().await.expect_err("unknown cluster");
    let message = error.to_string();
    assert!(message.contains("no_such_cluster") && message.contains("CLICKHOUSE_CLUSTER"), "{message}");
    assert!(ClickHouseTarget::is_permanent(&error), "{message}");
}

#[test]
fn plan_sql_prints_the_statements_for_the_cluster_or_for_a_single_server() {
    use tradeforge_migrator::commands::plan_sql;
    let on_cluster = plan_sql::render(&PLAN, &[TargetName::Clickhouse], Some("tfm_cluster"));
    assert!(on_cluster.contains("CREATE TABLE events ON CLUSTER 'tfm_cluster' (id UInt64"), "{on_cluster}");
    assert!(on_cluster.contains("ReplicatedReplacingMergeTree("), "{on_cluster}");
    let single = plan_sql::render(&PLAN, &[TargetName::Clickhouse], None);
    assert!(!single.contains("ON CLUSTER") && !single.contains("Replicated"), "{single}");
    assert!(single.contains("ENGINE = ReplacingMergeTree(ver)"), "{single}");
}

/// The same files on the stack's single server: no clause, plain engines.
#[tokio::test]
async fn the_same_files_run_on_a_single_server() {
    let database = common::clickhouse::TestDatabase::new();
    let mut target = ClickHouseTarget::new(&database.config);
    target.apply(&PLAN, &ApplyOptions::default()).await.expect("apply on the single server");
    assert_eq!(
        database.tables().await,
        [
            ("events".to_owned(), "MergeTree".to_owned()),
            ("migration_history".to_owned(), "ReplacingMergeTree".to_owned()),
            ("orders".to_owned(), "ReplacingMergeTree".to_owned()),
        ]
    );
}

/// A replica stopped before a run: the run is refused before anything runs, naming it; with
/// `--allow-lagging-replicas` it goes on through the live one, the stopped one's DDL waiting in
/// its queue; back, it catches up, and the next run (no flag) converges with nothing lost or run
/// twice. On a private cluster of the test's own (the shared one is never stopped).
#[ignore = "starts a private cluster (a few seconds, and private start-up has been flaky here); run with --ignored"]
#[tokio::test]
async fn a_stopped_replica_is_reported_first_and_the_run_converges_once_it_is_back() {
    let private = PrivateCluster::start_with_ddl_timeout(2);
    let cluster = &private.cluster;
    let database = cluster.database().await;
    let name = &database.name;
    private.stop("ch2");

    let quick = || Overrides { wait: Some("1s".to_owned()), ..Overrides::default() };
    let refused = migrate_with(cluster, 1, name, quick()).await.expect_err("a host is down");
    let message = refused.to_string();
    assert!(message.contains("do not answer") && message.contains("--allow-lagging-replicas"), "{message}");
    assert_eq!(tables(cluster, 1, name).await, Vec::<String>::new(), "nothing ran: {message}");

    let lagging = Overrides { allow_lagging_replicas: true, ..quick() };
    let first = migrate_with(cluster, 1, name, lagging).await.expect("migrate without ch2");
    assert_eq!(first.change_count(), 3, "{first:?}");
    assert_eq!(history(cluster, 1, name).await, applied(&EVERYTHING));

    private.start_again("ch2");
    // Back, ch2 works through its replication log and its DDL queue, in the background: the
    // history reads the same through it at once, so the next run applies nothing.
    let again = migrate(cluster, 2, name).await.expect("migrate through ch2 once it is back");
    assert_eq!(again.change_count(), 0, "{again:?}");
    // Its queue creates `events`; but `orders` was altered (V2's second statement) after the
    // CREATE that ch2 missed, so replaying that CREATE fails on ch2 (Code 122: the structure in
    // ZooKeeper differs), as it does in production: status names the table ch2 lacks.
    let behind = "behind: its DDL queue has not created orders yet";
    let mut notes = Vec::new();
    for _ in 0..100 {
        notes = target(cluster, 1, name).status(&PLAN).await.expect("status").notes;
        if notes.iter().any(|note| note.ends_with(&format!("{behind} (other replicas have it)")))
            && tables(cluster, 2, name).await.contains(&"events".to_owned())
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert!(notes.iter().any(|note| note.contains(behind)), "{notes:?}");
    // The operator's fix: the table as the caught-up replica has it; replication fills it.
    let create: String = cluster
        .node(1)
        .query(&format!("SHOW CREATE TABLE {name}.orders"))
        .fetch_one()
        .await
        .expect("SHOW CREATE TABLE on ch1");
    cluster.run(2, &create).await;
    let notes = target(cluster, 2, name).status(&PLAN).await.expect("status").notes;
    assert!(notes.iter().all(|note| note.ends_with(": caught up")), "{notes:?}");
    for node in [1, 2] {
        assert_eq!(tables(cluster, node, name).await, ["events", "migration_history", "orders"], "node {node}");
        assert_eq!(history(cluster, node, name).await, applied(&EVERYTHING), "node {node}");
        assert_eq!(events(cluster, node, name).await, 1, "node {node}");
    }
}
