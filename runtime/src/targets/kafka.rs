//! The Kafka target: brings the broker's topics to the plan's `kafka_topics.yml` through the
//! admin API, in a fixed number of requests whatever the number of topics.
//!
//! A run reads the cluster with one metadata request and one DescribeConfigs request (for the
//! declared keys of the declared topics that exist; a broker that cannot take named keys gets a
//! second one, of every key), computes the [`ChangeSet`] (a pure function, in [`diff`]),
//! refuses the whole run before changing anything if any difference is unsafe, then applies it
//! with at most one request of each kind: CreatePartitions, CreateTopics, IncrementalAlterConfigs
//! (legacy AlterConfigs, after one DescribeConfigs of the altered topics, when the broker lacks
//! it) and DeleteTopics. It never lowers partitions, never changes a replication factor and
//! never deletes a topic except a tombstone (`deleted: true`) with `--allow-delete`.
//! `migrate --dry-run` adds [`KafkaTarget::validate`]: one CreateTopics with `validate_only`.
//! [`KafkaTarget::admin_requests`] counts the requests of the last call, and every event carries
//! the count.

mod admin;
pub mod diff;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rdkafka::admin::{
    AdminClient, AdminOptions, AlterConfig, ConfigEntry, ConfigSource, NewPartitions, NewTopic, OwnedResourceSpecifier,
    ResourceSpecifier, TopicReplication,
};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::error::{KafkaError as RdKafkaError, RDKafkaErrorCode};

use crate::config::KafkaConfig;
use crate::plan::{Plan, Topic};
use crate::targets::{ApplyOptions, Changes, Failure, Status, Target, TargetName};

use admin::{AdminCallError, DescribedTopic, NewTopicSpec, TopicConfigUpdate};
pub use diff::{ChangeSet, Cluster, ConfigAlter, ObservedTopic, PartitionIncrease, Refusal, TopicSummary};

/// How long a health check waits for the broker's metadata.
const HEALTH_TIMEOUT: Duration = Duration::from_secs(5);
/// How long reading the cluster waits for the metadata.
const METADATA_TIMEOUT: Duration = Duration::from_secs(10);
/// Request and operation timeout of every admin request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// How long created topics may take to appear in the metadata of an eventually consistent cluster.
const VISIBILITY_WAIT: Duration = Duration::from_secs(10);
const VISIBILITY_POLL: Duration = Duration::from_millis(200);

type Admin = AdminClient<DefaultClientContext>;

/// Brings the topics of one Kafka cluster to the plan.
pub struct KafkaTarget {
    config: KafkaConfig,
    /// Created on first use, so that `new` cannot fail.
    admin: Option<Arc<Admin>>,
    /// Admin requests sent by the current (or last) call of `health_check`, `status`, `apply` or
    /// `change_set`; a call that uses the health check's metadata counts on from it.
    admin_requests: u32,
    /// The metadata the health check fetched, used by the next read of the cluster instead of a
    /// second metadata request (an up-to-date run then sends one metadata and one
    /// DescribeConfigs in all). Taken by that read, so it is never used twice.
    health_metadata: Option<Cluster>,
    /// Which request alters topic configs; starts as IncrementalAlterConfigs and becomes the
    /// legacy AlterConfigs when the broker says it lacks the former.
    alter_api: AlterApi,
}

/// The request that alters topic configs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum AlterApi {
    Incremental,
    Legacy,
}

/// What the broker said of the creations a dry run would make ([`KafkaTarget::validate`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Validation {
    /// Topics the broker validated.
    pub accepted: Vec<String>,
    /// Topics a broker that ignores `validate_only` created anyway; deleted again at once.
    pub created_despite_validate_only: Vec<String>,
}

impl Drop for KafkaTarget {
    /// librdkafka's destroy waits for its broker threads to wind down, about 100 ms, which would
    /// hold up the next target; nothing depends on it finishing, so it happens on a thread of
    /// its own.
    fn drop(&mut self) {
        if let Some(admin) = self.admin.take() {
            std::thread::spawn(move || drop(admin));
        }
    }
}

