//! The Kafka target against both of the stack's brokers (Tansu and noida-db): each test declares
//! topics under its own random prefix, applies, and checks what the broker holds afterwards.
//!
//! Every test body is an `async fn(Broker)`; [`broker_matrix!`] makes one `#[tokio::test]` per
//! broker (`<test>::tansu`, `<test>::noida_db`) and names what the test needs from the broker. A
//! broker that lacks it does not run the body and prints why (see `common::kafka::run_on`).
//!
//! Run: `scripts/stack up && eval "$(scripts/stack env)" && cargo test --test kafka`.

mod common;

use common::kafka::{plan, run_on, tombstone, topic, unique_prefix, Broker, BrokerKind, Capability, TopicState};
use tradeforge_migrator::config::KafkaConfig;
use tradeforge_migrator::targets::kafka::{KafkaError, KafkaTarget, PartitionIncrease};
use tradeforge_migrator::targets::{ApplyOptions, Target};

const ONE_DAY: &str = "86400000";
const TWO_DAYS: &str = "172800000";

fn allow_delete() -> ApplyOptions {
    ApplyOptions { allow_delete: true }
}

/// One test per broker for each body: `name needs [Capability, …];`.
macro_rules! broker_matrix {
    ($($test:ident needs [$($need:ident),* $(,)?];)*) => {$(
        mod $test {
            use super::*;

            #[tokio::test(flavor = "multi_thread")]
            async fn tansu() {
                run_on(BrokerKind::Tansu, &[$(Capability::$need),*], super::$test).await
            }

            #[tokio::test(flavor = "multi_thread")]
            async fn noida_db() {
                run_on(BrokerKind::NoidaDb, &[$(Capability::$need),*], super::$test).await
            }
        }
    )*};
}

broker_matrix! {
    creates_declared_topics_with_their_partitions_and_configs needs [];
    second_run_changes_nothing_in_two_admin_requests needs [];
    changed_config_is_altered_leaving_the_other_keys needs [];
    declared_key_missing_on_the_broker_is_set needs [];
    list_value_in_another_order_is_not_a_change needs [];
    every_refusal_is_reported_together_and_nothing_changes needs [];
    replication_factor_above_the_broker_count_is_refused_naming_the_topic needs [];
    undeclared_topics_are_reported_and_left_alone needs [];
    tombstone_is_deleted_only_with_allow_delete needs [];
    partition_increase_is_raised_in_place needs [];
    partition_decrease_is_refused_naming_both_counts_and_the_way_out needs [];
    min_insync_replicas_above_the_broker_count_is_refused needs [];
    incremental_alter_keeps_undeclared_overrides needs [];
    legacy_alter_keeps_undeclared_overrides needs [LegacyAlterConfigs];
    dry_run_validation_rejects_a_config_the_broker_rejects needs [ValidateOnly];
    dry_run_validation_leaves_no_topic_behind needs [];
    health_check_passes needs [];
}

/// The admin requests of reading a cluster where declared topics with configs exist: metadata
/// and DescribeConfigs naming the declared keys, and on a broker that cannot take named keys one
/// more DescribeConfigs of every key.
fn reads(broker: &Broker) -> u32 {
    if broker.has(Capability::NamedConfigKeys) {
        2
    } else {
        3
    }
}

fn configs(entries: &[(&str, &str)]) -> std::collections::BTreeMap<String, String> {
    entries.iter().map(|(key, value)| (key.to_string(), value.to_string())).collect()
}

async fn creates_declared_topics_with_their_partitions_and_configs(broker: Broker) {
    let prefix = unique_prefix("create");
    let ticks = format!("{prefix}market.ticks");
    let signals = format!("{prefix}strategy.signals");
    let plan = plan(vec![
        topic(&ticks, 3, 1, &[("retention.ms", ONE_DAY), ("cleanup.policy", "compact,delete")]),
        topic(&signals, 1, 1, &[]),
    ]);
    let mut target = KafkaTarget::new(&broker.config());

    let changes = target.apply(plan, &ApplyOptions::default()).await.expect("apply");

    assert_eq!(
        changes.0,
        vec![
            format!("created topic {ticks} (partitions 3, replication factor 1, 2 configs)"),
            format!("created topic {signals} (partitions 1, replication factor 1, 0 configs)"),
        ]
    );
    let held = broker.topics(&prefix).await;
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
    broker.delete_all(&prefix).await;
}

