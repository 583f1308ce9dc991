//! The topic-level configs Kafka accepts, as data: each key's value kind, limits and a one-line
//! doc. The checks of `kafka_topics.yml` ([`ConfigKey::kafka_value`]) and its JSON Schema
//! ([`ConfigKey::json_schema`]) both read [`KEYS`], so they cannot disagree.
//!
//! The table follows Apache Kafka 4.x (`LogConfig` in the broker). Keys removed in 4.0 are listed in
//! [`REMOVED`] so that they get a message saying so rather than "unknown". To support a config of a
//! newer Kafka, add a row to [`KEYS`].
//!
//! Besides plain numbers (also quoted, `"604800000"`), every `*.ms` key accepts a duration and
//! every `*.bytes` key a size; both are converted to the exact whole number Kafka receives:
//! - duration: whole numbers each followed by a unit, optionally one space apart: `7d`, `12h`,
//!   `1h 30m`, `500ms`. Units: `ms`, `s`, `m` (minutes), `h`, `d`, `w`. No months or years,
//!   whose length varies, and nothing below a millisecond.
//! - size: a number, an optional space and a unit: `1GiB`, `512MiB`, `1.5GiB`, `100MB`. Binary units
//!   `KiB`…`PiB` are powers of 1024, decimal units `KB`…`PB` powers of 1000, `B` is one byte. A
//!   fraction must come out as a whole number of bytes.

use serde_json::{json, Value as Json};

use crate::diag::DidYouMean;
use crate::tree::{Node, Value};

/// One topic-level config Kafka accepts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ConfigKey {
    pub name: &'static str,
    pub kind: Kind,
    /// One line for editors and error messages.
    pub doc: &'static str,
}

/// What a config's value must be. Bounds are inclusive.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Kind {
    /// A 64-bit whole number of at least `min`.
    Long { min: i64 },
    /// A 32-bit whole number within `min..=max`.
    Int { min: i64, max: i64 },
    /// A finite number within `min..=max`.
    Double { min: f64, max: f64 },
    /// `true` or `false`.
    Bool,
    /// Exactly one of these strings (case-sensitive, as Kafka checks them).
    Enum(&'static [&'static str]),
    /// One or more of these strings, each at most once: a list or a comma-separated string.
    List(&'static [&'static str]),
    /// `*` (every replica) or `partition:broker` pairs: a list or a comma-separated string.
    ReplicaList,
}

const INT_MAX: i64 = i32::MAX as i64;

