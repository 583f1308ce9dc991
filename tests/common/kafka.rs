//! Kafka helpers: the stack's two brokers ([`BrokerKind`]: Tansu at `KAFKA_BOOTSTRAP_SERVERS`,
//! noida-db at `TFM_STACK_KAFKA2_BOOTSTRAP_SERVERS`) and what each can do ([`Capability`]), topic
//! names unique to each test, plans built by hand, and [`Broker`], which reads and seeds a broker
//! with plain rdkafka calls, independently of the target under test.

use std::collections::BTreeMap;
use std::future::Future;
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, ResourceSpecifier, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use tradeforge_migrator::config::KafkaConfig;
use tradeforge_migrator::plan::{Catalogue, Plan, Topic};

/// The stack's first Kafka broker (Tansu); `scripts/stack up && eval "$(scripts/stack env)"` sets
/// the variable.
pub fn config() -> KafkaConfig {
    BrokerKind::Tansu.config()
}

/// The Kafka brokers of the stack. The Kafka tests run against each (see `tests/kafka.rs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BrokerKind {
    /// Tansu 0.6.0, the stack's `kafka`: in memory, one broker, a subset of the admin API.
    Tansu,
    /// noida-db 0.2.3, the stack's `kafka2`: one broker with the admin requests Tansu lacks.
    NoidaDb,
}

/// What a test needs from a broker beyond creating, describing, incrementally altering and
/// deleting topics, which both brokers do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Capability {
    /// CreatePartitions: raises a topic's partitions in place.
    CreatePartitions,
    /// The legacy AlterConfigs request (replaces a topic's whole set of overrides).
    LegacyAlterConfigs,
    /// CreateTopics with `validate_only` checks the request and creates nothing.
    ValidateOnly,
    /// DescribeConfigs naming the keys to describe.
    NamedConfigKeys,
}

impl BrokerKind {
    fn variable(self) -> &'static str {
        match self {
            BrokerKind::Tansu => "KAFKA_BOOTSTRAP_SERVERS",
            BrokerKind::NoidaDb => "TFM_STACK_KAFKA2_BOOTSTRAP_SERVERS",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            BrokerKind::Tansu => "tansu",
            BrokerKind::NoidaDb => "noida-db",
        }
    }

    /// Why this broker cannot serve `capability` (as checked against it), or `None` when it can.
    pub fn lacks(self, capability: Capability) -> Option<&'static str> {
        match (self, capability) {
            (BrokerKind::Tansu, Capability::CreatePartitions) => {
                Some("Tansu 0.6.0 answers CreatePartitions with UNSUPPORTED_VERSION")
            }
            (BrokerKind::Tansu, Capability::LegacyAlterConfigs) => Some("Tansu 0.6.0 rejects the legacy AlterConfigs"),
            (BrokerKind::Tansu, Capability::ValidateOnly) => {
                Some("Tansu 0.6.0 ignores validate_only and creates the topic")
            }
            (BrokerKind::Tansu, Capability::NamedConfigKeys) => {
                Some("Tansu 0.6.0 drops the connection when DescribeConfigs names keys")
            }
            (BrokerKind::NoidaDb, _) => None,
        }
    }

    pub fn has(self, capability: Capability) -> bool {
        self.lacks(capability).is_none()
    }

    /// The migrator's config for this broker, from the stack's environment.
    pub fn config(self) -> KafkaConfig {
        let variable = self.variable();
        let bootstrap_servers = std::env::var(variable).unwrap_or_else(|_| {
            panic!("{variable} is not set; run `scripts/stack up && eval \"$(scripts/stack env)\"`")
        });
        KafkaConfig { bootstrap_servers, properties: Vec::new() }
    }
}

/// Runs `body` against `kind` when the broker has every capability in `needs`. Otherwise prints
/// which one it lacks and why (run with `--nocapture` to see it) and runs nothing, so the test
/// list shows the pair and the log says why it did not run.
pub async fn run_on<F, Fut>(kind: BrokerKind, needs: &[Capability], body: F)
where
    F: FnOnce(Broker) -> Fut,
    Fut: Future<Output = ()>,
{
    let missing: Vec<String> =
        needs.iter().filter_map(|&need| kind.lacks(need).map(|why| format!("needs {need:?}: {why}"))).collect();
    if !missing.is_empty() {
        eprintln!("not run on {}: {}", kind.name(), missing.join("; "));
        return;
    }
    body(Broker::on(kind)).await
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
        mongodb: &[],
        topics: topics.leak(),
        indicators: Catalogue::default(),
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
    /// The overrides DescribeConfigs reports for it (defaults left out).
    pub config: BTreeMap<String, String>,
}

/// An admin client of one of the stack's brokers, for setting up and checking tests.
pub struct Broker {
    pub kind: BrokerKind,
    admin: Arc<AdminClient<DefaultClientContext>>,
}

impl Broker {
    /// The first broker (Tansu).
    pub fn connect() -> Broker {
        Broker::on(BrokerKind::Tansu)
    }

    pub fn on(kind: BrokerKind) -> Broker {
        let admin = ClientConfig::new()
            .set("bootstrap.servers", kind.config().bootstrap_servers)
            // Never create a topic by naming it in a metadata request.
            .set("allow.auto.create.topics", "false")
            .create()
            .expect("an admin client of the stack's broker");
        Broker { kind, admin: Arc::new(admin) }
    }

    /// The migrator's config for this broker.
    pub fn config(&self) -> KafkaConfig {
        self.kind.config()
    }

    pub fn has(&self, capability: Capability) -> bool {
        self.kind.has(capability)
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
            let config = self.topic_config(&name).await;
            topics.insert(name, TopicState { partitions, replication_factor, config });
        }
        topics
    }

    /// One topic, or `None` when the broker does not have it.
    pub async fn topic(&self, name: &str) -> Option<TopicState> {
        self.topics(name).await.remove(name)
    }

    async fn topic_config(&self, name: &str) -> BTreeMap<String, String> {
        let results = self
            .admin
            .describe_configs([&ResourceSpecifier::Topic(name)], &AdminOptions::new())
            .await
            .expect("a DescribeConfigs answer");
        let resource = results.into_iter().next().expect("one resource").expect("the topic's configs");
        resource
            .entries
            .into_iter()
            // Tansu reports only the overrides, each marked as a default.
            .filter(|entry| !entry.is_default || self.kind == BrokerKind::Tansu)
            .filter_map(|entry| Some((entry.name, entry.value?)))
            .collect()
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