async fn second_run_changes_nothing_in_two_admin_requests(broker: Broker) {
    let prefix = unique_prefix("noop");
    let names: Vec<String> = (0..5).map(|index| format!("{prefix}topic{index}")).collect();
    let plan = plan(names.iter().map(|name| topic(name, 2, 1, &[("retention.ms", ONE_DAY)])).collect());
    let mut target = KafkaTarget::new(&broker.config());
    target.apply(plan, &ApplyOptions::default()).await.expect("first apply");
    let before = broker.topics(&prefix).await;

    let mut again = KafkaTarget::new(&broker.config());
    let changes = again.apply(plan, &ApplyOptions::default()).await.expect("second apply");

    assert!(changes.is_empty(), "{changes:?}");
    // One metadata request and one DescribeConfigs request, whatever the number of topics (see
    // `reads`).
    assert_eq!(again.admin_requests(), reads(&broker));
    assert_eq!(broker.topics(&prefix).await, before);
    let status = again.status(plan).await.expect("status");
    assert!(status.pending.is_empty(), "{status:?}");
    assert!(!status.problems.iter().any(|problem| problem.contains(&prefix)), "{status:?}");
    assert_eq!(status.current.as_deref(), Some("5 of 5 declared topics exist"));
    assert_eq!(again.admin_requests(), reads(&broker));

    // As `migrate` runs it: the health check's metadata request serves the apply.
    let mut checked = KafkaTarget::new(&broker.config());
    checked.health_check().await.expect("health check");
    assert!(checked.apply(plan, &ApplyOptions::default()).await.expect("third apply").is_empty());
    assert_eq!(checked.admin_requests(), reads(&broker), "health check and apply together");
    broker.delete_all(&prefix).await;
}

async fn changed_config_is_altered_leaving_the_other_keys(broker: Broker) {
    let prefix = unique_prefix("alter");
    let name = format!("{prefix}trading.orders");
    let mut target = KafkaTarget::new(&broker.config());
    let one_day = plan(vec![topic(&name, 1, 1, &[("retention.ms", ONE_DAY), ("cleanup.policy", "delete")])]);
    target.apply(one_day, &ApplyOptions::default()).await.expect("first apply");

    let two_days = plan(vec![topic(&name, 1, 1, &[("retention.ms", TWO_DAYS), ("cleanup.policy", "delete")])]);
    let changes = target.apply(two_days, &ApplyOptions::default()).await.expect("second apply");

    assert_eq!(changes.0, vec![format!("altered topic {name}: retention.ms {ONE_DAY} → {TWO_DAYS}")]);
    // Reading the cluster, then IncrementalAlterConfigs.
    assert_eq!(target.admin_requests(), reads(&broker) + 1);
    let held = broker.topic(&name).await.expect("the topic");
    assert_eq!(held.config, configs(&[("cleanup.policy", "delete"), ("retention.ms", TWO_DAYS)]));
    assert!(target.apply(two_days, &ApplyOptions::default()).await.expect("third apply").is_empty());
    broker.delete_all(&prefix).await;
}

async fn declared_key_missing_on_the_broker_is_set(broker: Broker) {
    let prefix = unique_prefix("addkey");
    let name = format!("{prefix}audit.events");
    broker.create(&name, 1, &[]).await;
    let declared = plan(vec![topic(&name, 1, 1, &[("compression.type", "zstd")])]);
    let mut target = KafkaTarget::new(&broker.config());

    let changes = target.apply(declared, &ApplyOptions::default()).await.expect("apply");

    // Tansu reports only overrides; noida-db reports the default too (`producer`).
    let current = if broker.kind == BrokerKind::Tansu { "(not set)" } else { "producer" };
    assert_eq!(changes.0, vec![format!("altered topic {name}: compression.type {current} → zstd")]);
    let held = broker.topic(&name).await.expect("the topic");
    assert_eq!(held.config, configs(&[("compression.type", "zstd")]));
    broker.delete_all(&prefix).await;
}