/// Every topic-level config of Apache Kafka 4.x, sorted by name.
pub const KEYS: &[ConfigKey] = &[
    key(
        "cleanup.policy",
        Kind::List(&["compact", "delete"]),
        "How old segments are discarded: `delete` by retention, `compact` keeping the latest record per key, or both.",
    ),
    key(
        "compression.gzip.level",
        Kind::Int { min: 1, max: 9 },
        "gzip level when `compression.type` is `gzip`: 1 (fastest) to 9 (smallest); unset means the codec's default.",
    ),
    key(
        "compression.lz4.level",
        Kind::Int { min: 1, max: 17 },
        "lz4 level when `compression.type` is `lz4`: 1 to 17 (default 9).",
    ),
    key(
        "compression.type",
        Kind::Enum(&["uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"]),
        "Compression of stored batches; `producer` keeps whatever the producer used.",
    ),
    key(
        "compression.zstd.level",
        Kind::Int { min: -131_072, max: 22 },
        "zstd level when `compression.type` is `zstd`: -131072 to 22 (default 3).",
    ),
    key(
        "delete.retention.ms",
        Kind::Long { min: 0 },
        "How long delete markers (null-value records) stay in a compacted topic.",
    ),
    key(
        "file.delete.delay.ms",
        Kind::Long { min: 0 },
        "How long to wait before deleting a segment file from the filesystem.",
    ),
    key(
        "flush.messages",
        Kind::Long { min: 1 },
        "Force an fsync after this many messages; usually left to replication and the OS.",
    ),
    key(
        "flush.ms",
        Kind::Long { min: 0 },
        "Force an fsync after this much time; usually left to replication and the OS.",
    ),
    key(
        "follower.replication.throttled.replicas",
        Kind::ReplicaList,
        "Replicas whose follower-side replication is throttled: `*` or `partition:broker` pairs.",
    ),
    key(
        "index.interval.bytes",
        Kind::Int { min: 0, max: INT_MAX },
        "How many bytes of records between two entries of the offset index.",
    ),
    key(
        "leader.replication.throttled.replicas",
        Kind::ReplicaList,
        "Replicas whose leader-side replication is throttled: `*` or `partition:broker` pairs.",
    ),
    key(
        "local.retention.bytes",
        Kind::Long { min: -2 },
        "With tiered storage, the most bytes kept on local disk per partition; -2 means `retention.bytes`.",
    ),
    key(
        "local.retention.ms",
        Kind::Long { min: -2 },
        "With tiered storage, how long segments stay on local disk; -2 means `retention.ms`.",
    ),
    key(
        "max.compaction.lag.ms",
        Kind::Long { min: 1 },
        "The longest a record may stay uncompacted in a compacted topic.",
    ),
    key(
        "max.message.bytes",
        Kind::Int { min: 0, max: INT_MAX },
        "The largest record batch the topic accepts, after compression.",
    ),
    key(
        "message.timestamp.after.max.ms",
        Kind::Long { min: 0 },
        "How far in the future a `CreateTime` timestamp may be before the record is rejected.",
    ),
    key(
        "message.timestamp.before.max.ms",
        Kind::Long { min: 0 },
        "How far in the past a `CreateTime` timestamp may be before the record is rejected.",
    ),
    key(
        "message.timestamp.type",
        Kind::Enum(&["CreateTime", "LogAppendTime"]),
        "Whether a record's timestamp is the producer's (`CreateTime`) or the broker's (`LogAppendTime`).",
    ),
    key(
        "min.cleanable.dirty.ratio",
        Kind::Double { min: 0.0, max: 1.0 },
        "The share of uncompacted log, 0 to 1, above which the cleaner compacts the topic.",
    ),
    key(
        "min.compaction.lag.ms",
        Kind::Long { min: 0 },
        "The least time a record stays uncompacted in a compacted topic.",
    ),
    key(
        "min.insync.replicas",
        Kind::Int { min: 1, max: INT_MAX },
        "Replicas that must acknowledge an `acks=all` write; at most the topic's `replication_factor`.",
    ),
    key("preallocate", Kind::Bool, "Preallocate each new segment file on disk."),
    key(
        "remote.log.copy.disable",
        Kind::Bool,
        "With tiered storage, stop copying segments to remote storage and keep the remote data read-only (Kafka 3.9+).",
    ),
    key(
        "remote.log.delete.on.disable",
        Kind::Bool,
        "Delete the remote data when tiered storage is turned off for the topic (Kafka 3.9+).",
    ),
    key(
        "remote.storage.enable",
        Kind::Bool,
        "Move old segments to tiered (remote) storage; the cluster must have it enabled.",
    ),
    key(
        "retention.bytes",
        Kind::Long { min: -1 },
        "The most bytes kept per partition before old segments are deleted; -1 means no limit.",
    ),
    key(
        "retention.ms",
        Kind::Long { min: -1 },
        "How long records are kept before old segments are deleted; -1 means forever.",
    ),
    key(
        "segment.bytes",
        Kind::Int { min: 1_048_576, max: INT_MAX },
        "Size of one segment file; at least 1MiB since Kafka 4.0.",
    ),
    key(
        "segment.index.bytes",
        Kind::Int { min: 4, max: INT_MAX },
        "Size of the offset index preallocated for each segment.",
    ),
    key(
        "segment.jitter.ms",
        Kind::Long { min: 0 },
        "Random jitter subtracted from `segment.ms` so that segments do not all roll at once.",
    ),
    key("segment.ms", Kind::Long { min: 1 }, "Roll a new segment after this time even if the current one is not full."),
    key(
        "unclean.leader.election.enable",
        Kind::Bool,
        "Allow an out-of-sync replica to become leader as a last resort, at the cost of losing data.",
    ),
];

/// Topic configs Kafka 4.0 removed, with what to do instead: a 4.x broker rejects them.
pub const REMOVED: &[(&str, &str)] = &[
    ("message.downconversion.enable", "Kafka 4.0 no longer converts records for old consumers; remove it"),
    ("message.format.version", "every broker since Kafka 3.0 writes the v2 format; remove it"),
    (
        "message.timestamp.difference.max.ms",
        "use `message.timestamp.before.max.ms` and `message.timestamp.after.max.ms` instead",
    ),
];

const fn key(name: &'static str, kind: Kind, doc: &'static str) -> ConfigKey {
    ConfigKey { name, kind, doc }
}

/// The config named `name`, if Kafka has it.
pub fn find(name: &str) -> Option<&'static ConfigKey> {
    KEYS.iter().find(|key| key.name == name)
}

