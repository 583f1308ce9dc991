//! Kafka's part of a backup, `kafka-topics.json`: each topic `kafka_topics.yml` declares, with
//! its declared partitions, replication factor and configs, and what the cluster has live
//! (partition count, configs as DescribeConfigs reports them). Messages are never backed up:
//! a topic's data belongs to its producers and retention, not to a schema backup.

use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, ResourceSpecifier};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use serde_json::{json, Map, Value};

use super::BackupError;
use crate::config::KafkaConfig;
use crate::plan::Plan;

pub const TOPICS_FILE: &str = "kafka-topics.json";
pub const TOPICS_KIND: &str = "kafka-topics";
const TIMEOUT: Duration = Duration::from_secs(30);

/// The JSON document of the declared topics and their live state.
pub async fn topics_json(config: &KafkaConfig, plan: &Plan) -> Result<String, BackupError> {
    let failed = |error: String| BackupError::Server {
        server: config.describe(),
        action: "read the topics".into(),
        error: config.mask(&error),
    };
    let mut client_config = ClientConfig::new();
    client_config.set("bootstrap.servers", &config.bootstrap_servers);
    client_config.set("client.id", "tradeforge-migrator-backup");
    for (key, value) in &config.properties {
        client_config.set(key, value.expose());
    }
    client_config.set("allow.auto.create.topics", "false");
    let admin: AdminClient<DefaultClientContext> = client_config.create().map_err(|error| failed(error.to_string()))?;
    let admin = std::sync::Arc::new(admin);
    let for_metadata = std::sync::Arc::clone(&admin);
    // `fetch_metadata` blocks on librdkafka.
    let partitions: Vec<(String, usize)> = tokio::task::spawn_blocking(move || {
        for_metadata.inner().fetch_metadata(None, TIMEOUT).map(|metadata| {
            metadata.topics().iter().map(|topic| (topic.name().to_owned(), topic.partitions().len())).collect()
        })
    })
    .await
    .map_err(|error| failed(error.to_string()))?
    .map_err(|error| failed(error.to_string()))?;
    let declared: Vec<_> = plan.topics.iter().filter(|topic| !topic.deleted).collect();
    let live_names: Vec<&str> = declared
        .iter()
        .filter(|topic| partitions.iter().any(|(name, _)| name == topic.name))
        .map(|topic| topic.name)
        .collect();
    let specifiers: Vec<ResourceSpecifier<'_>> = live_names.iter().map(|name| ResourceSpecifier::Topic(name)).collect();
    let options = AdminOptions::new().request_timeout(Some(TIMEOUT));
    // A broker without DescribeConfigs (some Kafka-compatible ones) still gets its partition
    // counts backed up; the file says why the configs are missing.
    let described =
        if specifiers.is_empty() { Ok(Vec::new()) } else { admin.describe_configs(specifiers.iter(), &options).await };
    let mut live_configs: Map<String, Value> = Map::new();
    let mut configs_error = None;
    match described {
        Ok(results) => {
            for (name, result) in live_names.iter().zip(results) {
                match result {
                    Ok(resource) => {
                        let entries: Map<String, Value> = resource
                            .entries
                            .iter()
                            .filter(|entry| !entry.is_sensitive)
                            .map(|entry| (entry.name.clone(), entry.value.clone().map_or(Value::Null, Value::String)))
                            .collect();
                        live_configs.insert((*name).to_owned(), Value::Object(entries));
                    }
                    Err(error) => {
                        live_configs.insert((*name).to_owned(), json!({ "error": error.to_string() }));
                    }
                }
            }
        }
        Err(error) => configs_error = Some(config.mask(&error.to_string())),
    }
    let topics: Vec<Value> = declared
        .iter()
        .map(|topic| {
            let declared_config: Map<String, Value> = topic
                .config
                .iter()
                .map(|(key, value)| ((*key).to_owned(), Value::String((*value).to_owned())))
                .collect();
            let live_partitions = partitions.iter().find(|(name, _)| name == topic.name).map(|(_, count)| *count);
            json!({
                "name": topic.name,
                "declared": {
                    "partitions": topic.partitions,
                    "replication_factor": topic.replication_factor,
                    "config": declared_config,
                },
                "live": live_partitions.map(|count| json!({
                    "partitions": count,
                    "config": live_configs.get(topic.name).cloned().unwrap_or(Value::Null),
                })),
            })
        })
        .collect();
    let document = json!({
        "server": config.describe(),
        "data": "not backed up: messages are never part of a backup",
        "live_configs_error": configs_error,
        "topics": topics,
    });
    Ok(serde_json::to_string_pretty(&document).expect("plain JSON") + "\n")
}
