//! `kafka_topics.yml`: the topics Kafka should hold, checked and resolved into [`Topic`]s, the
//! constant each one gets in application code, and the file's JSON Schema (in `topics/schema.rs`).
//!
//! ```yaml
//! # yaml-language-server: $schema=schema/kafka_topics.schema.json
//! defaults:                  # optional; every topic inherits what it does not set
//!   partitions: 3
//!   replication_factor: 1
//!   config: { retention.ms: 7d }
//! topics:
//!   - name: market.ohlcv.1m
//!     partitions: 6
//!     config: { cleanup.policy: [compact, delete], retention.bytes: 1GiB }
//!   - name: strategy.signals
//!   - name: old.topic
//!     deleted: true          # tombstone: no longer wanted; the runtime deletes it only with --allow-delete
//! ```
//!
//! - The file has `topics` (required) and `defaults`. `defaults` may set `partitions`,
//!   `replication_factor` and `config`; a topic may set those, `name` (required) and `deleted`.
//! - `partitions` and `replication_factor` come from the topic, else from `defaults`. There is no
//!   built-in value: broker defaults differ between environments, and the plan says exactly what
//!   it creates. A topic that gets neither is an error.
//! - A topic's `config` is the `config` of `defaults` with the topic's own keys laid over it, key
//!   by key. Keys, value kinds, durations (`7d`) and sizes (`1GiB`): see [`topic_config`]. The plan
//!   holds each value as the exact string Kafka receives, sorted by key.
//! - A tombstone (`deleted: true`) needs only `name`; whatever else it sets is still checked, and
//!   it gets `0` for a count it does not set.
//! - Every live topic gets a constant in application code, named by [`constant_name`].

use std::collections::BTreeMap;

use crate::diag::{DidYouMean, Location, Problems};
use crate::model::Topic;
use crate::topic_config::{self, ConfigKey, ConfigValueError};
use crate::tree::{self, Map, Node, Value};

mod schema;
pub use self::schema::json_schema;

/// The keys of the file, of `defaults` and of a topic. `check_keys` and [`json_schema`] both read
/// these, so the schema offers exactly what the checks accept.
const FILE_KEYS: &[&str] = &["defaults", "topics"];
const DEFAULTS_KEYS: &[&str] = &["partitions", "replication_factor", "config"];
const TOPIC_KEYS: &[&str] = &["name", "partitions", "replication_factor", "config", "deleted"];

/// Kafka's limit: a partition's directory is `<topic>-<partition>`, and must fit in 255 bytes.
const MAX_NAME_LENGTH: usize = 249;
/// The characters Kafka allows in a topic name, as [`is_name_character`] checks them.
const NAME_PATTERN: &str = "^[a-zA-Z0-9._-]+$";

#[derive(Debug, thiserror::Error)]
pub enum TopicError {
    #[error("{at}: topic name is empty; give the topic a name")]
    EmptyName { at: Location },
    #[error("{at}: `{name}` cannot be a topic name, Kafka reserves it; choose another name")]
    ReservedName { at: Location, name: String },
    #[error("{at}: topic name `{name}` contains {characters}; use only letters, digits, `.`, `_` and `-`")]
    NameCharacters { at: Location, name: String, characters: String },
    #[error("{at}: topic name `{name}` is {length} characters long; Kafka allows at most 249, shorten it")]
    NameTooLong { at: Location, name: String, length: usize },
    #[error("{at}: topic `{name}` is declared twice (first at {first}); remove one of them")]
    DuplicateName { at: Location, name: String, first: Location },
    #[error(
        "{at}: topic `{name}` collides with `{other}` (at {other_at}): Kafka treats `.` and `_` alike in \
         metric names and refuses to hold both; rename one of them"
    )]
    MetricCollision { at: Location, name: String, other: String, other_at: Location },
    #[error(
        "{at}: topic `{name}` and topic `{other}` (at {other_at}) both make the constant `topics::{constant}`; \
         rename one of them"
    )]
    ConstantCollision { at: Location, name: String, other: String, other_at: Location, constant: String },
    #[error("{at}: `{key}` is {found}; set a whole number from 1 to {max}")]
    Count { at: Location, key: &'static str, found: String, max: i64 },
    #[error("{at}: topic `{name}` has no `{key}`; set it on the topic or under `defaults`")]
    MissingSetting { at: Location, name: String, key: &'static str },
    #[error(
        "{at}: unknown topic config `{key}`{hint}; remove it, or if a newer Kafka has it, add it to `KEYS` \
         in macros/spec/src/topic_config.rs"
    )]
    UnknownConfig { at: Location, key: String, hint: DidYouMean },
    #[error("{at}: topic config `{key}` was removed in Kafka 4.0; {advice}")]
    RemovedConfig { at: Location, key: String, advice: &'static str },
    #[error("{at}: config `{key}` {reason}")]
    ConfigValue { at: Location, key: &'static str, reason: ConfigValueError },
    #[error(
        "{at}: `min.insync.replicas` is {min_insync_replicas} but topic `{name}` has `replication_factor` \
         {replication_factor} (at {replication_factor_at}), so every `acks=all` write would fail; lower \
         `min.insync.replicas` or raise `replication_factor`"
    )]
    MinInsyncAboveReplication {
        at: Location,
        name: String,
        min_insync_replicas: i64,
        replication_factor: i16,
        replication_factor_at: Location,
    },
    #[error(
        "{at}: `min.compaction.lag.ms` ({min}) is greater than `max.compaction.lag.ms` ({max}, at {max_at}) \
         for topic `{name}`, which Kafka rejects; lower the minimum or raise the maximum"
    )]
    CompactionLagOrder { at: Location, name: String, min: i64, max: i64, max_at: Location },
}