/// What to do instead of a config Kafka 4.0 removed; `None` for any other name.
pub fn removed(name: &str) -> Option<&'static str> {
    REMOVED.iter().find(|(removed, _)| *removed == name).map(|(_, advice)| *advice)
}

/// Why a config value was rejected; the caller adds where and which key.
#[derive(Debug, thiserror::Error)]
pub enum ConfigValueError {
    #[error("must be {expected}, found {found}")]
    WrongType { expected: String, found: String },
    #[error("is {value}, below its minimum `{min}`; set `{min}` or more")]
    BelowMinimum { value: String, min: String },
    #[error("is {value}, above its maximum `{max}`; set `{max}` or less")]
    AboveMaximum { value: String, max: String },
    #[error("does not accept `{value}`{hint}; use one of {allowed}")]
    NotAllowed { value: String, hint: DidYouMean, allowed: String },
    #[error("lists `{value}` twice; list it once")]
    Repeated { value: String },
    #[error("is empty; list at least one of {allowed}")]
    Empty { allowed: String },
    #[error("is `{text}`, which is not a whole number of bytes; use a smaller unit")]
    FractionalBytes { text: String },
}

/// Duration units of `*.ms` values and their length in milliseconds.
const DURATION_UNITS: &[(&str, u128)] =
    &[("ms", 1), ("s", 1_000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000), ("w", 604_800_000)];

/// Size units of `*.bytes` values and their size in bytes.
const SIZE_UNITS: &[(&str, u128)] = &[
    ("B", 1),
    ("KB", 1_000),
    ("MB", 1_000_000),
    ("GB", 1_000_000_000),
    ("TB", 1_000_000_000_000),
    ("PB", 1_000_000_000_000_000),
    ("KiB", 1 << 10),
    ("MiB", 1 << 20),
    ("GiB", 1 << 30),
    ("TiB", 1 << 40),
    ("PiB", 1 << 50),
];

/// What a whole-number config measures, from its name: Kafka's convention is a `.ms` or `.bytes`
/// suffix, which is what lets us accept `7d` and `1GiB` there and nowhere else.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Unit {
    Milliseconds,
    Bytes,
    Count,
}

impl ConfigKey {
    fn unit(&self) -> Unit {
        if self.name.ends_with(".ms") {
            Unit::Milliseconds
        } else if self.name.ends_with(".bytes") {
            Unit::Bytes
        } else {
            Unit::Count
        }
    }

    /// The exact string Kafka receives for `value`: whole numbers in decimal (durations and sizes
    /// converted), ratios as the shortest decimal, booleans `true`/`false`, lists comma-separated
    /// in the order written.
    pub fn kafka_value(&self, value: &Node) -> Result<String, ConfigValueError> {
        match self.kind {
            Kind::Long { min } => self.whole_number(value, min, i64::MAX).map(|number| number.to_string()),
            Kind::Int { min, max } => self.whole_number(value, min, max).map(|number| number.to_string()),
            Kind::Double { min, max } => self.ratio(value, min, max).map(|number| number.to_string()),
            Kind::Bool => self.boolean(value).map(|flag| flag.to_string()),
            Kind::Enum(allowed) => self.one_of(value, allowed),
            Kind::List(allowed) => self.subset(value, allowed),
            Kind::ReplicaList => self.replicas(value),
        }
    }

    /// "a whole number of milliseconds or a duration such as `7d`", … for "must be X" messages.
    fn expected(&self) -> String {
        match self.kind {
            Kind::Long { .. } | Kind::Int { .. } => match self.unit() {
                Unit::Milliseconds => {
                    "a whole number of milliseconds or a duration such as `7d`, `12h` or `1h 30m`".to_string()
                }
                Unit::Bytes => "a whole number of bytes or a size such as `1GiB` or `512MiB`".to_string(),
                Unit::Count => "a whole number".to_string(),
            },
            Kind::Double { .. } => "a number".to_string(),
            Kind::Bool => "`true` or `false`".to_string(),
            Kind::Enum(allowed) => format!("one of {}", quoted_list(allowed)),
            Kind::List(allowed) => format!("a list or a comma-separated string of {}", quoted_list(allowed)),
            Kind::ReplicaList => "`*` or `partition:broker` pairs such as `0:101,1:102`".to_string(),
        }
    }

    fn wrong_type(&self, value: &Node) -> ConfigValueError {
        ConfigValueError::WrongType { expected: self.expected(), found: value.describe() }
    }