/// Why the Kafka target failed. Messages name the bootstrap servers (never a credential) and
/// what to do.
#[derive(Debug, thiserror::Error)]
pub enum KafkaError {
    /// `reason` is librdkafka's message with credential values masked ([`KafkaConfig::mask`]).
    #[error("cannot create a kafka admin client for `{bootstrap}`: {reason}; check the librdkafka properties given with --kafka-config")]
    Client { bootstrap: String, reason: String },
    #[error("kafka at `{bootstrap}` did not answer a metadata request within {timeout}: {source}; check KAFKA_BOOTSTRAP_SERVERS, that the broker is running and reachable from here, and the security settings (--kafka-config security.protocol, sasl.*, ssl.*)")]
    Unreachable {
        bootstrap: String,
        timeout: humantime::FormattedDuration,
        #[source]
        source: RdKafkaError,
    },
    #[error("kafka at `{bootstrap}`: the {request} request failed: {source}")]
    Request {
        bootstrap: String,
        request: &'static str,
        #[source]
        source: RdKafkaError,
    },
    #[error("kafka at `{bootstrap}` did not describe the configs of topic `{topic}`: {code}; check that the client may DescribeConfigs on it")]
    Describe { bootstrap: String, topic: String, code: RDKafkaErrorCode },
    #[error("refusing to change the topics of kafka at `{bootstrap}`, nothing was changed: {}", .refusals.join("; "))]
    Refused { bootstrap: String, refusals: Vec<String> },
    #[error("broker at `{bootstrap}` does not support CreatePartitions: {}; raise them with the cluster's own tools, or declare the current partition counts", .increases.join("; "))]
    CreatePartitionsUnsupported { bootstrap: String, increases: Vec<String> },
    #[error("kafka at `{bootstrap}` refused to {action}: {}", .failures.join("; "))]
    TopicsFailed { bootstrap: String, action: &'static str, failures: Vec<String> },
    #[error("kafka at `{bootstrap}`: altering topic configs failed: {source}")]
    AlterConfigs {
        bootstrap: String,
        #[source]
        source: AdminCallError,
    },
    #[error("kafka at `{bootstrap}`: the CreateTopics request with validate_only failed: {source}")]
    Validate {
        bootstrap: String,
        #[source]
        source: AdminCallError,
    },
    #[error("kafka at `{bootstrap}` rejected topics that migrate would create (CreateTopics with validate_only), so migrate would fail: {}; fix them in kafka_topics.yml", .rejected.join("; "))]
    Rejected { bootstrap: String, rejected: Vec<String> },
    #[error("created topics {} did not appear in the metadata of `{bootstrap}` within {waited}; check the broker's logs, then run migrate again", .topics.join(", "))]
    NotVisible { bootstrap: String, topics: Vec<String>, waited: humantime::FormattedDuration },
}

impl KafkaTarget {
    /// A target for the cluster of `config`; nothing connects until the first call.
    pub fn new(config: &KafkaConfig) -> KafkaTarget {
        KafkaTarget {
            config: config.clone(),
            admin: None,
            admin_requests: 0,
            health_metadata: None,
            alter_api: AlterApi::Incremental,
        }
    }

    /// Alters configs with the legacy AlterConfigs from the start, as after a broker answered
    /// that it lacks IncrementalAlterConfigs. For a broker whose IncrementalAlterConfigs cannot
    /// be used, and for testing that path on a broker that has both.
    pub fn with_legacy_alter_configs(mut self) -> KafkaTarget {
        self.alter_api = AlterApi::Legacy;
        self
    }

    /// Asks the broker to check the creations of `changes` without making them: one CreateTopics
    /// request with `validate_only`, then one metadata request to catch a broker that ignores
    /// the flag (Tansu does): whatever such a broker created is deleted again with one
    /// DeleteTopics and reported. A creation the broker rejects is [`KafkaError::Rejected`]. For
    /// `migrate --dry-run`; counts into [`Self::admin_requests`].
    pub async fn validate(&mut self, changes: &ChangeSet<'static>) -> Result<Validation, KafkaError> {
        let mut validation = Validation::default();
        let mut rejected = Vec::new();
        if changes.creates.is_empty() {
            return Ok(validation);
        }
        let admin = self.admin()?;
        let specs: Vec<NewTopicSpec<'static>> = changes
            .creates
            .iter()
            .map(|topic| NewTopicSpec {
                name: topic.name,
                partitions: topic.partitions,
                replication_factor: i32::from(topic.replication_factor),
                config: topic.config,
            })
            .collect();
        self.admin_requests += 1;
        let refusals = blocking(move || admin::validate_new_topics(&admin, &specs, REQUEST_TIMEOUT))
            .await
            .map_err(|source| KafkaError::Validate { bootstrap: self.bootstrap(), source })?;
        for topic in &changes.creates {
            match refusals.iter().find(|refusal| refusal.topic == topic.name) {
                Some(refusal) => {
                    rejected.push(format!("create topic `{}`: {} ({})", topic.name, refusal.code, refusal.message))
                }
                None => validation.accepted.push(topic.name.to_owned()),
            }
        }
        let cluster = self.fetch_metadata(METADATA_TIMEOUT).await?;
        let created: Vec<&str> =
            changes.creates.iter().map(|topic| topic.name).filter(|name| cluster.topics.contains_key(*name)).collect();
        if !created.is_empty() {
            self.delete_created_despite_validate_only(&created).await?;
            validation.created_despite_validate_only = created.into_iter().map(str::to_owned).collect();
        }
        if !rejected.is_empty() {
            return Err(KafkaError::Rejected { bootstrap: self.bootstrap(), rejected });
        }
        Ok(validation)
    }