/// Checks `kafka_topics.yml` and returns its valid topics in declaration order; every problem
/// goes to `problems`, and a topic with a problem is left out. `path` is the file's relative path
/// as messages show it, `text` its normalised content.
pub fn check(path: &str, text: &str, problems: &mut Problems) -> Vec<Topic> {
    let Some(root) = tree::parse_yaml(path, text, problems) else { return Vec::new() };
    let context = format!("`{path}`");
    let Some(file) = root.expect_map(&context, problems) else { return Vec::new() };
    file.check_keys(FILE_KEYS, &context, problems);
    let defaults = read_defaults(file, problems);
    let topics = file.require("topics", &context, &root.at, problems);
    let Some(entries) = topics.and_then(|topics| topics.expect_seq("`topics`", problems)) else {
        return Vec::new();
    };
    // Each entry is checked on its own (names, counts, config keys and values, settings that
    // depend on each other), then the rules across entries run.
    let mut declared: Vec<Declared> =
        entries.iter().filter_map(|entry| read_topic(entry, &defaults, problems)).collect();
    check_unique_names(&mut declared, problems);
    check_metric_collisions(&mut declared, problems);
    check_constant_collisions(&mut declared, problems);
    declared.into_iter().filter_map(|declared| declared.topic).collect()
}

/// The constant generated for `topic` in `topics::`: uppercase, every character outside
/// `[A-Za-z0-9]` replaced by `_` (`market.ohlcv.1m` → `MARKET_OHLCV_1M`), with a `_` in front
/// when it would start with a digit or be a lone `_`, neither of which names a Rust constant.
pub fn constant_name(topic: &str) -> String {
    let mut constant: String = topic
        .chars()
        .map(|character| if character.is_ascii_alphanumeric() { character.to_ascii_uppercase() } else { '_' })
        .collect();
    if constant.starts_with(|character: char| character.is_ascii_digit()) || constant == "_" {
        constant.insert(0, '_');
    }
    constant
}

/// One setting as the file gives it: absent, written but rejected (already reported), or valid,
/// with where it was written.
#[derive(Clone, Debug, Default)]
enum Setting<T> {
    #[default]
    Absent,
    Rejected,
    Valid(T, Location),
}

impl<T: Clone> Setting<T> {
    /// This setting, or `fallback` when it is absent.
    fn or(&self, fallback: &Setting<T>) -> Setting<T> {
        match self {
            Setting::Absent => fallback.clone(),
            set => set.clone(),
        }
    }
}

/// What `defaults` or one topic sets.
#[derive(Clone, Debug, Default)]
struct Layer {
    partitions: Setting<i32>,
    replication_factor: Setting<i16>,
    /// By config key; valid values are the strings Kafka receives.
    config: BTreeMap<String, Setting<String>>,
}

impl Layer {
    /// `self` over `defaults`: every setting, and every config key, from `self` when it sets it.
    fn over(&self, defaults: &Layer) -> Layer {
        let mut config = defaults.config.clone();
        config.extend(self.config.clone());
        Layer {
            partitions: self.partitions.or(&defaults.partitions),
            replication_factor: self.replication_factor.or(&defaults.replication_factor),
            config,
        }
    }

    /// A config value as a number, with where it was written, when it is set and valid.
    fn config_number(&self, key: &str) -> Option<(i64, &Location)> {
        match self.config.get(key) {
            Some(Setting::Valid(value, at)) => value.parse().ok().map(|number| (number, at)),
            _ => None,
        }
    }
}

/// An entry of `topics` with a valid name, kept for the rules across entries.
struct Declared {
    name: String,
    /// Where the name is written.
    at: Location,
    deleted: bool,
    /// `None` when the entry has a problem.
    topic: Option<Topic>,
}