    fn whole_number(&self, value: &Node, min: i64, max: i64) -> Result<i64, ConfigValueError> {
        let (number, shown) = match &value.value {
            Value::Integer(number) => (i128::from(*number), format!("`{number}`")),
            Value::String(text) => match self.parse_whole_number(text) {
                None => return Err(self.wrong_type(value)),
                Some(Quantity::TooLarge) => return Err(too_large(&format!("`{text}`"), max)),
                Some(Quantity::Fractional) => return Err(ConfigValueError::FractionalBytes { text: text.clone() }),
                Some(Quantity::Whole(number)) if is_integer(text) => (number, format!("`{text}`")),
                Some(Quantity::Whole(number)) => (number, format!("`{text}` ({number})")),
            },
            _ => return Err(self.wrong_type(value)),
        };
        if number < i128::from(min) {
            return Err(ConfigValueError::BelowMinimum { value: shown, min: min.to_string() });
        }
        if number > i128::from(max) {
            return Err(too_large(&shown, max));
        }
        i64::try_from(number).map_err(|_| too_large(&shown, max))
    }

    /// A quoted number, or a duration or size where the key measures one; `None` when `text` is
    /// none of these.
    fn parse_whole_number(&self, text: &str) -> Option<Quantity> {
        if is_integer(text) {
            return Some(text.parse::<i128>().map_or(Quantity::TooLarge, Quantity::Whole));
        }
        match self.unit() {
            Unit::Milliseconds => parse_duration_ms(text),
            Unit::Bytes => parse_size_bytes(text),
            Unit::Count => None,
        }
    }

    fn ratio(&self, value: &Node, min: f64, max: f64) -> Result<f64, ConfigValueError> {
        let number = match &value.value {
            Value::Integer(number) => *number as f64,
            Value::Float(number) if number.is_finite() => *number,
            Value::String(text) if is_decimal(text) => text.parse::<f64>().map_err(|_| self.wrong_type(value))?,
            _ => return Err(self.wrong_type(value)),
        };
        if number < min {
            return Err(ConfigValueError::BelowMinimum { value: format!("`{number}`"), min: min.to_string() });
        }
        if number > max {
            return Err(ConfigValueError::AboveMaximum { value: format!("`{number}`"), max: max.to_string() });
        }
        Ok(number)
    }

    fn boolean(&self, value: &Node) -> Result<bool, ConfigValueError> {
        match &value.value {
            Value::Bool(flag) => Ok(*flag),
            Value::String(text) if text == "true" => Ok(true),
            Value::String(text) if text == "false" => Ok(false),
            _ => Err(self.wrong_type(value)),
        }
    }

    fn one_of(&self, value: &Node, allowed: &[&str]) -> Result<String, ConfigValueError> {
        let Value::String(text) = &value.value else { return Err(self.wrong_type(value)) };
        check_allowed(text, allowed)?;
        Ok(text.clone())
    }

    fn subset(&self, value: &Node, allowed: &[&str]) -> Result<String, ConfigValueError> {
        let items = self.items(value)?;
        if items.is_empty() {
            return Err(ConfigValueError::Empty { allowed: quoted_list(allowed) });
        }
        for (index, item) in items.iter().enumerate() {
            check_allowed(item, allowed)?;
            if items[..index].contains(item) {
                return Err(ConfigValueError::Repeated { value: item.clone() });
            }
        }
        Ok(items.join(","))
    }

    /// Kafka's throttled-replica syntax: the wildcard alone, or `partition:broker` pairs.
    fn replicas(&self, value: &Node) -> Result<String, ConfigValueError> {
        let items = self.items(value)?;
        let wildcard = items.len() == 1 && items[0] == "*";
        if items.is_empty() || !(wildcard || items.iter().all(|item| is_replica(item))) {
            return Err(self.wrong_type(value));
        }
        Ok(items.join(","))
    }

    /// The entries of a list value written as a YAML list or as one comma-separated string,
    /// each trimmed as Kafka trims them.
    fn items(&self, value: &Node) -> Result<Vec<String>, ConfigValueError> {
        match &value.value {
            Value::String(text) if text.trim().is_empty() => Ok(Vec::new()),
            Value::String(text) => Ok(text.split(',').map(|item| item.trim().to_string()).collect()),
            Value::Seq(nodes) => nodes
                .iter()
                .map(|node| match &node.value {
                    Value::String(text) => Ok(text.trim().to_string()),
                    _ => Err(self.wrong_type(node)),
                })
                .collect(),
            _ => Err(self.wrong_type(value)),
        }
    }

