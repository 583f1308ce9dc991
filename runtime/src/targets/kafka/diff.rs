//! The change set: what `migrate` must do to bring the broker's topics to the plan. It is a pure
//! function of the plan's topics and one snapshot of the cluster ([`Cluster`]), so every rule
//! about what may change, and what must be refused, is tested here without a broker.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use tradeforge_migrator_spec::topic_config::{self, Kind};

use crate::plan::Topic;
use crate::targets::ApplyOptions;

/// What the broker holds, from one metadata request and one DescribeConfigs request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Cluster {
    /// Brokers listed in the metadata.
    pub brokers: usize,
    /// Every topic the metadata lists, by name.
    pub topics: BTreeMap<String, ObservedTopic>,
}

/// One topic as the broker reports it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ObservedTopic {
    pub partitions: i32,
    /// The most replicas any partition of the topic has.
    pub replication_factor: i16,
    /// The config values the broker described. Only topics the plan declares are described; a
    /// key the broker did not report is absent.
    pub config: BTreeMap<String, String>,
}

/// Everything that differs between the plan and the cluster.
///
/// `migrate` applies `partition_increases`, `creates`, `alters` and `deletes`, and only when
/// `refusals` is empty: a refused change stops the whole run before anything is changed.
#[derive(Clone, Debug, Default)]
pub struct ChangeSet<'p> {
    /// Declared topics the cluster lacks.
    pub creates: Vec<&'p Topic>,
    /// Declared topics with fewer partitions than declared.
    pub partition_increases: Vec<PartitionIncrease<'p>>,
    /// Declared topics whose declared configs differ on the broker.
    pub alters: Vec<ConfigAlter<'p>>,
    /// Tombstones that exist, to delete (`--allow-delete` was given).
    pub deletes: Vec<&'p str>,
    /// Tombstones that exist, kept because `--allow-delete` was not given.
    pub kept_tombstones: Vec<&'p str>,
    /// Topics on the cluster that the plan does not mention; reported, never touched.
    pub undeclared: Vec<String>,
    /// Differences `migrate` will not resolve.
    pub refusals: Vec<Refusal<'p>>,
}

/// A topic to grow from `from` to `to` partitions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartitionIncrease<'p> {
    pub topic: &'p str,
    pub from: i32,
    pub to: i32,
}

/// The declared configs of one topic that differ on the broker.
#[derive(Clone, Debug)]
pub struct ConfigAlter<'p> {
    pub topic: &'p Topic,
    /// In key order; only keys the plan declares.
    pub entries: Vec<ConfigDifference<'p>>,
}

/// One declared config key whose broker value differs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigDifference<'p> {
    pub key: &'p str,
    /// What the broker reported; `None` when it did not report the key.
    pub current: Option<String>,
    pub declared: &'p str,
}

