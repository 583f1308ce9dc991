//! The Kafka target against the stack's broker (Tansu): each test declares topics under its own
//! random prefix, applies, and checks what the broker holds afterwards.
//!
//! Run: `scripts/stack up && eval "$(scripts/stack env)" && cargo test --test kafka`.

mod common;

use common::kafka::{config, plan, tombstone, topic, unique_prefix, Broker, TopicState};
use tradeforge_migrator::config::KafkaConfig;
use tradeforge_migrator::target::kafka::{KafkaTarget, PartitionIncrease};
use tradeforge_migrator::target::{ApplyOptions, Target};

const ONE_DAY: &str = "86400000";
const TWO_DAYS: &str = "172800000";

fn allow_delete() -> ApplyOptions {
    ApplyOptions { allow_delete: true }
}

fn configs(entries: &[(&str, &str)]) -> std::collections::BTreeMap<String, String> {
    entries.iter().map(|(key, value)| (key.to_string(), value.to_string())).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn creates_declared_topics_with_their_partitions_and_configs() {
    let prefix = unique_prefix("create");
    let ticks = format!("{prefix}market.ticks");
    let signals = format!("{prefix}strategy.signals");
    let plan = plan(vec![
        topic(&ticks, 3, 1, &[("retention.ms", ONE_DAY), ("cleanup.policy", "compact,delete")]),
        topic(&signals, 1, 1, &[]),
    ]);
    let mut target = KafkaTarget::new(&config());

    let changes = target.apply(plan, &ApplyOptions::default()).await.expect("apply");

    assert_eq!(
        changes.0,
        vec![
            format!("created topic {ticks} (partitions 3, replication factor 1, 2 configs)"),
            format!("created topic {signals} (partitions 1, replication factor 1, 0 configs)"),
        ]
    );
    let held = Broker::connect().topics(&prefix).await;
    assert_eq!(
        held.get(&ticks),
        Some(&TopicState {
            partitions: 3,
            replication_factor: 1,
            config: configs(&[("cleanup.policy", "compact,delete"), ("retention.ms", ONE_DAY)]),
        })
    );
    assert_eq!(held.get(&signals).map(|topic| (topic.partitions, topic.replication_factor)), Some((1, 1)));
    assert_eq!(held.len(), 2);
    Broker::connect().delete_all(&prefix).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn second_run_changes_nothing_in_two_admin_requests() {
    let prefix = unique_prefix("noop");
    let names: Vec<String> = (0..5).map(|index| format!("{prefix}topic{index}")).collect();
    let plan = plan(names.iter().map(|name| topic(name, 2, 1, &[("retention.ms", ONE_DAY)])).collect());
    let mut target = KafkaTarget::new(&config());
    target.apply(plan, &ApplyOptions::default()).await.expect("first apply");
    let before = Broker::connect().topics(&prefix).await;

    let mut again = KafkaTarget::new(&config());
    let changes = again.apply(plan, &ApplyOptions::default()).await.expect("second apply");

    assert!(changes.is_empty(), "{changes:?}");
    // One metadata request and one DescribeConfigs request, whatever the number of topics.
    assert_eq!(again.admin_requests(), 2);
    assert_eq!(Broker::connect().topics(&prefix).await, before);
    let status = again.status(plan).await.expect("status");
    assert!(status.pending.is_empty(), "{status:?}");
    assert!(!status.problems.iter().any(|problem| problem.contains(&prefix)), "{status:?}");
    assert_eq!(status.current.as_deref(), Some("5 of 5 declared topics exist"));
    assert_eq!(again.admin_requests(), 2);

    // As `migrate` runs it: the health check's metadata request serves the apply.
    let mut checked = KafkaTarget::new(&config());
    checked.health_check().await.expect("health check");
    assert!(checked.apply(plan, &ApplyOptions::default()).await.expect("third apply").is_empty());
    assert_eq!(checked.admin_requests(), 2, "health check and apply together");
    Broker::connect().delete_all(&prefix).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn changed_config_is_altered_leaving_the_other_keys() {
    let prefix = unique_prefix("alter");
    let name = format!("{prefix}trading.orders");
    let mut target = KafkaTarget::new(&config());
    let one_day = plan(vec![topic(&name, 1, 1, &[("retention.ms", ONE_DAY), ("cleanup.policy", "delete")])]);
    target.apply(one_day, &ApplyOptions::default()).await.expect("first apply");

    let two_days = plan(vec![topic(&name, 1, 1, &[("retention.ms", TWO_DAYS), ("cleanup.policy", "delete")])]);
    let changes = target.apply(two_days, &ApplyOptions::default()).await.expect("second apply");

    assert_eq!(changes.0, vec![format!("altered topic {name}: retention.ms {ONE_DAY} → {TWO_DAYS}")]);
    // Metadata, DescribeConfigs, IncrementalAlterConfigs.
    assert_eq!(target.admin_requests(), 3);
    let held = Broker::connect().topic(&name).await.expect("the topic");
    assert_eq!(held.config, configs(&[("cleanup.policy", "delete"), ("retention.ms", TWO_DAYS)]));
    assert!(target.apply(two_days, &ApplyOptions::default()).await.expect("third apply").is_empty());
    Broker::connect().delete_all(&prefix).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn declared_key_missing_on_the_broker_is_set() {
    let prefix = unique_prefix("addkey");
    let name = format!("{prefix}audit.events");
    Broker::connect().create(&name, 1, &[]).await;
    let declared = plan(vec![topic(&name, 1, 1, &[("compression.type", "zstd")])]);
    let mut target = KafkaTarget::new(&config());

    let changes = target.apply(declared, &ApplyOptions::default()).await.expect("apply");

    assert_eq!(changes.0, vec![format!("altered topic {name}: compression.type (not set) → zstd")]);
    let held = Broker::connect().topic(&name).await.expect("the topic");
    assert_eq!(held.config, configs(&[("compression.type", "zstd")]));
    Broker::connect().delete_all(&prefix).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn list_value_in_another_order_is_not_a_change() {
    let prefix = unique_prefix("order");
    let name = format!("{prefix}trading.positions");
    Broker::connect().create(&name, 1, &[("cleanup.policy", "delete,compact")]).await;
    let declared = plan(vec![topic(&name, 1, 1, &[("cleanup.policy", "compact,delete")])]);
    let mut target = KafkaTarget::new(&config());

    let changes = target.apply(declared, &ApplyOptions::default()).await.expect("apply");

    assert!(changes.is_empty(), "{changes:?}");
    let held = Broker::connect().topic(&name).await.expect("the topic");
    assert_eq!(held.config, configs(&[("cleanup.policy", "delete,compact")]));
    Broker::connect().delete_all(&prefix).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn every_refusal_is_reported_together_and_nothing_changes() {
    let prefix = unique_prefix("refuse");
    let wide = format!("{prefix}market.ohlcv.1m");
    let replicated = format!("{prefix}trading.trades");
    let fresh = format!("{prefix}system.dead_letter");
    let broker = Broker::connect();
    broker.create(&wide, 6, &[("retention.ms", ONE_DAY)]).await;
    broker.create(&replicated, 1, &[]).await;
    let before = broker.topics(&prefix).await;
    let declared = plan(vec![
        // A partition decrease, a config change on the same topic, an RF change, and a creation.
        topic(&wide, 3, 1, &[("retention.ms", TWO_DAYS)]),
        topic(&replicated, 1, 2, &[]),
        topic(&fresh, 1, 1, &[]),
    ]);
    let mut target = KafkaTarget::new(&config());

    let failure = target.apply(declared, &ApplyOptions::default()).await.expect_err("refused");

    let message = failure.error.to_string();
    assert!(message.contains("nothing was changed"), "{message}");
    assert!(message.contains(&format!("topic `{wide}` has 6 partitions but declares 3")), "{message}");
    assert!(message.contains(&format!("topic `{replicated}` has replication factor 1 but declares 2")), "{message}");
    assert!(message.contains(&config().bootstrap_servers), "{message}");
    assert!(failure.done.is_empty());
    assert_eq!(target.admin_requests(), 2, "only the cluster was read");
    assert_eq!(broker.topics(&prefix).await, before, "nothing changed on the broker");
    Broker::connect().delete_all(&prefix).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn replication_factor_above_the_broker_count_is_refused_naming_the_topic() {
    let prefix = unique_prefix("rf");
    let name = format!("{prefix}market.instruments");
    let declared = plan(vec![topic(&name, 1, 3, &[])]);
    let mut target = KafkaTarget::new(&config());

    let failure = target.apply(declared, &ApplyOptions::default()).await.expect_err("refused");

    let message = failure.error.to_string();
    assert!(
        message.contains(&format!("topic `{name}` declares replication factor 3 but the cluster has 1 broker")),
        "{message}"
    );
    assert!(Broker::connect().topic(&name).await.is_none(), "the topic was not created");
    Broker::connect().delete_all(&prefix).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn undeclared_topics_are_reported_and_left_alone() {
    let prefix = unique_prefix("undeclared");
    let declared_name = format!("{prefix}declared");
    let other = format!("{prefix}someone.elses");
    let broker = Broker::connect();
    broker.create(&other, 2, &[("retention.ms", ONE_DAY)]).await;
    let declared = plan(vec![topic(&declared_name, 1, 1, &[])]);
    let mut target = KafkaTarget::new(&config());

    let status = target.status(declared).await.expect("status");
    assert!(
        status.notes.contains(&format!("undeclared topic {other}: not in kafka_topics.yml, left untouched")),
        "{status:?}"
    );
    let changes = target.apply(declared, &ApplyOptions::default()).await.expect("apply");

    assert_eq!(
        changes.0,
        vec![format!("created topic {declared_name} (partitions 1, replication factor 1, 0 configs)")]
    );
    let change_set = target.change_set(declared, &allow_delete()).await.expect("change set");
    assert!(change_set.undeclared.contains(&other));
    assert!(change_set.deletes.is_empty(), "an undeclared topic is never deleted, even with --allow-delete");
    assert_eq!(
        broker.topic(&other).await,
        Some(TopicState { partitions: 2, replication_factor: 1, config: configs(&[("retention.ms", ONE_DAY)]) })
    );
    Broker::connect().delete_all(&prefix).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn tombstone_is_deleted_only_with_allow_delete() {
    let prefix = unique_prefix("tombstone");
    let name = format!("{prefix}legacy.events");
    let broker = Broker::connect();
    broker.create(&name, 1, &[]).await;
    let retired = plan(vec![tombstone(&name)]);
    let mut target = KafkaTarget::new(&config());

    let kept = target.apply(retired, &ApplyOptions::default()).await.expect("apply without --allow-delete");
    assert!(kept.is_empty(), "{kept:?}");
    assert!(broker.topic(&name).await.is_some(), "kept without --allow-delete");
    let status = target.status(retired).await.expect("status");
    assert_eq!(status.pending, vec![format!("would delete topic {name} (tombstone), pass --allow-delete")]);

    let deleted = target.apply(retired, &allow_delete()).await.expect("apply with --allow-delete");
    assert_eq!(deleted.0, vec![format!("deleted topic {name}")]);
    assert!(broker.topic(&name).await.is_none(), "deleted with --allow-delete");
    assert!(target.apply(retired, &allow_delete()).await.expect("apply again").is_empty());
    Broker::connect().delete_all(&prefix).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn partition_increase_needs_create_partitions() {
    let prefix = unique_prefix("grow");
    let name = format!("{prefix}market.ohlcv.5m");
    Broker::connect().create(&name, 3, &[]).await;
    let declared = plan(vec![topic(&name, 6, 1, &[])]);
    let mut target = KafkaTarget::new(&config());

    let change_set = target.change_set(declared, &ApplyOptions::default()).await.expect("change set");
    assert_eq!(
        change_set.partition_increases,
        vec![PartitionIncrease { topic: declared.topics[0].name, from: 3, to: 6 }]
    );
    let result = target.apply(declared, &ApplyOptions::default()).await;

    let held = Broker::connect().topic(&name).await.expect("the topic");
    match result {
        // Tansu, the stack's broker, lacks CreatePartitions.
        Err(failure) => {
            let message = failure.error.to_string();
            assert!(
                message.contains(&format!(
                    "does not support CreatePartitions: cannot raise partitions of {name} from 3 to 6"
                )),
                "{message}"
            );
            assert!(failure.done.is_empty());
            assert_eq!(held.partitions, 3);
        }
        // A broker that has it.
        Ok(changes) => {
            assert_eq!(changes.0, vec![format!("raised partitions of {name} from 3 to 6")]);
            assert_eq!(held.partitions, 6);
        }
    }
    Broker::connect().delete_all(&prefix).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn health_check_passes_against_the_stack() {
    let mut target = KafkaTarget::new(&config());
    target.health_check().await.expect("the stack's broker answers");
    assert_eq!(target.admin_requests(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn health_check_names_the_bootstrap_servers_it_could_not_reach() {
    // Nothing listens on port 1.
    let unreachable = KafkaConfig { bootstrap_servers: "127.0.0.1:1".into(), properties: Vec::new() };
    let mut target = KafkaTarget::new(&unreachable);

    let error = target.health_check().await.expect_err("unreachable");

    let message = error.to_string();
    assert!(message.contains("kafka at `127.0.0.1:1` did not answer a metadata request"), "{message}");
    assert!(message.contains("check KAFKA_BOOTSTRAP_SERVERS"), "{message}");
}