    /// The JSON Schema of this config's value: accepts what [`ConfigKey::kafka_value`] accepts
    /// (lists are checked for repeats only by the checks).
    pub fn json_schema(&self) -> Json {
        let mut schema = match self.kind {
            Kind::Long { min } => self.whole_number_schema(json!({ "type": "integer", "minimum": min })),
            Kind::Int { min, max } => {
                self.whole_number_schema(json!({ "type": "integer", "minimum": min, "maximum": max }))
            }
            Kind::Double { min, max } => json!({ "anyOf": [
                { "type": "number", "minimum": min, "maximum": max },
                { "type": "string", "pattern": DECIMAL_PATTERN },
            ] }),
            Kind::Bool => json!({ "anyOf": [{ "type": "boolean" }, { "type": "string", "enum": ["true", "false"] }] }),
            Kind::Enum(allowed) => json!({ "type": "string", "enum": allowed }),
            Kind::List(allowed) => json!({ "anyOf": [
                { "type": "string", "pattern": csv_pattern(&alternatives(allowed)) },
                { "type": "array", "items": { "enum": allowed }, "minItems": 1, "uniqueItems": true },
            ] }),
            Kind::ReplicaList => json!({ "anyOf": [
                { "type": "string", "pattern": format!("^ *\\* *$|{}", csv_pattern(REPLICA)) },
                { "type": "array", "items": { "type": "string", "pattern": format!("^ *{REPLICA} *$") }, "minItems": 1 },
                { "type": "array", "items": { "const": "*" }, "minItems": 1, "maxItems": 1 },
            ] }),
        };
        schema["description"] = Json::from(self.doc);
        schema
    }

    fn whole_number_schema(&self, number: Json) -> Json {
        let mut accepted = vec![number, json!({ "type": "string", "pattern": INTEGER_PATTERN })];
        match self.unit() {
            Unit::Milliseconds => accepted.push(json!({ "type": "string", "pattern": duration_pattern() })),
            Unit::Bytes => accepted.push(json!({ "type": "string", "pattern": size_pattern() })),
            Unit::Count => {}
        }
        json!({ "anyOf": accepted })
    }
}

/// A quoted whole number, as [`is_integer`] accepts it.
const INTEGER_PATTERN: &str = "^-?[0-9]+$";
/// A quoted number, as [`is_decimal`] accepts it.
const DECIMAL_PATTERN: &str = "^-?[0-9]+(\\.[0-9]+)?$";
/// One `partition:broker` pair, as [`is_replica`] accepts it.
const REPLICA: &str = "[0-9]+:[0-9]+";

fn is_integer(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    !digits.is_empty() && digits.bytes().all(|byte| byte.is_ascii_digit())
}

fn is_decimal(text: &str) -> bool {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, "0"));
    is_integer(whole) && !fraction.is_empty() && fraction.bytes().all(|byte| byte.is_ascii_digit())
}

fn is_replica(text: &str) -> bool {
    let all_digits = |part: &str| !part.is_empty() && part.bytes().all(|byte| byte.is_ascii_digit());
    text.split_once(':').is_some_and(|(partition, broker)| all_digits(partition) && all_digits(broker))
}

/// The result of reading a whole number, a duration or a size.
#[derive(Debug, PartialEq, Eq)]
enum Quantity {
    Whole(i128),
    /// A size whose fraction does not come out as a whole number of bytes.
    Fractional,
    TooLarge,
}

/// `7d`, `12h`, `1h 30m`: whole numbers each followed by a unit, optionally one space apart.
/// `None` when `text` is not written that way; the schema's [`duration_pattern`] is the same grammar.
fn parse_duration_ms(text: &str) -> Option<Quantity> {
    let mut total: Option<u128> = Some(0);
    let mut rest = text;
    loop {
        let (digits, after_digits) = split_while(rest, |byte| byte.is_ascii_digit());
        let (unit, after_unit) = split_while(after_digits, |byte| byte.is_ascii_alphabetic());
        if digits.is_empty() {
            return None;
        }
        let factor = unit_factor(DURATION_UNITS, unit)?;
        let amount = digits.parse::<u128>().ok().and_then(|amount| amount.checked_mul(factor));
        total = total.zip(amount).and_then(|(total, amount)| total.checked_add(amount));
        if after_unit.is_empty() {
            return Some(quantity(total));
        }
        rest = after_unit.strip_prefix(' ').unwrap_or(after_unit);
    }
}