async fn list_value_in_another_order_is_not_a_change(broker: Broker) {
    let prefix = unique_prefix("order");
    let name = format!("{prefix}trading.positions");
    broker.create(&name, 1, &[("cleanup.policy", "delete,compact")]).await;
    let declared = plan(vec![topic(&name, 1, 1, &[("cleanup.policy", "compact,delete")])]);
    let mut target = KafkaTarget::new(&broker.config());

    let changes = target.apply(declared, &ApplyOptions::default()).await.expect("apply");

    assert!(changes.is_empty(), "{changes:?}");
    let held = broker.topic(&name).await.expect("the topic");
    assert_eq!(held.config, configs(&[("cleanup.policy", "delete,compact")]));
    broker.delete_all(&prefix).await;
}

async fn every_refusal_is_reported_together_and_nothing_changes(broker: Broker) {
    let prefix = unique_prefix("refuse");
    let wide = format!("{prefix}market.ohlcv.1m");
    let replicated = format!("{prefix}trading.trades");
    let fresh = format!("{prefix}system.dead_letter");
    broker.create(&wide, 6, &[("retention.ms", ONE_DAY)]).await;
    broker.create(&replicated, 1, &[]).await;
    let before = broker.topics(&prefix).await;
    let declared = plan(vec![
        // A partition decrease, a config change on the same topic, an RF change, and a creation.
        topic(&wide, 3, 1, &[("retention.ms", TWO_DAYS)]),
        topic(&replicated, 1, 2, &[]),
        topic(&fresh, 1, 1, &[]),
    ]);
    let mut target = KafkaTarget::new(&broker.config());

    let failure = target.apply(declared, &ApplyOptions::default()).await.expect_err("refused");

    let message = failure.error.to_string();
    assert!(message.contains("nothing was changed"), "{message}");
    assert!(message.contains(&format!("topic `{wide}` has 6 partitions but declares 3")), "{message}");
    assert!(message.contains(&format!("topic `{replicated}` has replication factor 1 but declares 2")), "{message}");
    assert!(message.contains(&broker.config().bootstrap_servers), "{message}");
    assert!(failure.done.is_empty());
    assert_eq!(target.admin_requests(), reads(&broker), "only the cluster was read");
    assert_eq!(broker.topics(&prefix).await, before, "nothing changed on the broker");
    broker.delete_all(&prefix).await;
}

async fn replication_factor_above_the_broker_count_is_refused_naming_the_topic(broker: Broker) {
    let prefix = unique_prefix("rf");
    let name = format!("{prefix}market.instruments");
    let declared = plan(vec![topic(&name, 1, 3, &[])]);
    let mut target = KafkaTarget::new(&broker.config());

    let failure = target.apply(declared, &ApplyOptions::default()).await.expect_err("refused");

    let message = failure.error.to_string();
    assert!(
        message.contains(&format!("topic `{name}` declares replication factor 3 but the cluster has 1 broker")),
        "{message}"
    );
    assert!(broker.topic(&name).await.is_none(), "the topic was not created");
    broker.delete_all(&prefix).await;
}

async fn undeclared_topics_are_reported_and_left_alone(broker: Broker) {
    let prefix = unique_prefix("undeclared");
    let declared_name = format!("{prefix}declared");
    let other = format!("{prefix}someone.elses");
    broker.create(&other, 2, &[("retention.ms", ONE_DAY)]).await;
    let declared = plan(vec![topic(&declared_name, 1, 1, &[])]);
    let mut target = KafkaTarget::new(&broker.config());

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
    broker.delete_all(&prefix).await;
}

async fn tombstone_is_deleted_only_with_allow_delete(broker: Broker) {
    let prefix = unique_prefix("tombstone");
    let name = format!("{prefix}legacy.events");
    broker.create(&name, 1, &[]).await;
    let retired = plan(vec![tombstone(&name)]);
    let mut target = KafkaTarget::new(&broker.config());

    let kept = target.apply(retired, &ApplyOptions::default()).await.expect("apply without --allow-delete");
    assert!(kept.is_empty(), "{kept:?}");
    assert!(broker.topic(&name).await.is_some(), "kept without --allow-delete");
    let status = target.status(retired).await.expect("status");
    assert_eq!(status.pending, vec![format!("would delete topic {name} (tombstone), pass --allow-delete")]);

    let deleted = target.apply(retired, &allow_delete()).await.expect("apply with --allow-delete");
    assert_eq!(deleted.0, vec![format!("deleted topic {name}")]);
    assert!(broker.topic(&name).await.is_none(), "deleted with --allow-delete");
    assert!(target.apply(retired, &allow_delete()).await.expect("apply again").is_empty());
    broker.delete_all(&prefix).await;
}