    async fn delete_created_despite_validate_only(&mut self, created: &[&str]) -> Result<(), KafkaError> {
        let admin = self.admin()?;
        tracing::warn!(
            event = "kafka_migrator.validate_only_ignored",
            target = "kafka",
            topics = created.join(", ").as_str(),
            admin_requests = self.admin_requests,
            "the broker ignored validate_only and created {}; deleting them again",
            created.join(", ")
        );
        self.admin_requests += 1;
        let results = admin
            .delete_topics(created, &Self::admin_options())
            .await
            .map_err(|source| self.request_error("DeleteTopics", source))?;
        let failures: Vec<String> = results
            .into_iter()
            .filter_map(|result| result.err().map(|(name, code)| format!("delete topic `{name}`: {code}")))
            .collect();
        self.topics_failed("delete the topics it created despite validate_only", failures)
    }

    /// How many admin requests the last `health_check`, `status`, `apply` or `change_set` sent
    /// (metadata requests included). A run with nothing to change sends two: one metadata, one
    /// DescribeConfigs (three on a broker that cannot describe named keys).
    pub fn admin_requests(&self) -> u32 {
        self.admin_requests
    }

    /// What `apply` with `options` would do against the cluster now; changes nothing.
    pub async fn change_set(&mut self, plan: &Plan, options: &ApplyOptions) -> Result<ChangeSet<'static>, KafkaError> {
        if self.health_metadata.is_none() {
            self.admin_requests = 0;
        }
        let cluster = self.read_cluster(plan.topics).await?;
        Ok(ChangeSet::between(plan.topics, &cluster, options))
    }

    fn bootstrap(&self) -> String {
        self.config.bootstrap_servers.clone()
    }

    /// The admin client, created on first use with `bootstrap.servers` and every property of the
    /// config (security settings pass through to librdkafka).
    fn admin(&mut self) -> Result<Arc<Admin>, KafkaError> {
        if let Some(admin) = &self.admin {
            return Ok(Arc::clone(admin));
        }
        let mut client_config = ClientConfig::new();
        client_config.set("bootstrap.servers", &self.config.bootstrap_servers);
        client_config.set("client.id", "tradeforge-migrator");
        // Bounds on a silent broker, before the given properties so that those win: a dead peer
        // is noticed by TCP keepalive, an unanswered request fails after 30s (librdkafka: 60s)
        // and a connection attempt after 10s (librdkafka: 30s).
        client_config.set("socket.keepalive.enable", "true");
        client_config.set("socket.timeout.ms", "30000");
        client_config.set("socket.connection.setup.timeout.ms", "10000");
        for (key, value) in &self.config.properties {
            client_config.set(key, value.expose());
        }
        // A metadata request naming a missing topic would create it on brokers that allow it
        // (the producer default); only CreateTopics may create a topic here, whatever was given.
        client_config.set("allow.auto.create.topics", "false");
        let admin: Admin = client_config.create().map_err(|source| KafkaError::Client {
            bootstrap: self.bootstrap(),
            reason: self.config.mask(&crate::targets::error_chain(&source)),
        })?;
        let admin = Arc::new(admin);
        self.admin = Some(Arc::clone(&admin));
        Ok(admin)
    }

    fn admin_options() -> AdminOptions {
        AdminOptions::new().request_timeout(Some(REQUEST_TIMEOUT)).operation_timeout(Some(REQUEST_TIMEOUT))
    }

    /// The brokers and topics of the cluster, from one metadata request of all topics.
    async fn fetch_metadata(&mut self, timeout: Duration) -> Result<Cluster, KafkaError> {
        let admin = self.admin()?;
        self.admin_requests += 1;
        // `fetch_metadata` blocks on librdkafka; keep it off the async workers.
        let metadata =
            blocking(move || admin.inner().fetch_metadata(None, timeout).map(|metadata| cluster_of(&metadata))).await;
        metadata.map_err(|source| KafkaError::Unreachable {
            bootstrap: self.bootstrap(),
            timeout: humantime::format_duration(timeout),
            source,
        })
    }