/// A difference `migrate` refuses to resolve, found before anything is changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal<'p> {
    /// Kafka cannot remove partitions.
    PartitionDecrease { topic: &'p str, declared: i32, actual: i32 },
    /// Changing it means reassigning replicas, which is an operator's decision, not a deploy's.
    ReplicationFactorChange { topic: &'p str, declared: i16, actual: i16 },
    /// A topic to create needs more brokers than the cluster has.
    NotEnoughBrokers { topic: &'p str, replication_factor: i16, brokers: usize },
    /// `min.insync.replicas` above the broker count: every `acks=all` write would fail.
    MinInsyncAboveBrokers { topic: &'p str, min_insync_replicas: i64, brokers: usize },
}

impl<'p> ChangeSet<'p> {
    /// Compares the plan's `topics` with `cluster`.
    ///
    /// Only the config keys a topic declares are compared, since the broker reports its defaults
    /// for every other key; values are compared normalised ([`same_config_value`]). Internal
    /// topics (`__consumer_offsets`, …) are ignored.
    pub fn between(topics: &'p [Topic], cluster: &Cluster, options: &ApplyOptions) -> ChangeSet<'p> {
        let mut changes = ChangeSet::default();
        for topic in topics {
            match (topic.deleted, cluster.topics.get(topic.name)) {
                (true, Some(_)) if options.allow_delete => changes.deletes.push(topic.name),
                (true, Some(_)) => changes.kept_tombstones.push(topic.name),
                (true, None) => {}
                (false, None) => changes.plan_create(topic, cluster.brokers),
                (false, Some(observed)) => changes.plan_update(topic, observed),
            }
            if !topic.deleted {
                changes.check_min_insync_replicas(topic, cluster.brokers);
            }
        }
        let declared: BTreeSet<&str> = topics.iter().map(|topic| topic.name).collect();
        changes.undeclared = cluster
            .topics
            .keys()
            .filter(|name| !declared.contains(name.as_str()) && !is_internal(name))
            .cloned()
            .collect();
        changes
    }

    /// True when `migrate` has nothing to do and nothing to refuse (undeclared topics and kept
    /// tombstones are only reported).
    pub fn is_empty(&self) -> bool {
        self.creates.is_empty()
            && self.partition_increases.is_empty()
            && self.alters.is_empty()
            && self.deletes.is_empty()
            && self.refusals.is_empty()
    }

    fn plan_create(&mut self, topic: &'p Topic, brokers: usize) {
        // A cluster that lists no broker at all tells nothing about its size; let the broker judge.
        if brokers > 0 && usize::try_from(topic.replication_factor).is_ok_and(|factor| factor > brokers) {
            self.refusals.push(Refusal::NotEnoughBrokers {
                topic: topic.name,
                replication_factor: topic.replication_factor,
                brokers,
            });
        }
        self.creates.push(topic);
    }

    /// The build checks `min.insync.replicas` against the declared replication factor; only the
    /// live cluster knows how many brokers there are to hold those replicas.
    fn check_min_insync_replicas(&mut self, topic: &'p Topic, brokers: usize) {
        let declared = topic.config.iter().find(|(key, _)| *key == "min.insync.replicas");
        let Some(min_insync_replicas) = declared.and_then(|(_, value)| value.trim().parse::<i64>().ok()) else {
            return;
        };
        if brokers > 0 && usize::try_from(min_insync_replicas).is_ok_and(|needed| needed > brokers) {
            self.refusals.push(Refusal::MinInsyncAboveBrokers { topic: topic.name, min_insync_replicas, brokers });
        }
    }

    fn plan_update(&mut self, topic: &'p Topic, observed: &ObservedTopic) {
        if observed.partitions > topic.partitions {
            self.refusals.push(Refusal::PartitionDecrease {
                topic: topic.name,
                declared: topic.partitions,
                actual: observed.partitions,
            });
        } else if observed.partitions < topic.partitions {
            self.partition_increases.push(PartitionIncrease {
                topic: topic.name,
                from: observed.partitions,
                to: topic.partitions,
            });
        }
        if observed.replication_factor != topic.replication_factor {
            self.refusals.push(Refusal::ReplicationFactorChange {
                topic: topic.name,
                declared: topic.replication_factor,
                actual: observed.replication_factor,
            });
        }
        let entries = config_differences(topic, &observed.config);
        if !entries.is_empty() {
            self.alters.push(ConfigAlter { topic, entries });
        }
    }
}

/// The declared keys of `topic` whose value on the broker differs from the declaration.
fn config_differences<'p>(topic: &'p Topic, current: &BTreeMap<String, String>) -> Vec<ConfigDifference<'p>> {
    topic
        .config
        .iter()
        .filter_map(|&(key, declared)| {
            let reported = current.get(key);
            match reported {
                Some(value) if same_config_value(key, value, declared) => None,
                _ => Some(ConfigDifference { key, current: reported.cloned(), declared }),
            }
        })
        .collect()
}

/// Whether two values of config `key` mean the same to Kafka, so that a broker that reports
/// `delete,compact` for a declared `compact,delete` is not shown as a change: list items in any
/// order, booleans in any case, decimals in any notation, surrounding spaces ignored.
pub fn same_config_value(key: &str, left: &str, right: &str) -> bool {
    let (left, right) = (left.trim(), right.trim());
    match topic_config::find(key).map(|config| config.kind) {
        Some(Kind::List(_) | Kind::ReplicaList) => list_items(left) == list_items(right),
        Some(Kind::Bool) => left.eq_ignore_ascii_case(right),
        Some(Kind::Double { .. }) => match (left.parse::<f64>(), right.parse::<f64>()) {
            (Ok(left), Ok(right)) => left == right,
            _ => left == right,
        },
        _ => left == right,
    }
}

fn list_items(value: &str) -> BTreeSet<&str> {
    value.split(',').map(str::trim).filter(|item| !item.is_empty()).collect()
}

/// Kafka's own topics (`__consumer_offsets`, `__transaction_state`) belong to the broker.
fn is_internal(name: &str) -> bool {
    name.starts_with("__")
}

/// `topic market.ticks (partitions 3, replication factor 1, 2 configs)`, the tail of the
/// `create …`/`created …` lines.
pub struct TopicSummary<'a>(pub &'a Topic);

impl fmt::Display for TopicSummary<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let topic = self.0;
        let configs = match topic.config.len() {
            1 => "1 config".to_owned(),
            count => format!("{count} configs"),
        };
        write!(
            f,
            "topic {} (partitions {}, replication factor {}, {configs})",
            topic.name, topic.partitions, topic.replication_factor
        )
    }
}