fn read_defaults(file: &Map, problems: &mut Problems) -> Layer {
    let Some(node) = file.get("defaults") else { return Layer::default() };
    let Some(map) = node.expect_map("`defaults`", problems) else { return Layer::default() };
    map.check_keys(DEFAULTS_KEYS, "`defaults`", problems);
    read_layer(map, DEFAULTS_KEYS, problems)
}

/// Reads one entry of `topics`; `None` when it has no valid name.
fn read_topic(node: &Node, defaults: &Layer, problems: &mut Problems) -> Option<Declared> {
    let problems_before = problems.len();
    let map = node.expect_map("each entry of `topics`", problems)?;
    let name_node = map.require("name", "a topic", &node.at, problems);
    let name = name_node.and_then(|name| name.expect_str("`name`", problems));
    let context = name.map_or_else(|| "a topic".to_string(), |name| format!("topic `{name}`"));
    map.check_keys(TOPIC_KEYS, &context, problems);
    // `None` when `deleted` is there but not a boolean: whether the counts are needed is unknown.
    let deleted = map.get("deleted").map_or(Some(false), |deleted| deleted.expect_bool("`deleted`", problems));
    let own = read_layer(map, TOPIC_KEYS, problems);
    let (name, at) = (name?, name_node?.at.clone());
    if !check_topic_name(name, &at, problems) {
        return None;
    }
    let topic = resolve(name, deleted, &own.over(defaults), &at, problems);
    let topic = topic.filter(|_| problems.len() == problems_before);
    Some(Declared { name: name.to_string(), at, deleted: deleted.unwrap_or(false), topic })
}

/// The settings of a topic or of `defaults`. A count whose key is misspelt (`partitons`) counts as
/// rejected, not absent: the unknown-key error already covers it.
fn read_layer(map: &Map, allowed: &[&str], problems: &mut Problems) -> Layer {
    let misspelt = map.misspelt(allowed);
    Layer {
        partitions: map
            .get("partitions")
            .map_or_else(|| unset(&misspelt, "partitions"), |node| check_count(node, "partitions", i32::MAX, problems)),
        replication_factor: map.get("replication_factor").map_or_else(
            || unset(&misspelt, "replication_factor"),
            |node| check_count(node, "replication_factor", i16::MAX, problems),
        ),
        config: map.get("config").map(|config| read_config(config, problems)).unwrap_or_default(),
    }
}

fn unset<T>(misspelt: &[&str], key: &str) -> Setting<T> {
    if misspelt.contains(&key) {
        Setting::Rejected
    } else {
        Setting::Absent
    }
}

fn read_config(node: &Node, problems: &mut Problems) -> BTreeMap<String, Setting<String>> {
    let Some(map) = node.expect_map("`config`", problems) else { return BTreeMap::new() };
    let mut config = BTreeMap::new();
    for entry in &map.entries {
        if let Some(key) = check_config_key(&entry.key, &entry.key_at, problems) {
            config.insert(entry.key.clone(), check_config_value(key, &entry.value, problems));
        }
    }
    config
}

/// The topic as Kafka should hold it: every count present and every config value valid, and
/// the settings consistent with each other. `None` when something is missing or rejected.
/// `deleted` is `None` when it was rejected; `at` is where the name is written.
fn resolve(
    name: &str,
    deleted: Option<bool>,
    settings: &Layer,
    at: &Location,
    problems: &mut Problems,
) -> Option<Topic> {
    let partitions = require_count(name, "partitions", &settings.partitions, deleted, at, problems);
    let replication_factor =
        require_count(name, "replication_factor", &settings.replication_factor, deleted, at, problems);
    check_min_insync_replicas(name, settings, problems);
    check_compaction_lag_order(name, settings, problems);
    let config = settings
        .config
        .iter()
        .map(|(key, setting)| match setting {
            Setting::Valid(value, _) => Some((key.clone(), value.clone())),
            Setting::Absent | Setting::Rejected => None,
        })
        .collect::<Option<Vec<_>>>()?;
    let deleted = deleted?;
    Some(Topic {
        name: name.to_string(),
        partitions: partitions?,
        replication_factor: replication_factor?,
        config,
        deleted,
    })
}

/// Kafka refuses these names when it creates the topic; catching them here keeps a bad name from
/// reaching a deploy. `false` when the name is reported.
fn check_topic_name(name: &str, at: &Location, problems: &mut Problems) -> bool {
    let at = at.clone();
    let name_owned = || name.to_string();
    let invalid: Vec<char> = name.chars().filter(|character| !is_name_character(*character)).collect();
    let error = if name.is_empty() {
        TopicError::EmptyName { at }
    } else if name == "." || name == ".." {
        TopicError::ReservedName { at, name: name_owned() }
    } else if !invalid.is_empty() {
        TopicError::NameCharacters { at, name: name_owned(), characters: quoted_characters(invalid) }
    } else if name.len() > MAX_NAME_LENGTH {
        TopicError::NameTooLong { at, name: name_owned(), length: name.len() }
    } else {
        return true;
    };
    problems.push(error);
    false
}