    /// One metadata request (or the health check's), then one DescribeConfigs request naming the
    /// declared keys of the declared, live topics that exist and declare any (nothing else is
    /// compared, and a real broker would otherwise send every key of every topic). A broker that
    /// cannot take named keys (Tansu drops the connection) fails that request, and one
    /// DescribeConfigs of every key follows instead.
    async fn read_cluster(&mut self, topics: &[Topic]) -> Result<Cluster, KafkaError> {
        let mut cluster = match self.health_metadata.take() {
            Some(cluster) => cluster,
            None => self.fetch_metadata(METADATA_TIMEOUT).await?,
        };
        let described: Vec<&Topic> = topics
            .iter()
            .filter(|topic| !topic.deleted && !topic.config.is_empty() && cluster.topics.contains_key(topic.name))
            .collect();
        if described.is_empty() {
            return Ok(cluster);
        }
        let admin = self.admin()?;
        let wanted: Vec<TopicConfigUpdate<'static>> = described
            .iter()
            .map(|topic| TopicConfigUpdate { topic: topic.name, entries: topic.config.to_vec() })
            .collect();
        self.admin_requests += 1;
        let answers = match blocking(move || admin::describe_named_configs(&admin, &wanted, REQUEST_TIMEOUT)).await {
            Ok(answers) => answers,
            Err(error) => {
                tracing::info!(
                    event = "kafka_migrator.describe_configs_fallback",
                    target = "kafka",
                    reason = %error,
                    "the broker did not describe named config keys; describing every key"
                );
                self.describe_every_key(&described).await?
            }
        };
        for answer in answers {
            let configs = answer.configs.map_err(|code| KafkaError::Describe {
                bootstrap: self.bootstrap(),
                topic: answer.topic.clone(),
                code,
            })?;
            // Each answer names its topic; rely on that rather than on the order.
            if let Some(observed) = cluster.topics.get_mut(&answer.topic) {
                observed.config = configs;
            }
        }
        Ok(cluster)
    }

    /// One DescribeConfigs request of every key of `topics`, through rdkafka's safe API.
    async fn describe_every_key(&mut self, topics: &[&Topic]) -> Result<Vec<DescribedTopic>, KafkaError> {
        let admin = self.admin()?;
        let specifiers: Vec<ResourceSpecifier<'_>> =
            topics.iter().map(|topic| ResourceSpecifier::Topic(topic.name)).collect();
        self.admin_requests += 1;
        let results = admin
            .describe_configs(specifiers.iter(), &Self::admin_options())
            .await
            .map_err(|source| self.request_error("DescribeConfigs", source))?;
        Ok(topics
            .iter()
            .zip(results)
            .map(|(topic, result)| match result {
                Ok(resource) => DescribedTopic {
                    topic: resource_name(resource.specifier),
                    configs: Ok(resource
                        .entries
                        .into_iter()
                        .filter_map(|entry| entry.value.map(|value| (entry.name, value)))
                        .collect()),
                },
                Err(code) => DescribedTopic { topic: topic.name.to_owned(), configs: Err(code) },
            })
            .collect())
    }

    fn request_error(&self, request: &'static str, source: RdKafkaError) -> KafkaError {
        KafkaError::Request { bootstrap: self.bootstrap(), request, source }
    }

    /// Applies a change set that has no refusals, recording each change in `done` as it lands.
    async fn apply_changes(&mut self, changes: &ChangeSet<'static>, done: &mut Changes) -> Result<(), KafkaError> {
        // CreatePartitions first: it is the request a broker is most likely not to support (the
        // test broker does not), and failing before anything else changed leaves the cluster as
        // it was.
        self.raise_partitions(&changes.partition_increases, done).await?;
        self.create_topics(&changes.creates, done).await?;
        self.alter_configs(&changes.alters, done).await?;
        self.delete_topics(&changes.deletes, done).await
    }