/// `1GiB`, `512 MiB`, `1.5GB`: a number, an optional space and a unit. `None` when `text` is not
/// written that way; the schema's [`size_pattern`] is the same grammar.
fn parse_size_bytes(text: &str) -> Option<Quantity> {
    let (whole, rest) = split_while(text, |byte| byte.is_ascii_digit());
    let (fraction, rest) = match rest.strip_prefix('.') {
        Some(after_point) => split_while(after_point, |byte| byte.is_ascii_digit()),
        None => ("", rest),
    };
    let has_point = whole.len() + fraction.len() < text.len() - rest.len();
    if whole.is_empty() || (has_point && fraction.is_empty()) {
        return None;
    }
    let unit = rest.strip_prefix(' ').unwrap_or(rest);
    let factor = unit_factor(SIZE_UNITS, unit)?;
    // `1.5GiB` is 15 × 1GiB / 10: exact in integers, and whole only if the division leaves nothing.
    let scale = u32::try_from(fraction.len()).ok().and_then(|digits| 10u128.checked_pow(digits));
    let scaled = format!("{whole}{fraction}").parse::<u128>().ok();
    let Some((scaled, scale)) = scaled.and_then(|scaled| scaled.checked_mul(factor)).zip(scale) else {
        return Some(Quantity::TooLarge);
    };
    Some(if scaled % scale == 0 { quantity(Some(scaled / scale)) } else { Quantity::Fractional })
}

/// A computed amount, `None` when it overflowed.
fn quantity(amount: Option<u128>) -> Quantity {
    amount.and_then(|amount| i128::try_from(amount).ok()).map_or(Quantity::TooLarge, Quantity::Whole)
}

fn split_while(text: &str, accept: impl Fn(u8) -> bool) -> (&str, &str) {
    let end = text.bytes().position(|byte| !accept(byte)).unwrap_or(text.len());
    text.split_at(end)
}

fn unit_factor(units: &[(&str, u128)], unit: &str) -> Option<u128> {
    units.iter().find(|(name, _)| *name == unit).map(|(_, factor)| *factor)
}

fn alternatives(units: &[&str]) -> String {
    units.join("|")
}