fn is_name_character(character: char) -> bool {
    character.is_ascii_alphanumeric() || matches!(character, '.' | '_' | '-')
}

/// "`/` and ` `": each distinct character once, in order of appearance.
fn quoted_characters(mut characters: Vec<char>) -> String {
    let mut seen = Vec::new();
    characters.retain(|character| {
        let first = !seen.contains(character);
        seen.push(*character);
        first
    });
    let quoted: Vec<String> = characters.iter().map(|character| format!("`{character}`")).collect();
    match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => quoted.concat(),
    }
}

/// Kafka needs at least one partition and one replica, and holds the counts as `i32` and `i16`;
/// a fraction or a quoted number is most likely a slip, so only whole numbers are taken.
fn check_count<T>(node: &Node, key: &'static str, max: T, problems: &mut Problems) -> Setting<T>
where
    T: TryFrom<i64> + Into<i64>,
{
    let count = match node.value {
        Value::Integer(count) if count >= 1 => T::try_from(count).ok(),
        _ => None,
    };
    match count {
        Some(count) => Setting::Valid(count, node.at.clone()),
        None => {
            problems.push(TopicError::Count { at: node.at.clone(), key, found: node.describe(), max: max.into() });
            Setting::Rejected
        }
    }
}

/// No built-in partition count or replication factor: broker defaults differ between environments
/// and the plan must say exactly what it creates. A tombstone needs neither (it gets `0`); nor is
/// one asked for when `deleted` was rejected (`None`), which is reported already.
fn require_count<T: Copy + Default>(
    name: &str,
    key: &'static str,
    setting: &Setting<T>,
    deleted: Option<bool>,
    at: &Location,
    problems: &mut Problems,
) -> Option<T> {
    match setting {
        Setting::Valid(count, _) => Some(*count),
        Setting::Rejected => None,
        Setting::Absent if deleted != Some(false) => Some(T::default()),
        Setting::Absent => {
            problems.push(TopicError::MissingSetting { at: at.clone(), name: name.to_string(), key });
            None
        }
    }
}

/// The broker rejects a config it does not know, but only at deploy time; a typo or a key removed
/// from Kafka is caught here instead.
fn check_config_key(key: &str, at: &Location, problems: &mut Problems) -> Option<&'static ConfigKey> {
    if let Some(config) = topic_config::find(key) {
        return Some(config);
    }
    let error = match topic_config::removed(key) {
        Some(advice) => TopicError::RemovedConfig { at: at.clone(), key: key.to_string(), advice },
        None => TopicError::UnknownConfig {
            at: at.clone(),
            key: key.to_string(),
            hint: DidYouMean::find(key, topic_config::KEYS.iter().map(|config| config.name)),
        },
    };
    problems.push(error);
    None
}

/// Kafka parses every value from a string; converting here (`7d` → `604800000`) means the plan
/// holds exactly what Kafka parses, and a value Kafka would reject fails the build instead.
fn check_config_value(key: &'static ConfigKey, node: &Node, problems: &mut Problems) -> Setting<String> {
    match key.kafka_value(node) {
        Ok(value) => Setting::Valid(value, node.at.clone()),
        Err(reason) => {
            problems.push(TopicError::ConfigValue { at: node.at.clone(), key: key.name, reason });
            Setting::Rejected
        }
    }
}

/// With more in-sync replicas required than the topic has, every `acks=all` write fails with
/// `NotEnoughReplicas`; Kafka accepts the setting, so it would only show in production.
fn check_min_insync_replicas(name: &str, settings: &Layer, problems: &mut Problems) {
    let Some((min_insync_replicas, at)) = settings.config_number("min.insync.replicas") else { return };
    let Setting::Valid(replication_factor, replication_factor_at) = &settings.replication_factor else { return };
    if min_insync_replicas > i64::from(*replication_factor) {
        problems.push(TopicError::MinInsyncAboveReplication {
            at: at.clone(),
            name: name.to_string(),
            min_insync_replicas,
            replication_factor: *replication_factor,
            replication_factor_at: replication_factor_at.clone(),
        });
    }
}

/// Kafka refuses to create or alter a topic whose minimum compaction lag exceeds its maximum.
fn check_compaction_lag_order(name: &str, settings: &Layer, problems: &mut Problems) {
    let Some((min, at)) = settings.config_number("min.compaction.lag.ms") else { return };
    let Some((max, max_at)) = settings.config_number("max.compaction.lag.ms") else { return };
    if min > max {
        problems.push(TopicError::CompactionLagOrder {
            at: at.clone(),
            name: name.to_string(),
            min,
            max,
            max_at: max_at.clone(),
        });
    }
}

