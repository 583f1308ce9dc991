//! Kafka helpers: the stack's broker (`KAFKA_BOOTSTRAP_SERVERS`), topic names unique to each
//! test, plans built by hand, and [`Broker`], which reads and seeds the broker with plain rdkafka
//! calls, independently of the target under test.

use std::collections::BTreeMap;
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, ResourceSpecifier, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use tradeforge_migrator::config::KafkaConfig;
use tradeforge_migrator::plan::{Plan, Topic};

/// The stack's Kafka; `scripts/stack up && eval "$(scripts/stack env)"` sets the variable.
pub fn config() -> KafkaConfig {
    let bootstrap_servers = std::env::var("KAFKA_BOOTSTRAP_SERVERS")
        .expect("KAFKA_BOOTSTRAP_SERVERS is not set; run `scripts/stack up && eval \"$(scripts/stack env)\"`");
    KafkaConfig { bootstrap_servers, properties: Vec::new() }
}

/// `t<random>.<test>.`: a prefix no other test (or earlier run on the same broker) uses.
pub fn unique_prefix(test: &str) -> String {
    // `RandomState` is seeded randomly per process and per instance.
    let random = std::collections::hash_map::RandomState::new().build_hasher().finish();
    format!("t{:012x}.{test}.", random & 0xffff_ffff_ffff)
}

/// A live declared topic; the strings are leaked to get the plan's `&'static` lifetimes.
pub fn topic(name: &str, partitions: i32, replication_factor: i16, config: &[(&str, &str)]) -> Topic {
    let mut config: Vec<(&'static str, &'static str)> =
        config.iter().map(|(key, value)| (leak(key), leak(value))).collect();
    config.sort();
    Topic { name: leak(name), partitions, replication_factor, config: config.leak(), deleted: false }
}

/// A tombstone (`deleted: true`).
pub fn tombstone(name: &str) -> Topic {
    Topic { name: leak(name), partitions: 1, replication_factor: 1, config: &[], deleted: true }
}

/// A plan with these topics and nothing else.
pub fn plan(topics: Vec<Topic>) -> &'static Plan {
    Box::leak(Box::new(Plan {
        fingerprint: "sha256:kafka-test",
        postgres: &[],
        clickhouse: &[],
        topics: topics.leak(),
        indicators: &[],
    }))
}

fn leak(text: &str) -> &'static str {
    text.to_owned().leak()
}

/// One topic as the broker holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopicState {
    pub partitions: usize,
    pub replication_factor: usize,
    /// What DescribeConfigs reports for it.
    pub config: BTreeMap<String, String>,
}

/// An admin client of the stack's broker, for setting up and checking tests.
pub struct Broker {
    admin: Arc<AdminClient<DefaultClientContext>>,
}

impl Broker {
    pub fn connect() -> Broker {
        let admin = ClientConfig::new()
            .set("bootstrap.servers", config().bootstrap_servers)
            // Never create a topic by naming it in a metadata request.
            .set("allow.auto.create.topics", "false")
            .create()
            .expect("an admin client of the stack's broker");
        Broker { admin: Arc::new(admin) }
    }

    /// Every topic whose name starts with `prefix`, as the broker holds it.
    pub async fn topics(&self, prefix: &str) -> BTreeMap<String, TopicState> {
        let admin = Arc::clone(&self.admin);
        let found: Vec<(String, usize, usize)> = tokio::task::spawn_blocking(move || {
            let metadata = admin.inner().fetch_metadata(None, Duration::from_secs(10)).expect("the broker's metadata");
            metadata
                .topics()
                .iter()
                .map(|topic| {
                    let replicas = topic.partitions().iter().map(|partition| partition.replicas().len()).max();
                    (topic.name().to_owned(), topic.partitions().len(), replicas.unwrap_or(0))
                })
                .collect()
        })
        .await
        .expect("the metadata request");
        let mut topics = BTreeMap::new();
        for (name, partitions, replication_factor) in found.into_iter().filter(|(name, ..)| name.starts_with(prefix)) {
            let config = self.config(&name).await;
            topics.insert(name, TopicState { partitions, replication_factor, config });
        }
        topics
    }

    /// One topic, or `None` when the broker does not have it.
    pub async fn topic(&self, name: &str) -> Option<TopicState> {
        self.topics(name).await.remove(name)
    }

    async fn config(&self, name: &str) -> BTreeMap<String, String> {
        let results = self
            .admin
            .describe_configs([&ResourceSpecifier::Topic(name)], &AdminOptions::new())
            .await
            .expect("a DescribeConfigs answer");
        let resource = results.into_iter().next().expect("one resource").expect("the topic's configs");
        resource.entries.into_iter().filter_map(|entry| Some((entry.name, entry.value?))).collect()
    }

    /// Deletes every topic whose name starts with `prefix`, so that a passing test leaves the
    /// shared broker as it found it (a failing one leaves its topics for inspection).
    pub async fn delete_all(&self, prefix: &str) {
        let names: Vec<String> = self.topics(prefix).await.into_keys().collect();
        if names.is_empty() {
            return;
        }
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let results = self.admin.delete_topics(&names, &AdminOptions::new()).await.expect("a DeleteTopics answer");
        for result in results {
            result.expect("the topic is deleted");
        }
    }

    /// Creates a topic behind the migrator's back.
    pub async fn create(&self, name: &str, partitions: i32, config: &[(&str, &str)]) {
        let topic =
            config.iter().fold(NewTopic::new(name, partitions, TopicReplication::Fixed(1)), |topic, (key, value)| {
                topic.set(key, value)
            });
        let results = self.admin.create_topics([&topic], &AdminOptions::new()).await.expect("a CreateTopics answer");
        for result in results {
            result.expect("the topic is created");
        }
    }
}
