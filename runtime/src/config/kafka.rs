//! Kafka: `KAFKA_BOOTSTRAP_SERVERS` and librdkafka properties (`KAFKA_CONFIG`, `--kafka-config`),
//! credentials never shown.

use super::*;

/// Kafka, from `KAFKA_BOOTSTRAP_SERVERS` plus any librdkafka property (`--kafka-config k=v`).
#[derive(Clone, Debug)]
pub struct KafkaConfig {
    pub bootstrap_servers: String,
    /// librdkafka properties (`security.protocol`, `sasl.username`, `sasl.password`, …). Values
    /// of keys that hold credentials are kept as [`Secret`]s.
    pub properties: Vec<(String, Secret)>,
}

impl KafkaConfig {
    /// `kafka://host:9092` plus the properties, credentials as `***`, for messages.
    pub fn describe(&self) -> String {
        let mut description = format!("kafka://{}", self.bootstrap_servers);
        if !self.properties.is_empty() {
            let properties: Vec<String> = self
                .properties
                .iter()
                .map(|(key, value)| {
                    let shown = if is_credential_key(key) { "***" } else { value.expose() };
                    format!("{key}={shown}")
                })
                .collect();
            description.push_str(&format!(" ({})", properties.join(", ")));
        }
        description
    }
}

impl KafkaConfig {
    /// `text` with the value of every credential property ([`is_credential_key`]) replaced by
    /// `***`. librdkafka quotes property values in its errors (`Invalid value "…" for
    /// configuration property "sasl.oauthbearer.client.secret"`), so every message made from one
    /// passes through here. A short value may mask more than itself, which is the safe side.
    pub fn mask(&self, text: &str) -> String {
        let mut masked = text.to_owned();
        for (key, value) in &self.properties {
            if is_credential_key(key) && !value.expose().trim().is_empty() {
                masked = masked.replace(value.expose(), "***");
            }
        }
        masked
    }
}

/// Whether a librdkafka property holds a credential, so that its value is never shown:
/// `sasl.password`, `ssl.key.password`, `sasl.oauthbearer.client.secret`, `sasl.jaas.config`,
/// `sasl.oauthbearer.config`, `ssl.key.pem`, `ssl.keystore.password`…
pub fn is_credential_key(key: &str) -> bool {
    const MARKERS: [&str; 6] = ["password", "secret", "jaas", "oauthbearer.config", "key.pem", "token"];
    let key = key.to_ascii_lowercase();
    MARKERS.iter().any(|marker| key.contains(marker))
}

pub(super) fn load_kafka(environment: &Environment, overrides: &Overrides) -> Result<KafkaConfig, ConfigError> {
    let (setting, bootstrap_servers) = pick(
        overrides.kafka_bootstrap_servers.as_deref(),
        "--kafka-bootstrap-servers",
        environment,
        "KAFKA_BOOTSTRAP_SERVERS",
    )?
    .unwrap_or(("KAFKA_BOOTSTRAP_SERVERS", "localhost:9092"));
    check_bootstrap_servers(setting, bootstrap_servers)?;
    let mut properties = Vec::new();
    if let Some(text) = environment.get("KAFKA_CONFIG")? {
        let entries = text.split(['\n', ';']).map(str::trim).filter(|entry| !entry.is_empty());
        add_kafka_properties(&mut properties, "KAFKA_CONFIG", entries)?;
    }
    add_kafka_properties(&mut properties, "--kafka-config", overrides.kafka_config.iter().map(String::as_str))?;
    Ok(KafkaConfig { bootstrap_servers: bootstrap_servers.to_owned(), properties })
}

/// Parses `key=value` entries into `properties`; a key given again replaces the earlier value.
fn add_kafka_properties<'a>(
    properties: &mut Vec<(String, Secret)>,
    setting: &'static str,
    entries: impl Iterator<Item = &'a str>,
) -> Result<(), ConfigError> {
    for (index, entry) in entries.enumerate() {
        let position = index + 1;
        let (key, value) =
            entry.split_once('=').ok_or(ConfigError::KafkaPropertyWithoutEquals { setting, position })?;
        let key = key.trim();
        if key.is_empty() {
            return Err(ConfigError::KafkaPropertyEmptyKey { setting, position });
        }
        if key == "bootstrap.servers" || key == "metadata.broker.list" {
            return Err(ConfigError::KafkaBootstrapInProperties { setting });
        }
        properties.retain(|(existing, _)| existing != key);
        properties.push((key.to_owned(), Secret::new(value)));
    }
    Ok(())
}

/// Catches a typo in the broker list now rather than after `--wait` of failed connects.
fn check_bootstrap_servers(setting: &'static str, servers: &str) -> Result<(), ConfigError> {
    for server in servers.split(',').map(str::trim) {
        let invalid = |problem: String| ConfigError::InvalidBootstrapServers { setting, problem };
        // librdkafka accepts an optional `PLAINTEXT://`-style prefix per broker.
        let address = server.split_once("://").map_or(server, |(_, address)| address);
        if address.is_empty() {
            return Err(invalid("has an empty entry".to_owned()));
        }
        let port = match address.rsplit_once(':') {
            // An IPv6 address without a port (`[::1]`) has its colons inside the brackets.
            Some((host, port)) if !port.contains(']') => {
                if host.is_empty() {
                    return Err(invalid(format!("`{server}` has no host")));
                }
                Some(port)
            }
            _ => None,
        };
        if let Some(port) = port {
            parse_port(setting, port)?;
        }
    }
    Ok(())
}