fn unit_names(units: &[(&'static str, u128)]) -> Vec<&'static str> {
    units.iter().map(|(name, _)| *name).collect()
}

fn duration_pattern() -> String {
    let units = alternatives(&unit_names(DURATION_UNITS));
    format!("^[0-9]+({units})( ?[0-9]+({units}))*$")
}

fn size_pattern() -> String {
    format!("^[0-9]+(\\.[0-9]+)? ?({})$", alternatives(&unit_names(SIZE_UNITS)))
}

/// A comma-separated list of `item` (a regex), spaces allowed around each entry.
fn csv_pattern(item: &str) -> String {
    format!("^ *({item}) *(, *({item}) *)*$")
}

fn check_allowed(value: &str, allowed: &[&str]) -> Result<(), ConfigValueError> {
    if allowed.contains(&value) {
        return Ok(());
    }
    Err(ConfigValueError::NotAllowed {
        value: value.to_string(),
        hint: DidYouMean::find(value, allowed.iter().copied()),
        allowed: quoted_list(allowed),
    })
}

fn too_large(shown: &str, max: i64) -> ConfigValueError {
    ConfigValueError::AboveMaximum { value: shown.to_string(), max: max.to_string() }
}

fn quoted_list(items: &[&str]) -> String {
    items.iter().map(|item| format!("`{item}`")).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Location;

    fn node(value: Value) -> Node {
        Node { value, at: Location::at("t.yml", 1, 1) }
    }

    fn string(text: &str) -> Node {
        node(Value::String(text.to_string()))
    }

    fn value_of(name: &str, value: Node) -> Result<String, String> {
        let key = find(name).unwrap_or_else(|| panic!("no config `{name}`"));
        key.kafka_value(&value).map_err(|error| error.to_string())
    }

    #[test]
    fn keys_are_sorted_unique_and_documented() {
        let names: Vec<&str> = KEYS.iter().map(|key| key.name).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(names, sorted);
        assert!(KEYS.iter().all(|key| !key.doc.is_empty()));
        assert!(REMOVED.iter().all(|(name, _)| find(name).is_none()));
    }

    #[test]
    fn durations_become_exact_milliseconds() {
        assert_eq!(value_of("retention.ms", string("7d")), Ok("604800000".into()));
        assert_eq!(value_of("retention.ms", string("12h")), Ok("43200000".into()));
        assert_eq!(value_of("retention.ms", string("30m")), Ok("1800000".into()));
        assert_eq!(value_of("retention.ms", string("1h 30m")), Ok("5400000".into()));
        assert_eq!(value_of("retention.ms", string("1h30m")), Ok("5400000".into()));
        assert_eq!(value_of("segment.ms", string("2w")), Ok("1209600000".into()));
        assert_eq!(value_of("flush.ms", string("1500ms")), Ok("1500".into()));
    }

    #[test]
    fn durations_outside_the_grammar_are_rejected() {
        for text in ["7 d", "7days", "1.5h", "1M", "7d ", "", "d", "1h  30m", "10us"] {
            assert_eq!(parse_duration_ms(text), None, "{text:?}");
        }
        let error = value_of("retention.ms", string("7 days")).unwrap_err();
        assert_eq!(
            error,
            "must be a whole number of milliseconds or a duration such as `7d`, `12h` or `1h 30m`, found string `7 days`"
        );
    }

    #[test]
    fn sizes_become_exact_bytes() {
        assert_eq!(value_of("retention.bytes", string("1GiB")), Ok("1073741824".into()));
        assert_eq!(value_of("retention.bytes", string("512MiB")), Ok("536870912".into()));
        assert_eq!(value_of("retention.bytes", string("1GB")), Ok("1000000000".into()));
        assert_eq!(value_of("retention.bytes", string("1.5 GiB")), Ok("1610612736".into()));
        assert_eq!(value_of("max.message.bytes", string("100B")), Ok("100".into()));
    }

    #[test]
    fn sizes_that_are_not_whole_bytes_are_rejected() {
        assert_eq!(parse_size_bytes("1.5B"), Some(Quantity::Fractional));
        for text in ["1gib", "1 G", "1.GiB", ".5GiB", "1GiB ", "1  GiB", "GiB", "1e3B"] {
            assert_eq!(parse_size_bytes(text), None, "{text:?}");
        }
        assert_eq!(
            value_of("retention.bytes", string("1.5B")),
            Err("is `1.5B`, which is not a whole number of bytes; use a smaller unit".into())
        );
    }

    #[test]
    fn sizes_are_not_durations_and_durations_are_not_sizes() {
        assert!(value_of("retention.ms", string("1GiB")).is_err());
        assert!(value_of("retention.bytes", string("7d")).is_err());
        assert!(value_of("min.insync.replicas", string("7d")).is_err());
    }

    #[test]
    fn quoted_numbers_are_numbers() {
        assert_eq!(value_of("retention.ms", string("604800000")), Ok("604800000".into()));
        assert_eq!(value_of("retention.ms", string("-1")), Ok("-1".into()));
        assert_eq!(value_of("min.insync.replicas", string("2")), Ok("2".into()));
        assert_eq!(value_of("min.cleanable.dirty.ratio", string("0.25")), Ok("0.25".into()));
        assert!(value_of("min.insync.replicas", string("2.0")).is_err());
        assert!(value_of("min.insync.replicas", string("+2")).is_err());
    }

    #[test]
    fn whole_numbers_respect_their_bounds() {
        assert_eq!(
            value_of("retention.ms", node(Value::Integer(-2))),
            Err("is `-2`, below its minimum `-1`; set `-1` or more".into())
        );
        assert_eq!(value_of("local.retention.ms", node(Value::Integer(-2))), Ok("-2".into()));
        assert_eq!(
            value_of("segment.bytes", string("3GiB")),
            Err("is `3GiB` (3221225472), above its maximum `2147483647`; set `2147483647` or less".into())
        );
        assert_eq!(
            value_of("segment.bytes", node(Value::Integer(14))),
            Err("is `14`, below its minimum `1048576`; set `1048576` or more".into())
        );
        assert!(value_of("retention.ms", string("99999999999999999999999")).unwrap_err().contains("above its maximum"));
        assert!(value_of("retention.ms", string("100000000000w")).unwrap_err().contains("above its maximum"));
    }

    #[test]
    fn whole_numbers_reject_fractions_and_other_types() {
        assert_eq!(
            value_of("min.insync.replicas", node(Value::Float(1.5))),
            Err("must be a whole number, found `1.5`".into())
        );
        assert!(value_of("retention.ms", node(Value::Bool(true))).is_err());
    }

    #[test]
    fn ratios_stay_within_zero_and_one() {
        assert_eq!(value_of("min.cleanable.dirty.ratio", node(Value::Float(0.5))), Ok("0.5".into()));
        assert_eq!(value_of("min.cleanable.dirty.ratio", node(Value::Integer(1))), Ok("1".into()));
        assert_eq!(
            value_of("min.cleanable.dirty.ratio", node(Value::Float(1.5))),
            Err("is `1.5`, above its maximum `1`; set `1` or less".into())
        );
        assert!(value_of("min.cleanable.dirty.ratio", node(Value::Float(f64::NAN))).is_err());
    }

    #[test]
    fn booleans_accept_true_and_false_also_quoted() {
        assert_eq!(value_of("preallocate", node(Value::Bool(true))), Ok("true".into()));
        assert_eq!(value_of("preallocate", string("false")), Ok("false".into()));
        assert_eq!(value_of("preallocate", string("yes")), Err("must be `true` or `false`, found string `yes`".into()));
    }

    #[test]
    fn enums_accept_only_their_values() {
        assert_eq!(value_of("compression.type", string("zstd")), Ok("zstd".into()));
        assert_eq!(
            value_of("compression.type", string("lz5")),
            Err("does not accept `lz5` (did you mean `lz4`?); use one of `uncompressed`, `zstd`, `lz4`, `snappy`, `gzip`, `producer`".into())
        );
        assert!(value_of("message.timestamp.type", string("createtime")).is_err());
        assert_eq!(value_of("message.timestamp.type", string("LogAppendTime")), Ok("LogAppendTime".into()));
    }

    #[test]
    fn cleanup_policy_is_a_list_or_a_comma_separated_string() {
        let list = node(Value::Seq(vec![string("compact"), string("delete")]));
        assert_eq!(value_of("cleanup.policy", list), Ok("compact,delete".into()));
        assert_eq!(value_of("cleanup.policy", string("delete, compact")), Ok("delete,compact".into()));
        assert_eq!(value_of("cleanup.policy", string("compact")), Ok("compact".into()));
    }

    #[test]
    fn cleanup_policy_rejects_repeats_unknowns_and_nothing() {
        assert_eq!(
            value_of("cleanup.policy", string("compact,compact")),
            Err("lists `compact` twice; list it once".into())
        );
        assert!(value_of("cleanup.policy", string("compact,dlete")).unwrap_err().contains("did you mean `delete`?"));
        assert_eq!(
            value_of("cleanup.policy", node(Value::Seq(Vec::new()))),
            Err("is empty; list at least one of `compact`, `delete`".into())
        );
        assert!(value_of("cleanup.policy", node(Value::Seq(vec![node(Value::Integer(1))]))).is_err());
    }

    #[test]
    fn throttled_replicas_are_a_wildcard_or_pairs() {
        let name = "leader.replication.throttled.replicas";
        assert_eq!(value_of(name, string("*")), Ok("*".into()));
        assert_eq!(value_of(name, string("0:101, 1:102")), Ok("0:101,1:102".into()));
        assert_eq!(value_of(name, node(Value::Seq(vec![string("0:101")]))), Ok("0:101".into()));
        assert!(value_of(name, string("*,0:101")).is_err());
        assert!(value_of(name, string("0-101")).is_err());
    }

    #[test]
    fn removed_configs_say_what_to_do() {
        assert!(removed("message.format.version").is_some_and(|advice| advice.contains("remove it")));
        assert_eq!(removed("retention.ms"), None);
    }

    #[test]
    fn schema_of_each_key_carries_its_doc() {
        for key in KEYS {
            assert_eq!(key.json_schema()["description"], key.doc, "{}", key.name);
        }
    }

    #[test]
    fn schema_offers_durations_only_for_ms_and_sizes_only_for_bytes() {
        let patterns = |name: &str| -> Vec<Json> {
            let schema = find(name).map(ConfigKey::json_schema).unwrap_or_default();
            schema["anyOf"].as_array().into_iter().flatten().map(|choice| choice["pattern"].clone()).collect()
        };
        assert_eq!(patterns("retention.ms"), [Json::Null, json!(INTEGER_PATTERN), json!(duration_pattern())]);
        assert_eq!(patterns("retention.bytes"), [Json::Null, json!(INTEGER_PATTERN), json!(size_pattern())]);
        assert_eq!(patterns("flush.messages"), [Json::Null, json!(INTEGER_PATTERN)]);
        assert_eq!(duration_pattern(), "^[0-9]+(ms|s|m|h|d|w)( ?[0-9]+(ms|s|m|h|d|w))*$");
    }
}