/// noida-db raises the partitions in place; Tansu lacks CreatePartitions, which is reported with
/// nothing changed.
async fn partition_increase_is_raised_in_place(broker: Broker) {
    let prefix = unique_prefix("grow");
    let name = format!("{prefix}market.ohlcv.5m");
    broker.create(&name, 3, &[]).await;
    let declared = plan(vec![topic(&name, 6, 1, &[])]);
    let mut target = KafkaTarget::new(&broker.config());

    let change_set = target.change_set(declared, &ApplyOptions::default()).await.expect("change set");
    assert_eq!(
        change_set.partition_increases,
        vec![PartitionIncrease { topic: declared.topics[0].name, from: 3, to: 6 }]
    );
    let result = target.apply(declared, &ApplyOptions::default()).await;

    let held = broker.topic(&name).await.expect("the topic");
    match result {
        Err(failure) if !broker.has(Capability::CreatePartitions) => {
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
        Ok(changes) if broker.has(Capability::CreatePartitions) => {
            assert_eq!(changes.0, vec![format!("raised partitions of {name} from 3 to 6")]);
            // Metadata (the topic declares no config to describe), CreatePartitions.
            assert_eq!(target.admin_requests(), 2);
            assert_eq!(held.partitions, 6);
            assert!(target.apply(declared, &ApplyOptions::default()).await.expect("apply again").is_empty());
        }
        other => panic!("{} answered CreatePartitions unexpectedly: {other:?}", broker.kind.name()),
    }
    broker.delete_all(&prefix).await;
}

async fn partition_decrease_is_refused_naming_both_counts_and_the_way_out(broker: Broker) {
    let prefix = unique_prefix("shrink");
    let name = format!("{prefix}market.ohlcv.1h");
    broker.create(&name, 4, &[]).await;
    let declared = plan(vec![topic(&name, 2, 1, &[])]);
    let mut target = KafkaTarget::new(&broker.config());

    let failure = target.apply(declared, &ApplyOptions::default()).await.expect_err("refused");

    let message = failure.error.to_string();
    assert!(message.contains(&format!("topic `{name}` has 4 partitions but declares 2")), "{message}");
    assert!(message.contains("declare 4 or more, or retire the topic with `deleted: true`"), "{message}");
    assert_eq!(target.admin_requests(), 1, "only the metadata was read: the topic declares no config");
    assert_eq!(broker.topic(&name).await.map(|topic| topic.partitions), Some(4));
    broker.delete_all(&prefix).await;
}

async fn min_insync_replicas_above_the_broker_count_is_refused(broker: Broker) {
    let prefix = unique_prefix("minisr");
    let existing = format!("{prefix}trading.fills");
    let fresh = format!("{prefix}trading.orders");
    broker.create(&existing, 1, &[]).await;
    let before = broker.topics(&prefix).await;
    let declared = plan(vec![
        topic(&existing, 1, 1, &[("min.insync.replicas", "2")]),
        topic(&fresh, 1, 1, &[("min.insync.replicas", "3")]),
    ]);
    let mut target = KafkaTarget::new(&broker.config());

    let failure = target.apply(declared, &ApplyOptions::default()).await.expect_err("refused");

    let message = failure.error.to_string();
    for (name, wanted) in [(&existing, 2), (&fresh, 3)] {
        assert!(
            message.contains(&format!(
                "topic `{name}` declares min.insync.replicas {wanted} but the cluster has 1 broker"
            )),
            "{message}"
        );
    }
    assert_eq!(broker.topics(&prefix).await, before, "nothing changed on the broker");
    broker.delete_all(&prefix).await;
}

/// A topic with an override the plan does not declare (`segment.ms`, set by hand) gets a declared
/// key changed; the override stays, through either alter request.
async fn alter_keeps_undeclared_overrides(broker: Broker, legacy: bool) {
    let prefix = unique_prefix(if legacy { "legacy" } else { "incremental" });
    let name = format!("{prefix}trading.orders");
    broker.create(&name, 1, &[("retention.ms", ONE_DAY), ("segment.ms", "3600000")]).await;
    let declared = plan(vec![topic(&name, 1, 1, &[("retention.ms", TWO_DAYS), ("cleanup.policy", "delete")])]);
    let target = KafkaTarget::new(&broker.config());
    let mut target = if legacy { target.with_legacy_alter_configs() } else { target };

    let changes = target.apply(declared, &ApplyOptions::default()).await.expect("apply");

    assert_eq!(changes.0.len(), 1, "{changes:?}");
    assert!(changes.0[0].contains(&format!("retention.ms {ONE_DAY} → {TWO_DAYS}")), "{changes:?}");
    // Reading the cluster, then IncrementalAlterConfigs; or DescribeConfigs of every key of the
    // altered topics and AlterConfigs.
    assert_eq!(target.admin_requests(), reads(&broker) + if legacy { 2 } else { 1 });
    let held = broker.topic(&name).await.expect("the topic");
    assert_eq!(held.config.get("retention.ms").map(String::as_str), Some(TWO_DAYS), "{held:?}");
    assert_eq!(held.config.get("segment.ms").map(String::as_str), Some("3600000"), "kept: {held:?}");
    assert!(target.apply(declared, &ApplyOptions::default()).await.expect("apply again").is_empty());
    broker.delete_all(&prefix).await;
}

async fn incremental_alter_keeps_undeclared_overrides(broker: Broker) {
    alter_keeps_undeclared_overrides(broker, false).await
}

async fn legacy_alter_keeps_undeclared_overrides(broker: Broker) {
    alter_keeps_undeclared_overrides(broker, true).await
}

/// The plan is built by hand here; the build would catch this value, but a broker also rejects
/// values the build cannot know to be wrong (its own limits, keys of a newer Kafka).
async fn dry_run_validation_rejects_a_config_the_broker_rejects(broker: Broker) {
    let prefix = unique_prefix("validate");
    let good = format!("{prefix}market.ticks");
    let bad = format!("{prefix}market.quotes");
    let declared =
        plan(vec![topic(&good, 2, 1, &[("retention.ms", ONE_DAY)]), topic(&bad, 1, 1, &[("retention.ms", "a week")])]);
    let mut target = KafkaTarget::new(&broker.config());
    let changes = target.change_set(declared, &ApplyOptions::default()).await.expect("change set");
    assert_eq!(changes.creates.len(), 2);

    let error = target.validate(&changes).await.expect_err("rejected");

    assert!(matches!(error, KafkaError::Rejected { .. }), "{error:?}");
    let message = error.to_string();
    assert!(message.contains(&format!("create topic `{bad}`: ")), "{message}");
    // The broker's own words, naming the key.
    assert!(message.contains("retention.ms"), "{message}");
    assert!(!message.contains(&format!("`{good}`")), "{message}");
    // Metadata, DescribeConfigs (nothing to describe: skipped), CreateTopics, metadata.
    assert_eq!(target.admin_requests(), 3);
    assert!(broker.topics(&prefix).await.is_empty(), "validating created nothing");
    broker.delete_all(&prefix).await;
}

/// On a broker that honours `validate_only` nothing is created; on one that ignores it (Tansu)
/// what it created is deleted again and reported.
async fn dry_run_validation_leaves_no_topic_behind(broker: Broker) {
    let prefix = unique_prefix("validated");
    let name = format!("{prefix}strategy.signals");
    let declared = plan(vec![topic(&name, 3, 1, &[("retention.ms", ONE_DAY)])]);
    let mut target = KafkaTarget::new(&broker.config());
    let changes = target.change_set(declared, &ApplyOptions::default()).await.expect("change set");

    let validation = target.validate(&changes).await.expect("validated");

    assert_eq!(validation.accepted, vec![name.clone()]);
    if broker.has(Capability::ValidateOnly) {
        assert!(validation.created_despite_validate_only.is_empty(), "{validation:?}");
        assert_eq!(target.admin_requests(), 3);
    } else {
        assert_eq!(validation.created_despite_validate_only, vec![name.clone()]);
        assert_eq!(target.admin_requests(), 4, "and one DeleteTopics");
    }
    assert!(broker.topics(&prefix).await.is_empty(), "no topic left behind");
    broker.delete_all(&prefix).await;
}

async fn health_check_passes(broker: Broker) {
    let mut target = KafkaTarget::new(&broker.config());
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