/// A name declared twice would make the plan say two things about one topic; this includes a
/// tombstone and a live topic of the same name.
fn check_unique_names(declared: &mut [Declared], problems: &mut Problems) {
    for index in 0..declared.len() {
        let later = &declared[index];
        let Some(first) = declared[..index].iter().find(|earlier| earlier.name == later.name) else { continue };
        problems.push(TopicError::DuplicateName {
            at: later.at.clone(),
            name: later.name.clone(),
            first: first.at.clone(),
        });
        declared[index].topic = None;
    }
}

/// Kafka replaces `.` with `_` in metric names, so it refuses to create `a.b` next to `a_b`.
/// Tombstones are left out: deleting `a_b` to make room for `a.b` is how such a topic is renamed.
fn check_metric_collisions(declared: &mut [Declared], problems: &mut Problems) {
    report_clashes(declared, problems, |earlier, later| {
        (metric_name(&earlier.name) == metric_name(&later.name)).then(|| TopicError::MetricCollision {
            at: later.at.clone(),
            name: later.name.clone(),
            other: earlier.name.clone(),
            other_at: earlier.at.clone(),
        })
    });
}

/// Application code names live topics by constant (`topics::MARKET_TICKS`), and two topics making
/// one constant would not compile. A `.`/`_` pair is left to the metric rule, to report it once.
fn check_constant_collisions(declared: &mut [Declared], problems: &mut Problems) {
    report_clashes(declared, problems, |earlier, later| {
        let constant = constant_name(&later.name);
        let clash = constant == constant_name(&earlier.name) && metric_name(&earlier.name) != metric_name(&later.name);
        clash.then(|| TopicError::ConstantCollision {
            at: later.at.clone(),
            name: later.name.clone(),
            other: earlier.name.clone(),
            other_at: earlier.at.clone(),
            constant,
        })
    });
}

fn metric_name(topic: &str) -> String {
    topic.replace('.', "_")
}

