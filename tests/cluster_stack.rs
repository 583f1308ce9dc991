//! The stack's ClickHouse cluster behaves as production's does, which the cluster runtime
//! relies on: ON CLUSTER DDL reaches both replicas, with `{cluster}`, `{shard}`, `{replica}`,
//! `{database}` and `{table}` expanded from each server's macros (18.16 knows all five);
//! ReplicatedMergeTree replicates, a stopped replica catches up on data and queued DDL when it
//! is back, and a DDL whose host is down times out with Code 159 while it stays queued.
//!
//! The first two run on the stack's shared cluster (`TFM_STACK_CLUSTER=1 scripts/stack up`);
//! the others stop a node, so each starts a private cluster with `scripts/stack cluster up`.

mod common;

use common::cluster::{Cluster, PrivateCluster};

/// A table written once for both a single server and a cluster (the README's form).
fn create_ticks(database: &str) -> String {
    format!(
        "CREATE TABLE {database}.ticks ON CLUSTER '{{cluster}}' (id UInt64, price Float64) \
         ENGINE = ReplicatedMergeTree('/clickhouse/tables/{{shard}}/{{database}}/{{table}}', '{{replica}}') \
         ORDER BY id"
    )
}

async fn count(cluster: &Cluster, node: usize, database: &str) -> u64 {
    cluster
        .node(node)
        .query(&format!("SELECT count() FROM {database}.ticks"))
        .fetch_one()
        .await
        .unwrap_or_else(|error| panic!("count on node {node}: {error}"))
}

async fn sync_replica(cluster: &Cluster, node: usize, database: &str) {
    // Pulls the replication log and waits until this replica has fetched every part in it.
    cluster.run(node, &format!("SYSTEM SYNC REPLICA {database}.ticks")).await;
}

#[tokio::test]
async fn on_cluster_ddl_creates_a_replicated_table_on_both_nodes() {
    let cluster = Cluster::shared();
    let database = cluster.database().await;
    cluster.run(1, &create_ticks(&database.name)).await;
    for (node, replica) in [(1, "ch1"), (2, "ch2")] {
        let replicas: Vec<(String, String, String)> = cluster
            .node(node)
            .query("SELECT engine, zookeeper_path, replica_name FROM system.replicas WHERE database = ? AND table = 'ticks'")
            .bind(database.name.as_str())
            .fetch_all()
            .await
            .expect("read system.replicas");
        assert_eq!(
            replicas,
            [(
                "ReplicatedMergeTree".to_owned(),
                format!("/clickhouse/tables/01/{}/ticks", database.name),
                replica.to_owned()
            )],
            "node {node}"
        );
    }
}

#[tokio::test]
async fn an_insert_on_one_node_is_read_on_the_other() {
    let cluster = Cluster::shared();
    let database = cluster.database().await;
    cluster.run(1, &create_ticks(&database.name)).await;
    cluster.run(1, &format!("INSERT INTO {}.ticks VALUES (1, 10.5), (2, 11.25)", database.name)).await;
    sync_replica(&cluster, 2, &database.name).await;
    assert_eq!(count(&cluster, 2, &database.name).await, 2);

    // A quorum insert returns once both replicas hold the row, and a sequentially consistent
    // read on the other node sees it without waiting: how a replicated history can be written.
    let insert = format!("INSERT INTO {}.ticks VALUES (3, 12)", database.name);
    cluster.node(2).query(&insert).with_setting("insert_quorum", "2").execute().await.expect("quorum insert");
    let on_node_1: u64 = cluster
        .node(1)
        .query(&format!("SELECT count() FROM {}.ticks", database.name))
        .with_setting("select_sequential_consistency", "1")
        .fetch_one()
        .await
        .expect("sequentially consistent read");
    assert_eq!(on_node_1, 3);
}

// Not run by default: each starts a private cluster. Its start-up used to crash a node on the
// first ON CLUSTER statement (`SendRequest`): a node started before ZooKeeper served left its DDL
// worker without a session (SIGSEGV in 18.16), which `scripts/stack` now avoids; run with
// `cargo test --test cluster_stack -- --ignored`.
#[ignore = "starts a private cluster; run with --ignored"]
#[tokio::test]
async fn a_stopped_node_catches_up_on_data_when_it_is_back() {
    let private = PrivateCluster::start();
    let cluster = &private.cluster;
    let database = cluster.database().await;
    cluster.run(1, &create_ticks(&database.name)).await;
    cluster.run(1, &format!("INSERT INTO {}.ticks VALUES (1, 10)", database.name)).await;
    sync_replica(cluster, 2, &database.name).await;

    private.stop("ch2");
    assert!(cluster.execute(2, "SELECT 1").await.is_err(), "ch2 still answers after `cluster stop ch2`");
    cluster.run(1, &format!("INSERT INTO {}.ticks VALUES (2, 11), (3, 12)", database.name)).await;
    assert_eq!(count(cluster, 1, &database.name).await, 3);

    private.start_again("ch2");
    sync_replica(cluster, 2, &database.name).await;
    assert_eq!(count(cluster, 2, &database.name).await, 3);
}

// Not run by default: each starts a private cluster. Its start-up used to crash a node on the
// first ON CLUSTER statement (`SendRequest`): a node started before ZooKeeper served left its DDL
// worker without a session (SIGSEGV in 18.16), which `scripts/stack` now avoids; run with
// `cargo test --test cluster_stack -- --ignored`.
#[ignore = "starts a private cluster; run with --ignored"]
#[tokio::test]
async fn on_cluster_ddl_with_a_node_down_times_out_with_code_159_and_stays_queued() {
    let private = PrivateCluster::start();
    let cluster = &private.cluster;
    let database = cluster.database().await;
    cluster.run(1, &create_ticks(&database.name)).await;

    private.stop("ch2");
    let alter = format!("ALTER TABLE {}.ticks ON CLUSTER '{{cluster}}' ADD COLUMN venue String", database.name);
    let error = cluster
        .node(1)
        .query(&alter)
        .with_setting("distributed_ddl_task_timeout", "2")
        .with_setting("wait_end_of_query", "1")
        .execute()
        .await
        .expect_err("ON CLUSTER DDL must time out while ch2 is down");
    let error = error.to_string();
    assert!(error.contains("Code: 159"), "{error}");
    assert!(error.contains("1 unfinished hosts"), "{error}");
    // Not failed: the live node has run it already.
    let columns = "SELECT name FROM system.columns WHERE database = ? AND table = 'ticks' ORDER BY name";
    let on_node_1: Vec<String> =
        cluster.node(1).query(columns).bind(database.name.as_str()).fetch_all().await.expect("columns on ch1");
    assert_eq!(on_node_1, ["id", "price", "venue"]);

    // Back, ch2 works through the queue in order: once a later ON CLUSTER statement has
    // finished on every host, so has the one that timed out.
    private.start_again("ch2");
    cluster.run(1, &format!("OPTIMIZE TABLE {}.ticks ON CLUSTER '{{cluster}}'", database.name)).await;
    let on_node_2: Vec<String> =
        cluster.node(2).query(columns).bind(database.name.as_str()).fetch_all().await.expect("columns on ch2");
    assert_eq!(on_node_2, ["id", "price", "venue"]);
}