    /// One CreatePartitions request for every topic to grow.
    async fn raise_partitions(
        &mut self,
        increases: &[PartitionIncrease<'static>],
        done: &mut Changes,
    ) -> Result<(), KafkaError> {
        if increases.is_empty() {
            return Ok(());
        }
        let admin = self.admin()?;
        let requests: Vec<NewPartitions<'_>> = increases
            .iter()
            .map(|increase| NewPartitions::new(increase.topic, usize::try_from(increase.to).unwrap_or_default()))
            .collect();
        self.admin_requests += 1;
        let unsupported = || KafkaError::CreatePartitionsUnsupported {
            bootstrap: self.bootstrap(),
            increases: increases.iter().map(|increase| format!("cannot raise {increase}")).collect(),
        };
        let results = match admin.create_partitions(requests.iter(), &Self::admin_options()).await {
            Ok(results) => results,
            Err(RdKafkaError::AdminOp(code)) if is_unsupported(code) => return Err(unsupported()),
            Err(source) => return Err(self.request_error("CreatePartitions", source)),
        };
        if results.iter().any(|result| matches!(result, Err((_, code)) if is_unsupported(*code))) {
            return Err(unsupported());
        }
        let mut failures = Vec::new();
        for result in results {
            let name = match &result {
                Ok(name) | Err((name, _)) => name.as_str(),
            };
            let Some(increase) = increases.iter().find(|increase| increase.topic == name) else { continue };
            match result {
                Ok(_) => {
                    let line = format!("raised {increase}");
                    tracing::info!(
                        event = "kafka_migrator.partitions_raised",
                        target = "kafka",
                        topic = increase.topic,
                        partitions = increase.to,
                        admin_requests = self.admin_requests,
                        "{line}"
                    );
                    done.push(line);
                }
                Err((_, code)) => failures.push(format!("raise {increase}: {code}")),
            }
        }
        self.topics_failed("raise partitions", failures)
    }

    /// One CreateTopics request for every missing topic, then a bounded wait until they all
    /// appear in the metadata.
    async fn create_topics(&mut self, creates: &[&'static Topic], done: &mut Changes) -> Result<(), KafkaError> {
        if creates.is_empty() {
            return Ok(());
        }
        let admin = self.admin()?;
        let new_topics: Vec<NewTopic<'_>> = creates.iter().map(|topic| new_topic(topic)).collect();
        self.admin_requests += 1;
        let results = admin
            .create_topics(new_topics.iter(), &Self::admin_options())
            .await
            .map_err(|source| self.request_error("CreateTopics", source))?;
        let mut created = Vec::new();
        let mut failures = Vec::new();
        for result in results {
            match result {
                Ok(name) => created.extend(creates.iter().find(|topic| topic.name == name)),
                Err((name, code)) => failures.push(format!("create topic `{name}`: {code}")),
            }
        }
        self.wait_until_visible(&created).await?;
        for topic in created {
            let line = format!("created {}", TopicSummary(topic));
            tracing::info!(
                event = "kafka_migrator.topic_created",
                target = "kafka",
                topic = topic.name,
                partitions = topic.partitions,
                replication_factor = topic.replication_factor,
                admin_requests = self.admin_requests,
                "{line}"
            );
            done.push(line);
        }
        self.topics_failed("create topics", failures)
    }

    /// Polls the metadata until every created topic shows its declared partitions, for at most
    /// [`VISIBILITY_WAIT`]: a cluster may answer CreateTopics before every broker knows the topic.
    async fn wait_until_visible(&mut self, created: &[&Topic]) -> Result<(), KafkaError> {
        if created.is_empty() {
            return Ok(());
        }
        let deadline = Instant::now() + VISIBILITY_WAIT;
        loop {
            let cluster = self.fetch_metadata(METADATA_TIMEOUT).await?;
            let missing: Vec<String> = created
                .iter()
                .filter(|topic| cluster.topics.get(topic.name).is_none_or(|found| found.partitions < topic.partitions))
                .map(|topic| format!("`{}`", topic.name))
                .collect();
            if missing.is_empty() {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(KafkaError::NotVisible {
                    bootstrap: self.bootstrap(),
                    topics: missing,
                    waited: humantime::format_duration(VISIBILITY_WAIT),
                });
            }
            tokio::time::sleep(VISIBILITY_POLL).await;
        }
    }

    /// One IncrementalAlterConfigs request setting every differing declared key; if the broker
    /// lacks that API, one legacy AlterConfigs request instead.
    async fn alter_configs(&mut self, alters: &[ConfigAlter<'static>], done: &mut Changes) -> Result<(), KafkaError> {
        if alters.is_empty() {
            return Ok(());
        }
        if self.alter_api == AlterApi::Legacy {
            let refused = self.legacy_alter_configs(alters).await?;
            return self.report_alters(alters, &refused, done);
        }
        let admin = self.admin()?;
        let updates: Vec<TopicConfigUpdate<'static>> = alters
            .iter()
            .map(|alter| TopicConfigUpdate {
                topic: alter.topic.name,
                entries: alter.entries.iter().map(|entry| (entry.key, entry.declared)).collect(),
            })
            .collect();
        self.admin_requests += 1;
        let answer = blocking(move || admin::incremental_alter_configs(&admin, &updates, REQUEST_TIMEOUT)).await;
        let refused: Vec<(String, String)> = match answer {
            Ok(refusals) => refusals
                .into_iter()
                .map(|refusal| (refusal.topic, format!("{} ({})", refusal.code, refusal.message)))
                .collect(),
            Err(AdminCallError::Unsupported(reason)) => {
                tracing::info!(
                    event = "kafka_migrator.alter_configs_fallback",
                    target = "kafka",
                    reason = reason.as_str(),
                    "the broker does not support IncrementalAlterConfigs; using AlterConfigs"
                );
                self.alter_api = AlterApi::Legacy;
                self.legacy_alter_configs(alters).await?
            }
            Err(source) => return Err(KafkaError::AlterConfigs { bootstrap: self.bootstrap(), source }),
        };
        self.report_alters(alters, &refused, done)
    }

    /// Logs and records each alter the broker accepted; fails naming the ones it `refused`.
    fn report_alters(
        &self,
        alters: &[ConfigAlter<'static>],
        refused: &[(String, String)],
        done: &mut Changes,
    ) -> Result<(), KafkaError> {
        let mut failures = Vec::new();
        for alter in alters {
            match refused.iter().find(|(topic, _)| topic == alter.topic.name) {
                Some((topic, reason)) => failures.push(format!("alter topic `{topic}`: {reason}")),
                None => {
                    let line = format!("altered {alter}");
                    tracing::info!(
                        event = "kafka_migrator.topic_altered",
                        target = "kafka",
                        topic = alter.topic.name,
                        admin_requests = self.admin_requests,
                        "{line}"
                    );
                    done.push(line);
                }
            }
        }
        self.topics_failed("alter topic configs", failures)
    }

    /// Legacy AlterConfigs replaces a topic's whole set of overrides: a key left out goes back
    /// to its default. So one DescribeConfigs reads the altered topics' current overrides, and
    /// one AlterConfigs sends each topic's overrides with every declared key laid over them.
    /// Returns the refused topics.
    async fn legacy_alter_configs(
        &mut self,
        alters: &[ConfigAlter<'static>],
    ) -> Result<Vec<(String, String)>, KafkaError> {
        let admin = self.admin()?;
        let specifiers: Vec<ResourceSpecifier<'_>> =
            alters.iter().map(|alter| ResourceSpecifier::Topic(alter.topic.name)).collect();
        self.admin_requests += 1;
        let described = admin
            .describe_configs(specifiers.iter(), &Self::admin_options())
            .await
            .map_err(|source| self.request_error("DescribeConfigs", source))?;
        let mut overrides: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        for (alter, result) in alters.iter().zip(described) {
            let resource = result.map_err(|code| KafkaError::Describe {
                bootstrap: self.bootstrap(),
                topic: alter.topic.name.to_owned(),
                code,
            })?;
            let kept = resource
                .entries
                .into_iter()
                .filter(is_topic_override)
                .filter_map(|entry| Some((entry.name, entry.value?)))
                .collect();
            overrides.insert(resource_name(resource.specifier), kept);
        }
        let wanted: Vec<(&str, BTreeMap<String, String>)> = alters
            .iter()
            .map(|alter| {
                let mut entries = overrides.remove(alter.topic.name).unwrap_or_default();
                entries.extend(alter.topic.config.iter().map(|(key, value)| (key.to_string(), value.to_string())));
                (alter.topic.name, entries)
            })
            .collect();
        let requests: Vec<AlterConfig<'_>> = wanted
            .iter()
            .map(|(topic, entries)| {
                entries.iter().fold(AlterConfig::new(ResourceSpecifier::Topic(topic)), |request, (key, value)| {
                    request.set(key, value)
                })
            })
            .collect();
        self.admin_requests += 1;
        let results = admin
            .alter_configs(requests.iter(), &Self::admin_options())
            .await
            .map_err(|source| self.request_error("AlterConfigs", source))?;
        Ok(results
            .into_iter()
            .filter_map(|result| match result {
                Ok(_) => None,
                Err((specifier, code)) => Some((resource_name(specifier), code.to_string())),
            })
            .collect())
    }

    /// One DeleteTopics request for every tombstone to delete.
    async fn delete_topics(&mut self, deletes: &[&'static str], done: &mut Changes) -> Result<(), KafkaError> {
        if deletes.is_empty() {
            return Ok(());
        }
        let admin = self.admin()?;
        self.admin_requests += 1;
        let results = admin
            .delete_topics(deletes, &Self::admin_options())
            .await
            .map_err(|source| self.request_error("DeleteTopics", source))?;
        let mut failures = Vec::new();
        for result in results {
            match result {
                Ok(name) => {
                    let line = format!("deleted topic {name}");
                    tracing::info!(
                        event = "kafka_migrator.topic_deleted",
                        target = "kafka",
                        topic = name.as_str(),
                        admin_requests = self.admin_requests,
                        "{line}"
                    );
                    done.push(line);
                }
                Err((name, code)) => failures.push(format!("delete topic `{name}`: {code}")),
            }
        }
        self.topics_failed("delete topics", failures)
    }

    fn topics_failed(&self, action: &'static str, failures: Vec<String>) -> Result<(), KafkaError> {
        if failures.is_empty() {
            return Ok(());
        }
        Err(KafkaError::TopicsFailed { bootstrap: self.bootstrap(), action, failures })
    }

    /// Logs what the run leaves alone on purpose: undeclared topics and tombstones kept without
    /// `--allow-delete`.
    fn log_untouched(&self, changes: &ChangeSet<'_>) {
        for topic in &changes.undeclared {
            tracing::warn!(
                event = "kafka_migrator.undeclared_topic",
                target = "kafka",
                topic = topic.as_str(),
                admin_requests = self.admin_requests,
                "topic {topic} is not in kafka_topics.yml; left untouched"
            );
        }
        for topic in &changes.kept_tombstones {
            tracing::warn!(
                event = "kafka_migrator.delete_skipped",
                target = "kafka",
                topic = *topic,
                admin_requests = self.admin_requests,
                "topic {topic} is a tombstone: would delete, pass --allow-delete"
            );
        }
    }
}

impl Target for KafkaTarget {
    type Error = KafkaError;

    fn name(&self) -> TargetName {
        TargetName::Kafka
    }

    /// One metadata request with a short timeout; its answer serves the next read.
    async fn health_check(&mut self) -> Result<(), KafkaError> {
        self.admin_requests = 0;
        // A failed check leaves nothing behind for the next read to trust.
        self.health_metadata = None;
        self.health_metadata = Some(self.fetch_metadata(HEALTH_TIMEOUT).await?);
        Ok(())
    }

    /// A property librdkafka refuses stays refused.
    fn is_permanent(error: &KafkaError) -> bool {
        matches!(error, KafkaError::Client { .. })
    }

    async fn status(&mut self, plan: &Plan) -> Result<Status, KafkaError> {
        let changes = self.change_set(plan, &ApplyOptions::default()).await?;
        Ok(status_of(plan.topics, &changes))
    }

    async fn apply(&mut self, plan: &Plan, options: &ApplyOptions) -> Result<Changes, Failure<KafkaError>> {
        let changes = self.change_set(plan, options).await?;
        if !changes.refusals.is_empty() {
            let refusals = changes.refusals.iter().map(Refusal::to_string).collect();
            return Err(KafkaError::Refused { bootstrap: self.bootstrap(), refusals }.into());
        }
        self.log_untouched(&changes);
        let mut done = Changes::default();
        if let Err(error) = self.apply_changes(&changes, &mut done).await {
            return Err(Failure::new(error, done));
        }
        if done.is_empty() {
            tracing::info!(
                event = "kafka_migrator.up_to_date",
                target = "kafka",
                topics = plan.topics.len(),
                admin_requests = self.admin_requests,
                "kafka topics are up to date ({} admin requests)",
                self.admin_requests
            );
        } else {
            tracing::info!(
                event = "kafka_migrator.applied",
                target = "kafka",
                changes = done.0.len(),
                admin_requests = self.admin_requests,
                "applied {} kafka topic changes ({} admin requests)",
                done.0.len(),
                self.admin_requests
            );
        }
        Ok(done)
    }
}

/// The status lines of a change set computed without `--allow-delete`.
fn status_of(topics: &[Topic], changes: &ChangeSet<'_>) -> Status {
    let declared = topics.iter().filter(|topic| !topic.deleted).count();
    let missing = changes.creates.len();
    let mut pending: Vec<String> = Vec::new();
    pending.extend(changes.partition_increases.iter().map(|increase| format!("raise {increase}")));
    pending.extend(changes.creates.iter().map(|topic| format!("create {}", TopicSummary(topic))));
    pending.extend(changes.alters.iter().map(|alter| format!("alter {alter}")));
    pending.extend(changes.deletes.iter().map(|topic| format!("delete topic {topic}")));
    pending.extend(
        changes
            .kept_tombstones
            .iter()
            .map(|topic| format!("would delete topic {topic} (tombstone), pass --allow-delete")),
    );
    let problems = changes.refusals.iter().map(Refusal::to_string).collect();
    // Other teams' topics share the cluster; they are reported, and never make the plan unmet.
    let notes = changes
        .undeclared
        .iter()
        .map(|topic| format!("undeclared topic {topic}: not in kafka_topics.yml, left untouched"))
        .collect();
    let current = Some(format!("{} of {declared} declared topics exist", declared - missing));
    Status { current, pending, problems, notes }
}

/// The request that creates `topic` as declared.
fn new_topic(topic: &'static Topic) -> NewTopic<'static> {
    let replication = TopicReplication::Fixed(i32::from(topic.replication_factor));
    topic
        .config
        .iter()
        .fold(NewTopic::new(topic.name, topic.partitions, replication), |request, (key, value)| request.set(key, value))
}

/// Brokers and topics (partitions, replication factor; no configs yet) of a metadata answer.
fn cluster_of(metadata: &rdkafka::metadata::Metadata) -> Cluster {
    let topics = metadata
        .topics()
        .iter()
        .map(|topic| {
            let partitions = topic.partitions();
            let replication_factor = partitions.iter().map(|partition| partition.replicas().len()).max().unwrap_or(0);
            let observed = ObservedTopic {
                partitions: i32::try_from(partitions.len()).unwrap_or(i32::MAX),
                replication_factor: i16::try_from(replication_factor).unwrap_or(i16::MAX),
                config: Default::default(),
            };
            (topic.name().to_owned(), observed)
        })
        .collect();
    Cluster { brokers: metadata.brokers().len(), topics }
}

/// Whether a described config entry is an override set on the topic itself (what a legacy
/// AlterConfigs must send again to keep), rather than a broker or built-in default. Brokers
/// before Kafka 1.1 report no source; for them `is_default` decides.
fn is_topic_override(entry: &ConfigEntry) -> bool {
    !entry.is_default
        && !entry.is_read_only
        && matches!(entry.source, ConfigSource::DynamicTopic | ConfigSource::Unknown)
}

/// Whether a broker answered that it lacks the request (or this version of it).
fn is_unsupported(code: RDKafkaErrorCode) -> bool {
    matches!(code, RDKafkaErrorCode::UnsupportedFeature | RDKafkaErrorCode::UnsupportedVersion)
}

fn resource_name(specifier: OwnedResourceSpecifier) -> String {
    match specifier {
        OwnedResourceSpecifier::Topic(name) | OwnedResourceSpecifier::Group(name) => name,
        OwnedResourceSpecifier::Broker(id) => id.to_string(),
    }
}

/// Runs blocking librdkafka work on tokio's blocking pool; a panic in it resumes here.
async fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    match tokio::task::spawn_blocking(work).await {
        Ok(value) => value,
        Err(error) => std::panic::resume_unwind(error.into_panic()),
    }
}

impl fmt::Debug for KafkaTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The properties may hold credentials; `describe` masks them.
        f.debug_struct("KafkaTarget").field("cluster", &self.config.describe()).finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::targets::kafka::diff::ObservedTopic;

    const TICKS: Topic = Topic {
        name: "market.ticks",
        partitions: 3,
        replication_factor: 1,
        config: &[("retention.ms", "86400000")],
        deleted: false,
    };
    const ORDERS: Topic =
        Topic { name: "trading.orders", partitions: 6, replication_factor: 1, config: &[], deleted: false };
    const OLD: Topic =
        Topic { name: "legacy.events", partitions: 1, replication_factor: 1, config: &[], deleted: true };

    #[test]
    fn status_lists_pending_changes_and_problems_separately() {
        let topics = [TICKS, ORDERS, OLD];
        let cluster = Cluster {
            brokers: 1,
            topics: [
                (
                    "market.ticks",
                    ObservedTopic {
                        partitions: 3,
                        replication_factor: 1,
                        config: [("retention.ms".into(), "1".into())].into(),
                    },
                ),
                ("legacy.events", ObservedTopic { partitions: 1, replication_factor: 1, config: Default::default() }),
                ("other.team", ObservedTopic { partitions: 1, replication_factor: 1, config: Default::default() }),
            ]
            .into_iter()
            .map(|(name, topic)| (name.to_owned(), topic))
            .collect(),
        };
        let changes = ChangeSet::between(&topics, &cluster, &ApplyOptions::default());
        let status = status_of(&topics, &changes);
        assert_eq!(status.current.as_deref(), Some("1 of 2 declared topics exist"));
        assert_eq!(
            status.pending,
            vec![
                "create topic trading.orders (partitions 6, replication factor 1, 0 configs)",
                "alter topic market.ticks: retention.ms 1 → 86400000",
                "would delete topic legacy.events (tombstone), pass --allow-delete",
            ]
        );
        assert_eq!(status.notes, vec!["undeclared topic other.team: not in kafka_topics.yml, left untouched"]);
        assert!(status.problems.is_empty());
    }

    #[test]
    fn status_lists_refusals_as_problems() {
        let topics = [TICKS];
        let cluster = Cluster {
            brokers: 1,
            topics: [(
                "market.ticks".to_owned(),
                ObservedTopic {
                    partitions: 6,
                    replication_factor: 2,
                    config: [("retention.ms".into(), "86400000".into())].into(),
                },
            )]
            .into(),
        };
        let status = status_of(&topics, &ChangeSet::between(&topics, &cluster, &ApplyOptions::default()));
        assert!(status.pending.is_empty());
        assert_eq!(status.problems.len(), 2);
        assert!(status.problems[0].contains("has 6 partitions but declares 3"));
        assert!(status.problems[1].contains("has replication factor 2 but declares 1"));
    }
}