impl fmt::Display for PartitionIncrease<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "partitions of {} from {} to {}", self.topic, self.from, self.to)
    }
}

/// `topic X: retention.ms 86400000 → 604800000, segment.ms (not set) → 3600000`, the tail of the
/// `alter …`/`altered …` lines.
impl fmt::Display for ConfigAlter<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "topic {}: ", self.topic.name)?;
        for (index, entry) in self.entries.iter().enumerate() {
            if index > 0 {
                f.write_str(", ")?;
            }
            let current = entry.current.as_deref().unwrap_or("(not set)");
            write!(f, "{} {current} → {}", entry.key, entry.declared)?;
        }
        Ok(())
    }
}

impl fmt::Display for Refusal<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::PartitionDecrease { topic, declared, actual } => write!(
                f,
                "topic `{topic}` has {actual} partitions but declares {declared}: Kafka cannot remove \
                 partitions; declare {actual} or more, or retire the topic with `deleted: true` and \
                 declare a new one"
            ),
            Refusal::ReplicationFactorChange { topic, declared, actual } => write!(
                f,
                "topic `{topic}` has replication factor {actual} but declares {declared}: migrate never \
                 changes a replication factor; declare {actual}, or reassign the replicas with \
                 kafka-reassign-partitions first"
            ),
            Refusal::NotEnoughBrokers { topic, replication_factor, brokers } => {
                let noun = if *brokers == 1 { "broker" } else { "brokers" };
                write!(
                    f,
                    "topic `{topic}` declares replication factor {replication_factor} but the cluster has \
                     {brokers} {noun}; declare at most {brokers} or add brokers"
                )
            }
            Refusal::MinInsyncAboveBrokers { topic, min_insync_replicas, brokers } => {
                let noun = if *brokers == 1 { "broker" } else { "brokers" };
                write!(
                    f,
                    "topic `{topic}` declares min.insync.replicas {min_insync_replicas} but the cluster has \
                     {brokers} {noun}, so every write with acks=all would fail; declare at most {brokers} or \
                     add brokers"
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TICKS: Topic = Topic {
        name: "market.ticks",
        partitions: 3,
        replication_factor: 1,
        config: &[("cleanup.policy", "compact,delete"), ("retention.ms", "86400000")],
        deleted: false,
    };
    const ORDERS: Topic =
        Topic { name: "trading.orders", partitions: 6, replication_factor: 1, config: &[], deleted: false };
    const OLD: Topic =
        Topic { name: "legacy.events", partitions: 1, replication_factor: 1, config: &[], deleted: true };

    fn observed(partitions: i32, replication_factor: i16, config: &[(&str, &str)]) -> ObservedTopic {
        ObservedTopic {
            partitions,
            replication_factor,
            config: config.iter().map(|(key, value)| (key.to_string(), value.to_string())).collect(),
        }
    }

    fn cluster(topics: &[(&str, ObservedTopic)]) -> Cluster {
        Cluster { brokers: 1, topics: topics.iter().map(|(name, topic)| (name.to_string(), topic.clone())).collect() }
    }

    fn ticks_as_declared() -> ObservedTopic {
        // The broker reports defaults for every key besides the declared ones.
        observed(
            3,
            1,
            &[("cleanup.policy", "compact,delete"), ("retention.ms", "86400000"), ("segment.ms", "604800000")],
        )
    }

    fn names(topics: &[&Topic]) -> Vec<&'static str> {
        topics.iter().map(|topic| topic.name).collect()
    }

    fn diff<'p>(topics: &'p [Topic], cluster: &Cluster) -> ChangeSet<'p> {
        ChangeSet::between(topics, cluster, &ApplyOptions::default())
    }

    #[test]
    fn missing_topic_is_created() {
        let topics = [TICKS];
        let changes = diff(&topics, &cluster(&[]));
        assert_eq!(names(&changes.creates), vec!["market.ticks"]);
        assert!(changes.refusals.is_empty() && changes.alters.is_empty());
        assert_eq!(
            format!("created {}", TopicSummary(changes.creates[0])),
            "created topic market.ticks (partitions 3, replication factor 1, 2 configs)"
        );
    }

    #[test]
    fn topic_as_declared_is_no_change() {
        let topics = [TICKS];
        let changes = diff(&topics, &cluster(&[("market.ticks", ticks_as_declared())]));
        assert!(changes.is_empty(), "{changes:?}");
        assert!(changes.undeclared.is_empty());
    }

    #[test]
    fn fewer_partitions_than_declared_are_raised() {
        let topics = [TICKS];
        let mut current = ticks_as_declared();
        current.partitions = 2;
        let changes = diff(&topics, &cluster(&[("market.ticks", current)]));
        assert_eq!(changes.partition_increases, vec![PartitionIncrease { topic: "market.ticks", from: 2, to: 3 }]);
        assert!(changes.refusals.is_empty());
    }

    #[test]
    fn partition_decrease_is_refused() {
        let topics = [TICKS];
        let mut current = ticks_as_declared();
        current.partitions = 12;
        let changes = diff(&topics, &cluster(&[("market.ticks", current)]));
        assert_eq!(
            changes.refusals,
            vec![Refusal::PartitionDecrease { topic: "market.ticks", declared: 3, actual: 12 }]
        );
        assert!(changes.partition_increases.is_empty());
        assert!(changes.refusals[0].to_string().contains("topic `market.ticks` has 12 partitions but declares 3"));
    }

    #[test]
    fn replication_factor_change_is_refused_naming_both_values() {
        let topics = [TICKS];
        let mut current = ticks_as_declared();
        current.replication_factor = 3;
        let changes = diff(&topics, &cluster(&[("market.ticks", current)]));
        assert_eq!(
            changes.refusals,
            vec![Refusal::ReplicationFactorChange { topic: "market.ticks", declared: 1, actual: 3 }]
        );
        assert!(changes.refusals[0].to_string().contains("has replication factor 3 but declares 1"));
    }

    #[test]
    fn replication_factor_above_the_broker_count_is_refused() {
        let topics = [Topic { replication_factor: 3, ..TICKS }];
        let changes = diff(&topics, &cluster(&[]));
        assert_eq!(
            changes.refusals,
            vec![Refusal::NotEnoughBrokers { topic: "market.ticks", replication_factor: 3, brokers: 1 }]
        );
        assert!(changes.refusals[0].to_string().contains("the cluster has 1 broker;"));
    }

    #[test]
    fn min_insync_replicas_above_the_broker_count_is_refused() {
        let wanting = Topic { config: &[("min.insync.replicas", "2")], ..ORDERS };
        let topics = [wanting];
        let created = diff(&topics, &cluster(&[]));
        assert_eq!(
            created.refusals,
            vec![Refusal::MinInsyncAboveBrokers { topic: "trading.orders", min_insync_replicas: 2, brokers: 1 }]
        );
        assert!(created.refusals[0].to_string().contains("min.insync.replicas 2 but the cluster has 1 broker"));
        // An existing topic is checked too, before its config is altered.
        let existing = diff(&topics, &cluster(&[("trading.orders", observed(6, 1, &[]))]));
        assert_eq!(existing.refusals.len(), 1);
        let enough = Cluster { brokers: 2, ..cluster(&[]) };
        assert!(diff(&topics, &enough).refusals.is_empty());
    }

    #[test]
    fn config_diff_covers_only_declared_keys() {
        let topics = [TICKS];
        let current =
            observed(3, 1, &[("cleanup.policy", "compact,delete"), ("retention.ms", "604800000"), ("segment.ms", "1")]);
        let changes = diff(&topics, &cluster(&[("market.ticks", current)]));
        assert_eq!(changes.alters.len(), 1);
        assert_eq!(changes.alters[0].topic.name, "market.ticks");
        assert_eq!(
            changes.alters[0].entries,
            vec![ConfigDifference { key: "retention.ms", current: Some("604800000".into()), declared: "86400000" }]
        );
        assert_eq!(
            format!("altered {}", changes.alters[0]),
            "altered topic market.ticks: retention.ms 604800000 → 86400000"
        );
    }

    #[test]
    fn declared_key_the_broker_did_not_report_is_a_change() {
        let topics = [TICKS];
        let current = observed(3, 1, &[("retention.ms", "86400000")]);
        let changes = diff(&topics, &cluster(&[("market.ticks", current)]));
        let entries = &changes.alters[0].entries;
        assert_eq!(entries, &[ConfigDifference { key: "cleanup.policy", current: None, declared: "compact,delete" }]);
        assert_eq!(changes.alters[0].to_string(), "topic market.ticks: cleanup.policy (not set) → compact,delete");
    }

    #[test]
    fn equal_values_are_not_a_change() {
        assert!(same_config_value("cleanup.policy", "delete,compact", "compact,delete"));
        assert!(same_config_value("cleanup.policy", "compact, delete", "compact,delete"));
        assert!(!same_config_value("cleanup.policy", "compact", "compact,delete"));
        assert!(same_config_value("preallocate", "TRUE", "true"));
        assert!(same_config_value("min.cleanable.dirty.ratio", "0.50", "0.5"));
        assert!(same_config_value("retention.ms", " 86400000", "86400000"));
        assert!(!same_config_value("retention.ms", "86400000", "172800000"));
        assert!(!same_config_value("message.timestamp.type", "createtime", "CreateTime"));

        let topics = [TICKS];
        let current = observed(3, 1, &[("cleanup.policy", "delete,compact"), ("retention.ms", "86400000")]);
        assert!(diff(&topics, &cluster(&[("market.ticks", current)])).is_empty());
    }

    #[test]
    fn undeclared_topics_are_reported_and_internal_ones_ignored() {
        let topics = [TICKS];
        let changes = diff(
            &topics,
            &cluster(&[
                ("market.ticks", ticks_as_declared()),
                ("someone.elses", observed(1, 1, &[])),
                ("__consumer_offsets", observed(50, 1, &[])),
            ]),
        );
        assert_eq!(changes.undeclared, vec!["someone.elses".to_owned()]);
        assert!(changes.is_empty(), "undeclared topics are only reported");
    }

    #[test]
    fn existing_tombstone_is_deleted_only_with_allow_delete() {
        let topics = [OLD];
        let current = cluster(&[("legacy.events", observed(1, 1, &[]))]);

        let kept = ChangeSet::between(&topics, &current, &ApplyOptions { allow_delete: false });
        assert!(kept.deletes.is_empty());
        assert_eq!(kept.kept_tombstones, vec!["legacy.events"]);
        assert!(kept.undeclared.is_empty(), "a tombstone is declared");

        let deleted = ChangeSet::between(&topics, &current, &ApplyOptions { allow_delete: true });
        assert_eq!(deleted.deletes, vec!["legacy.events"]);
        assert!(deleted.kept_tombstones.is_empty());
    }

    #[test]
    fn missing_tombstone_is_nothing_to_do() {
        let topics = [OLD];
        let changes = ChangeSet::between(&topics, &cluster(&[]), &ApplyOptions { allow_delete: true });
        assert!(changes.is_empty());
        assert!(changes.kept_tombstones.is_empty() && changes.undeclared.is_empty());
    }

    #[test]
    fn every_refusal_is_found_together() {
        let topics = [TICKS, ORDERS, Topic { name: "audit.events", replication_factor: 2, ..ORDERS }, OLD];
        let mut ticks = ticks_as_declared();
        ticks.partitions = 6;
        let changes = ChangeSet::between(
            &topics,
            &cluster(&[
                ("market.ticks", ticks),
                ("trading.orders", observed(6, 3, &[])),
                ("legacy.events", observed(1, 1, &[])),
            ]),
            &ApplyOptions { allow_delete: true },
        );
        assert_eq!(
            changes.refusals,
            vec![
                Refusal::PartitionDecrease { topic: "market.ticks", declared: 3, actual: 6 },
                Refusal::ReplicationFactorChange { topic: "trading.orders", declared: 1, actual: 3 },
                Refusal::NotEnoughBrokers { topic: "audit.events", replication_factor: 2, brokers: 1 },
            ]
        );
        // The rest is still computed, so a status shows it, but `migrate` applies none of it.
        assert_eq!(changes.deletes, vec!["legacy.events"]);
        assert!(!changes.is_empty());
    }
}