/// For each live topic, the first earlier live topic of another name that `clash` reports
/// against it; the later topic is then left out of the plan.
fn report_clashes(
    declared: &mut [Declared],
    problems: &mut Problems,
    clash: impl Fn(&Declared, &Declared) -> Option<TopicError>,
) {
    for index in 0..declared.len() {
        let later = &declared[index];
        if later.deleted {
            continue;
        }
        let error = declared[..index]
            .iter()
            .filter(|earlier| !earlier.deleted && earlier.name != later.name)
            .find_map(|earlier| clash(earlier, later));
        if let Some(error) = error {
            problems.push(error);
            declared[index].topic = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_text(text: &str) -> (Vec<Topic>, Vec<String>) {
        let mut problems = Problems::default();
        let topics = check("kafka_topics.yml", text, &mut problems);
        (topics, problems.iter().map(ToString::to_string).collect())
    }

    fn problems_of(text: &str) -> Vec<String> {
        check_text(text).1
    }

    fn topic(name: &str, partitions: i32, replication_factor: i16, config: &[(&str, &str)]) -> Topic {
        let config = config.iter().map(|(key, value)| (key.to_string(), value.to_string())).collect();
        Topic { name: name.to_string(), partitions, replication_factor, config, deleted: false }
    }

    const EXAMPLE: &str = "\
defaults:
  partitions: 3
  replication_factor: 1
  config: { retention.ms: 7d }
topics:
  - name: market.ohlcv.1m
    partitions: 6
    config: { cleanup.policy: [compact, delete], retention.bytes: 1GiB }
  - name: strategy.signals
  - name: old.topic
    deleted: true
";

    #[test]
    fn the_documented_example_compiles_to_topics() {
        let (topics, problems) = check_text(EXAMPLE);
        assert_eq!(problems, Vec::<String>::new());
        let old = Topic { deleted: true, ..topic("old.topic", 3, 1, &[("retention.ms", "604800000")]) };
        assert_eq!(
            topics,
            [
                topic(
                    "market.ohlcv.1m",
                    6,
                    1,
                    &[
                        ("cleanup.policy", "compact,delete"),
                        ("retention.bytes", "1073741824"),
                        ("retention.ms", "604800000")
                    ]
                ),
                topic("strategy.signals", 3, 1, &[("retention.ms", "604800000")]),
                old,
            ]
        );
    }

    #[test]
    fn a_topic_overlays_the_default_config_key_by_key() {
        let text = "\
defaults:
  partitions: 1
  replication_factor: 1
  config: { retention.ms: 1000, cleanup.policy: delete }
topics:
  - name: a
    replication_factor: 2
    config: { retention.ms: '2000', compression.type: zstd }
";
        let (topics, problems) = check_text(text);
        assert!(problems.is_empty(), "{problems:?}");
        let expected = [("cleanup.policy", "delete"), ("compression.type", "zstd"), ("retention.ms", "2000")];
        assert_eq!(topics, [topic("a", 1, 2, &expected)]);
    }

    #[test]
    fn counts_are_required_on_the_topic_or_in_defaults() {
        let text = "topics:\n  - name: a\n    partitions: 1\n";
        assert_eq!(
            problems_of(text),
            ["kafka_topics.yml:2:11: topic `a` has no `replication_factor`; set it on the topic or under `defaults`"]
        );
    }

    #[test]
    fn a_tombstone_needs_only_a_name() {
        let (topics, problems) = check_text("topics:\n  - name: gone\n    deleted: true\n");
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(topics, [Topic { deleted: true, ..topic("gone", 0, 0, &[]) }]);
    }

    #[test]
    fn a_tombstone_is_still_checked() {
        let text =
            "topics:\n  - name: gone\n    deleted: true\n    partitions: 0\n    config: { retention.ms: soon }\n";
        let (topics, problems) = check_text(text);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(topics.is_empty());
    }

    #[test]
    fn deleted_must_be_a_boolean() {
        let text = "topics:\n  - name: gone\n    deleted: 'yes'\n";
        assert_eq!(
            problems_of(text),
            ["kafka_topics.yml:3:14: `deleted` must be `true` or `false`, found string `yes`"]
        );
    }

    #[test]
    fn yaml_syntax_errors_are_reported_with_their_position() {
        let problems = problems_of("topics: [\n");
        assert_eq!(problems.len(), 1);
        assert!(problems[0].starts_with("kafka_topics.yml:") && problems[0].contains("invalid YAML"), "{problems:?}");
    }

    #[test]
    fn unknown_keys_are_reported_at_every_level() {
        let text = "\
defualts: {}
defaults: { partition: 1, replication_factor: 1 }
topics:
  - name: a
    partitions: 1
    delted: true
";
        assert_eq!(
            problems_of(text),
            [
                "kafka_topics.yml:1:1: unknown key `defualts` in `kafka_topics.yml` (did you mean `defaults`?); allowed keys: `defaults`, `topics`",
                "kafka_topics.yml:2:13: unknown key `partition` in `defaults` (did you mean `partitions`?); allowed keys: `partitions`, `replication_factor`, `config`",
                "kafka_topics.yml:6:5: unknown key `delted` in topic `a` (did you mean `deleted`?); allowed keys: `name`, `partitions`, `replication_factor`, `config`, `deleted`",
            ]
        );
    }

    #[test]
    fn duplicate_keys_are_reported() {
        let text = "topics:\n  - name: a\n    partitions: 1\n    partitions: 2\n    replication_factor: 1\n";
        assert_eq!(
            problems_of(text),
            ["kafka_topics.yml:4:5: duplicate key `partitions` (first set at kafka_topics.yml:3:5); keep one of them"]
        );
    }

    #[test]
    fn the_file_must_be_a_mapping_with_topics() {
        assert_eq!(problems_of("- a\n"), ["kafka_topics.yml:1:1: `kafka_topics.yml` must be a mapping, found a list"]);
        assert_eq!(problems_of(""), ["kafka_topics.yml:1:1: `kafka_topics.yml` must be a mapping, found null"]);
        assert_eq!(problems_of("defaults: {}\n"), ["kafka_topics.yml:1:1: `kafka_topics.yml` has no `topics`; add it"]);
        assert_eq!(problems_of("{}\n"), ["kafka_topics.yml:1:1: `kafka_topics.yml` has no `topics`; add it"]);
    }

    #[test]
    fn topics_must_be_a_list_of_mappings() {
        assert_eq!(problems_of("topics: {a: 1}\n"), ["kafka_topics.yml:1:9: `topics` must be a list, found a mapping"]);
        assert_eq!(
            problems_of("topics:\n  - a\n"),
            ["kafka_topics.yml:2:5: each entry of `topics` must be a mapping, found string `a`"]
        );
        assert_eq!(
            problems_of("topics:\n  - partitions: 1\n"),
            ["kafka_topics.yml:2:5: a topic has no `name`; add it"]
        );
    }

    #[test]
    fn defaults_and_config_must_be_mappings() {
        let text = "defaults: 3\ntopics:\n  - name: a\n    partitions: 1\n    replication_factor: 1\n    config: [retention.ms]\n";
        assert_eq!(
            problems_of(text),
            [
                "kafka_topics.yml:1:11: `defaults` must be a mapping, found `3`",
                "kafka_topics.yml:6:13: `config` must be a mapping, found a list",
            ]
        );
    }

    fn name_problems(name: &str) -> Vec<String> {
        problems_of(&format!("topics:\n  - name: '{name}'\n    partitions: 1\n    replication_factor: 1\n"))
    }

    #[test]
    fn names_kafka_rejects_are_reported() {
        assert_eq!(name_problems(""), ["kafka_topics.yml:2:11: topic name is empty; give the topic a name"]);
        assert_eq!(
            name_problems(".."),
            ["kafka_topics.yml:2:11: `..` cannot be a topic name, Kafka reserves it; choose another name"]
        );
        assert_eq!(
            name_problems("a/b c/d"),
            ["kafka_topics.yml:2:11: topic name `a/b c/d` contains `/` and ` `; use only letters, digits, `.`, `_` and `-`"]
        );
        let long = "a".repeat(250);
        assert_eq!(
            name_problems(&long),
            [format!("kafka_topics.yml:2:11: topic name `{long}` is 250 characters long; Kafka allows at most 249, shorten it")]
        );
        assert!(name_problems(&"a".repeat(249)).is_empty());
        assert!(name_problems("Market-ticks_v2.1m").is_empty());
    }

    #[test]
    fn a_name_declared_twice_names_both_places() {
        let text = "\
defaults: { partitions: 1, replication_factor: 1 }
topics:
  - name: a
  - name: b
  - name: a
    deleted: true
";
        let (topics, problems) = check_text(text);
        assert_eq!(
            problems,
            ["kafka_topics.yml:5:11: topic `a` is declared twice (first at kafka_topics.yml:3:11); remove one of them"]
        );
        assert_eq!(topics.iter().map(|topic| topic.name.as_str()).collect::<Vec<_>>(), ["a", "b"]);
    }

    #[test]
    fn names_differing_only_in_dot_and_underscore_collide() {
        let text = "defaults: { partitions: 1, replication_factor: 1 }\ntopics:\n  - name: market.ticks\n  - name: market_ticks\n";
        assert_eq!(
            problems_of(text),
            ["kafka_topics.yml:4:11: topic `market_ticks` collides with `market.ticks` (at kafka_topics.yml:3:11): \
              Kafka treats `.` and `_` alike in metric names and refuses to hold both; rename one of them"]
        );
    }

    #[test]
    fn a_tombstone_may_share_a_metric_name_with_its_replacement() {
        let text = "defaults: { partitions: 1, replication_factor: 1 }\ntopics:\n  - name: market_ticks\n    deleted: true\n  - name: market.ticks\n";
        assert!(problems_of(text).is_empty());
    }

    #[test]
    fn names_making_the_same_constant_collide() {
        let text = "defaults: { partitions: 1, replication_factor: 1 }\ntopics:\n  - name: market.ticks\n  - name: market-ticks\n";
        assert_eq!(
            problems_of(text),
            ["kafka_topics.yml:4:11: topic `market-ticks` and topic `market.ticks` (at kafka_topics.yml:3:11) both make \
              the constant `topics::MARKET_TICKS`; rename one of them"]
        );
    }

    #[test]
    fn constant_names_are_uppercase_identifiers() {
        assert_eq!(constant_name("market.ohlcv.1m"), "MARKET_OHLCV_1M");
        assert_eq!(constant_name("strategy-signals_v2"), "STRATEGY_SIGNALS_V2");
        assert_eq!(constant_name("1m.bars"), "_1M_BARS");
        assert_eq!(constant_name("-"), "__");
        assert_eq!(constant_name("__consumer_offsets"), "__CONSUMER_OFFSETS");
    }

    #[test]
    fn counts_must_be_whole_numbers_from_one() {
        let text = "\
topics:
  - name: a
    partitions: 0
    replication_factor: 1.5
  - name: b
    partitions: '3'
    replication_factor: 40000
";
        assert_eq!(
            problems_of(text),
            [
                "kafka_topics.yml:3:17: `partitions` is `0`; set a whole number from 1 to 2147483647",
                "kafka_topics.yml:4:25: `replication_factor` is `1.5`; set a whole number from 1 to 32767",
                "kafka_topics.yml:6:17: `partitions` is string `3`; set a whole number from 1 to 2147483647",
                "kafka_topics.yml:7:25: `replication_factor` is `40000`; set a whole number from 1 to 32767",
            ]
        );
    }

    #[test]
    fn unknown_and_removed_config_keys_are_reported() {
        let text = "\
defaults: { partitions: 1, replication_factor: 1 }
topics:
  - name: a
    config:
      retention.msec: 1000
      message.format.version: '3.0'
";
        assert_eq!(
            problems_of(text),
            [
                "kafka_topics.yml:5:7: unknown topic config `retention.msec` (did you mean `retention.ms`?); remove it, \
                 or if a newer Kafka has it, add it to `KEYS` in macros/spec/src/topic_config.rs",
                "kafka_topics.yml:6:7: topic config `message.format.version` was removed in Kafka 4.0; every broker since \
                 Kafka 3.0 writes the v2 format; remove it",
            ]
        );
    }

    #[test]
    fn config_values_are_checked_where_they_are_written() {
        let text = "\
defaults: { partitions: 1, replication_factor: 1 }
topics:
  - name: a
    config: { compression.type: lz5, retention.ms: -5, preallocate: 'yes' }
";
        assert_eq!(
            problems_of(text),
            [
                "kafka_topics.yml:4:33: config `compression.type` does not accept `lz5` (did you mean `lz4`?); \
                 use one of `uncompressed`, `zstd`, `lz4`, `snappy`, `gzip`, `producer`",
                "kafka_topics.yml:4:52: config `retention.ms` is `-5`, below its minimum `-1`; set `-1` or more",
                "kafka_topics.yml:4:69: config `preallocate` must be `true` or `false`, found string `yes`",
            ]
        );
    }

    #[test]
    fn a_bad_default_is_reported_once_and_its_topics_left_out() {
        let text = "\
defaults: { partitions: 1, replication_factor: 1, config: { segment.ms: 0 } }
topics:
  - name: a
  - name: b
    config: { segment.ms: 1h }
";
        let (topics, problems) = check_text(text);
        assert_eq!(
            problems,
            ["kafka_topics.yml:1:73: config `segment.ms` is `0`, below its minimum `1`; set `1` or more"]
        );
        assert_eq!(topics, [topic("b", 1, 1, &[("segment.ms", "3600000")])]);
    }

    #[test]
    fn min_insync_replicas_cannot_exceed_the_replication_factor() {
        let text = "\
defaults: { partitions: 1, replication_factor: 3, config: { min.insync.replicas: 2 } }
topics:
  - name: safe
  - name: single
    replication_factor: 1
";
        assert_eq!(
            problems_of(text),
            ["kafka_topics.yml:1:82: `min.insync.replicas` is 2 but topic `single` has `replication_factor` 1 \
              (at kafka_topics.yml:5:25), so every `acks=all` write would fail; lower `min.insync.replicas` or \
              raise `replication_factor`"]
        );
    }

    #[test]
    fn min_compaction_lag_cannot_exceed_the_maximum() {
        let text = "\
defaults: { partitions: 1, replication_factor: 1 }
topics:
  - name: a
    config: { min.compaction.lag.ms: 2h, max.compaction.lag.ms: 1h }
";
        assert_eq!(
            problems_of(text),
            ["kafka_topics.yml:4:38: `min.compaction.lag.ms` (7200000) is greater than `max.compaction.lag.ms` \
              (3600000, at kafka_topics.yml:4:65) for topic `a`, which Kafka rejects; lower the minimum or raise the maximum"]
        );
    }

    #[test]
    fn config_values_reach_the_plan_as_kafka_reads_them() {
        let text = "\
defaults: { partitions: 1, replication_factor: 1 }
topics:
  - name: a
    config:
      retention.ms: 12h
      segment.ms: '604800000'
      segment.bytes: 512MiB
      cleanup.policy: compact, delete
      unclean.leader.election.enable: 'false'
      min.cleanable.dirty.ratio: 0.25
";
        let (topics, problems) = check_text(text);
        assert!(problems.is_empty(), "{problems:?}");
        let expected = [
            ("cleanup.policy", "compact,delete"),
            ("min.cleanable.dirty.ratio", "0.25"),
            ("retention.ms", "43200000"),
            ("segment.bytes", "536870912"),
            ("segment.ms", "604800000"),
            ("unclean.leader.election.enable", "false"),
        ];
        assert_eq!(topics, [topic("a", 1, 1, &expected)]);
    }

    #[test]
    fn every_problem_of_the_file_is_reported() {
        let text = "\
defaults: { partitions: 1, replication_factor: 1 }
topics:
  - name: bad name
  - name: b
    partitions: -1
  - name: c
    config: { retention.ms: 7 days }
  - name: d
";
        let (topics, problems) = check_text(text);
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems[0].starts_with("kafka_topics.yml:3:11: topic name `bad name`"), "{}", problems[0]);
        assert!(problems[1].starts_with("kafka_topics.yml:5:17: `partitions`"), "{}", problems[1]);
        assert!(problems[2].starts_with("kafka_topics.yml:7:29: config `retention.ms`"), "{}", problems[2]);
        assert_eq!(topics, [topic("d", 1, 1, &[])]);
    }
}
