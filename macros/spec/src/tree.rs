//! A YAML or JSON document as a tree in which every node knows its line and column.
//!
//! serde would stop at the first problem and forget positions once parsed; the checks instead
//! walk this tree, so that every problem of a file is reported in one build, each at its exact
//! `path:line:column`. Duplicate keys are caught while the tree is built, and [`Map::check_keys`]
//! is the one place that rejects unknown keys (with a "did you mean").

use std::collections::HashMap;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use crate::diag::{DidYouMean, Location, Problems};

/// One value of a document and where it starts.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub value: Value,
    pub at: Location,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Integer(i64),
    Float(f64),
    String(String),
    Seq(Vec<Node>),
    Map(Map),
}

/// A mapping in source order; keys are unique (a duplicate is reported and dropped).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Map {
    pub entries: Vec<Entry>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub key: String,
    pub key_at: Location,
    pub value: Node,
}

#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    #[error("{at}: invalid YAML: {message}")]
    Yaml { at: Location, message: String },
    #[error("{at}: invalid JSON: {message}")]
    Json { at: Location, message: String },
    #[error("{at}: duplicate key `{key}` (first set at {first}); keep one of them")]
    DuplicateKey { at: Location, key: String, first: Location },
    #[error("{at}: a key must be a string, found {found}")]
    NonStringKey { at: Location, found: &'static str },
    #[error("{at}: unknown key `{key}` in {context}{hint}; allowed keys: {allowed}")]
    UnknownKey { at: Location, key: String, context: String, hint: DidYouMean, allowed: String },
    #[error("{at}: {context} has no `{key}`; add it")]
    MissingKey { at: Location, key: &'static str, context: String },
    #[error("{at}: {what} must be {expected}, found {found}")]
    WrongType { at: Location, what: String, expected: &'static str, found: String },
}

impl Node {
    /// "a string", "a list", … as used in "must be X, found Y" messages.
    pub fn kind_name(&self) -> &'static str {
        match &self.value {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Integer(_) | Value::Float(_) => "a number",
            Value::String(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }

    /// What the node holds, for messages: the scalar itself, or its kind for lists and mappings.
    pub fn describe(&self) -> String {
        match &self.value {
            Value::Null => "null".to_string(),
            Value::Bool(value) => format!("`{value}`"),
            Value::Integer(value) => format!("`{value}`"),
            Value::Float(value) => format!("`{value}`"),
            Value::String(value) => format!("string `{value}`"),
            Value::Seq(_) | Value::Map(_) => self.kind_name().to_string(),
        }
    }

    /// Reports that `what` must be `expected` and returns `None`, for use in the typed getters.
    pub fn wrong_type<T>(&self, what: &str, expected: &'static str, problems: &mut Problems) -> Option<T> {
        problems.push(DocumentError::WrongType {
            at: self.at.clone(),
            what: what.to_string(),
            expected,
            found: self.describe(),
        });
        None
    }

    /// The node as plain JSON, positions dropped: lets a test check a YAML document against a
    /// JSON Schema.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as Json;
        match &self.value {
            Value::Null => Json::Null,
            Value::Bool(value) => Json::Bool(*value),
            Value::Integer(value) => Json::from(*value),
            Value::Float(value) => serde_json::Number::from_f64(*value).map_or(Json::Null, Json::Number),
            Value::String(value) => Json::String(value.clone()),
            Value::Seq(items) => Json::Array(items.iter().map(Node::to_json).collect()),
            Value::Map(map) => {
                Json::Object(map.entries.iter().map(|entry| (entry.key.clone(), entry.value.to_json())).collect())
            }
        }
    }

    pub fn expect_map(&self, what: &str, problems: &mut Problems) -> Option<&Map> {
        match &self.value {
            Value::Map(map) => Some(map),
            _ => self.wrong_type(what, "a mapping", problems),
        }
    }

    pub fn expect_seq(&self, what: &str, problems: &mut Problems) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(items) => Some(items),
            _ => self.wrong_type(what, "a list", problems),
        }
    }

    pub fn expect_str(&self, what: &str, problems: &mut Problems) -> Option<&str> {
        match &self.value {
            Value::String(text) => Some(text),
            _ => self.wrong_type(what, "a string", problems),
        }
    }

    pub fn expect_bool(&self, what: &str, problems: &mut Problems) -> Option<bool> {
        match &self.value {
            Value::Bool(value) => Some(*value),
            _ => self.wrong_type(what, "`true` or `false`", problems),
        }
    }

    /// A whole number; a float with no fractional part (`3.0`) is not accepted.
    pub fn expect_integer(&self, what: &str, problems: &mut Problems) -> Option<i64> {
        match &self.value {
            Value::Integer(value) => Some(*value),
            _ => self.wrong_type(what, "a whole number", problems),
        }
    }

    /// Any number; integers widen to `f64`.
    pub fn expect_number(&self, what: &str, problems: &mut Problems) -> Option<f64> {
        match &self.value {
            Value::Integer(value) => Some(*value as f64),
            Value::Float(value) => Some(*value),
            _ => self.wrong_type(what, "a number", problems),
        }
    }
}

impl Map {
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entries.iter().find(|entry| entry.key == key).map(|entry| &entry.value)
    }

    /// Reports every key not in `allowed`, with a "did you mean" for near misses. `context` names
    /// the mapping in messages ("topic `market.ticks`", "`defaults`").
    pub fn check_keys(&self, allowed: &[&str], context: &str, problems: &mut Problems) {
        for entry in &self.entries {
            if !allowed.contains(&entry.key.as_str()) {
                problems.push(DocumentError::UnknownKey {
                    at: entry.key_at.clone(),
                    key: entry.key.clone(),
                    context: context.to_string(),
                    hint: DidYouMean::find(&entry.key, allowed.iter().copied()),
                    allowed: allowed.iter().map(|key| format!("`{key}`")).collect::<Vec<_>>().join(", "),
                });
            }
        }
    }

    /// The allowed keys that an unknown key of this mapping is a near miss of (`partitons` for
    /// `partitions`). Such a key should not be reported missing as well: its unknown-key error
    /// already names it, and one typo is one error.
    pub fn misspelt<'k>(&self, allowed: &[&'k str]) -> Vec<&'k str> {
        self.entries
            .iter()
            .filter(|entry| !allowed.contains(&entry.key.as_str()))
            .filter_map(|entry| {
                let hint = DidYouMean::find(&entry.key, allowed.iter().copied()).0?;
                allowed.iter().copied().find(|key| *key == hint)
            })
            .collect()
    }

    /// The value of a key that must be present; `at` is where the mapping starts.
    pub fn require(&self, key: &'static str, context: &str, at: &Location, problems: &mut Problems) -> Option<&Node> {
        let node = self.get(key);
        if node.is_none() {
            problems.push(DocumentError::MissingKey { at: at.clone(), key, context: context.to_string() });
        }
        node
    }
}

/// Byte offset → 1-based line and column (in characters), for parsers that report offsets.
pub struct LineIndex<'a> {
    text: &'a str,
    line_starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    pub fn new(text: &'a str) -> Self {
        let line_starts = std::iter::once(0).chain(text.match_indices('\n').map(|(offset, _)| offset + 1)).collect();
        LineIndex { text, line_starts }
    }

    pub fn location(&self, path: &str, offset: usize) -> Location {
        let offset = offset.min(self.text.len());
        let line = self.line_starts.partition_point(|start| *start <= offset) - 1;
        let line_start = self.line_starts[line];
        let column = self.text.get(line_start..offset).map_or(offset - line_start, |prefix| prefix.chars().count());
        Location::at(path, line as u32 + 1, column as u32 + 1)
    }
}

/// Parses a YAML document (the first one of the stream). `None` when it is not valid YAML; the
/// reason is in `problems`. An empty document is `Null`.
pub fn parse_yaml(path: &str, text: &str, problems: &mut Problems) -> Option<Node> {
    let mut builder = YamlBuilder { path, stack: Vec::new(), anchors: HashMap::new(), root: None, problems };
    let mut parser = Parser::new_from_str(text);
    if let Err(error) = parser.load(&mut builder, false) {
        let marker = error.marker();
        let at = yaml_location(path, marker);
        builder.problems.push(DocumentError::Yaml { at, message: error.info().to_string() });
        return None;
    }
    Some(builder.root.unwrap_or(Node { value: Value::Null, at: Location::at(path, 1, 1) }))
}

/// yaml-rust2's markers have 1-based lines but 0-based columns.
fn yaml_location(path: &str, marker: &Marker) -> Location {
    Location::at(path, marker.line() as u32, marker.col() as u32 + 1)
}

enum Frame {
    Seq { at: Location, anchor: usize, items: Vec<Node> },
    Map { at: Location, anchor: usize, map: Map, pending_key: Option<(String, Location)> },
}

struct YamlBuilder<'a, 'p> {
    path: &'a str,
    stack: Vec<Frame>,
    anchors: HashMap<usize, Node>,
    root: Option<Node>,
    problems: &'p mut Problems,
}

impl YamlBuilder<'_, '_> {
    fn location(&self, marker: Marker) -> Location {
        yaml_location(self.path, &marker)
    }

    fn finish(&mut self, node: Node, anchor: usize) {
        if anchor > 0 {
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            None => {
                if self.root.is_none() {
                    self.root = Some(node);
                }
            }
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map { map, pending_key, .. }) => match pending_key.take() {
                None => {
                    let key = match node.value {
                        Value::String(key) => key,
                        Value::Integer(number) => number.to_string(),
                        Value::Float(number) => number.to_string(),
                        Value::Bool(value) => value.to_string(),
                        _ => {
                            let found = node.kind_name();
                            self.problems.push(DocumentError::NonStringKey { at: node.at.clone(), found });
                            String::new()
                        }
                    };
                    *pending_key = Some((key, node.at));
                }
                Some((key, key_at)) => insert_entry(map, Entry { key, key_at, value: node }, self.problems),
            },
        }
    }
}

/// Adds an entry unless its key is already there, which is reported instead (YAML and JSON
/// parsers would silently keep one of the two values).
fn insert_entry(map: &mut Map, entry: Entry, problems: &mut Problems) {
    if let Some(first) = map.entries.iter().find(|existing| existing.key == entry.key) {
        problems.push(DocumentError::DuplicateKey {
            at: entry.key_at.clone(),
            key: entry.key.clone(),
            first: first.key_at.clone(),
        });
        return;
    }
    map.entries.push(entry);
}

impl MarkedEventReceiver for YamlBuilder<'_, '_> {
    fn on_event(&mut self, event: Event, marker: Marker) {
        let at = self.location(marker);
        match event {
            Event::Scalar(text, style, anchor, _tag) => {
                let value = if style == TScalarStyle::Plain { resolve_plain(&text) } else { Value::String(text) };
                self.finish(Node { value, at }, anchor);
            }
            Event::SequenceStart(anchor, _tag) => self.stack.push(Frame::Seq { at, anchor, items: Vec::new() }),
            Event::MappingStart(anchor, _tag) => {
                self.stack.push(Frame::Map { at, anchor, map: Map::default(), pending_key: None })
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let (node, anchor) = match self.stack.pop() {
                    Some(Frame::Seq { at, anchor, items }) => (Node { value: Value::Seq(items), at }, anchor),
                    Some(Frame::Map { at, anchor, map, .. }) => {
                        // The parser marks a block mapping at its first `:`; its first key,
                        // which stands before that, is where a reader sees it start. A flow
                        // mapping is marked at its `{`, which is right already.
                        let at = match map.entries.first() {
                            Some(first) if first.key_at < at => first.key_at.clone(),
                            _ => at,
                        };
                        (Node { value: Value::Map(map), at }, anchor)
                    }
                    None => return,
                };
                self.finish(node, anchor);
            }
            Event::Alias(anchor) => {
                // An alias stands for a copy of what its anchor named; the copy keeps the
                // anchor's position, which is where the value was written.
                if let Some(node) = self.anchors.get(&anchor).cloned() {
                    self.finish(node, 0);
                }
            }
            Event::Nothing | Event::StreamStart | Event::StreamEnd | Event::DocumentStart | Event::DocumentEnd => {}
        }
    }
}

/// The YAML 1.2 core schema for unquoted scalars: null, booleans, integers and floats are
/// recognised by their spelling; anything else is a string (`7d`, `market.ticks`, `yes`).
fn resolve_plain(text: &str) -> Value {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => return Value::Float(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => return Value::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Value::Float(f64::NAN),
        _ => {}
    }
    if let Some(hex) = text.strip_prefix("0x") {
        if let Ok(value) = i64::from_str_radix(hex, 16) {
            return Value::Integer(value);
        }
    }
    if let Some(octal) = text.strip_prefix("0o") {
        if let Ok(value) = i64::from_str_radix(octal, 8) {
            return Value::Integer(value);
        }
    }
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if !digits.is_empty() && digits.bytes().all(|byte| byte.is_ascii_digit()) {
        if let Ok(value) = text.parse::<i64>() {
            return Value::Integer(value);
        }
    }
    if looks_like_float(digits) {
        if let Ok(value) = text.parse::<f64>() {
            return Value::Float(value);
        }
    }
    Value::String(text.to_string())
}

/// `[0-9]+(.[0-9]*)?([eE][-+]?[0-9]+)?` or `.[0-9]+…`: Rust's `parse::<f64>` alone would also
/// take `inf` and `NaN`, which YAML spells differently.
fn looks_like_float(digits: &str) -> bool {
    let (mantissa, exponent) = match digits.find(['e', 'E']) {
        Some(index) => (&digits[..index], Some(&digits[index + 1..])),
        None => (digits, None),
    };
    let mantissa_ok = {
        let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        (!whole.is_empty() || !fraction.is_empty())
            && whole.bytes().all(|byte| byte.is_ascii_digit())
            && fraction.bytes().all(|byte| byte.is_ascii_digit())
    };
    let exponent_ok = exponent.is_none_or(|exponent| {
        let exponent = exponent.strip_prefix(['-', '+']).unwrap_or(exponent);
        !exponent.is_empty() && exponent.bytes().all(|byte| byte.is_ascii_digit())
    });
    mantissa_ok && exponent_ok
}

/// Parses a strict JSON document (no comments, no trailing commas). `None` when it is not valid
/// JSON; the reason is in `problems`.
pub fn parse_json(path: &str, text: &str, problems: &mut Problems) -> Option<Node> {
    let lines = LineIndex::new(text);
    let strict = jsonc_parser::ParseOptions {
        allow_comments: false,
        allow_loose_object_property_names: false,
        allow_trailing_commas: false,
        allow_missing_commas: false,
        allow_single_quoted_strings: false,
        allow_hexadecimal_numbers: false,
        allow_unary_plus_numbers: false,
        allow_bare_decimal_point_numbers: false,
        allow_non_finite_numbers: false,
        allow_extended_string_escapes: false,
    };
    match jsonc_parser::parse_to_ast(text, &Default::default(), &strict) {
        Ok(result) => match result.value {
            Some(value) => Some(json_node(path, &lines, value, problems)),
            None => {
                problems
                    .push(DocumentError::Json { at: Location::at(path, 1, 1), message: "the file is empty".into() });
                None
            }
        },
        Err(error) => {
            let at = lines.location(path, error.range().start);
            problems.push(DocumentError::Json { at, message: lowercase_first(&error.kind().to_string()) });
            None
        }
    }
}

/// The JSON parser's messages start with a capital; ours do not.
fn lowercase_first(message: &str) -> String {
    let mut chars = message.chars();
    chars.next().map_or_else(String::new, |first| first.to_lowercase().chain(chars).collect())
}

fn json_node(path: &str, lines: &LineIndex, value: jsonc_parser::ast::Value, problems: &mut Problems) -> Node {
    use jsonc_parser::ast::Value as Json;
    let (value, start) = match value {
        Json::NullKeyword(null) => (Value::Null, null.range.start),
        Json::BooleanLit(boolean) => (Value::Bool(boolean.value), boolean.range.start),
        Json::StringLit(string) => (Value::String(string.value.into_owned()), string.range.start),
        Json::NumberLit(number) => {
            let value = match number.value.parse::<i64>() {
                Ok(integer) => Value::Integer(integer),
                Err(_) => Value::Float(number.value.parse::<f64>().unwrap_or(f64::NAN)),
            };
            (value, number.range.start)
        }
        Json::Array(array) => {
            let items = array.elements.into_iter().map(|element| json_node(path, lines, element, problems)).collect();
            (Value::Seq(items), array.range.start)
        }
        Json::Object(object) => {
            let mut map = Map::default();
            for property in object.properties {
                let key_at = lines.location(path, property.range.start);
                let entry = Entry {
                    key: property.name.into_string(),
                    key_at,
                    value: json_node(path, lines, property.value, problems),
                };
                insert_entry(&mut map, entry, problems);
            }
            (Value::Map(map), object.range.start)
        }
    };
    Node { value, at: lines.location(path, start) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(text: &str) -> (Option<Node>, Vec<String>) {
        let mut problems = Problems::default();
        let node = parse_yaml("t.yml", text, &mut problems);
        (node, problems.iter().map(ToString::to_string).collect())
    }

    fn json(text: &str) -> (Option<Node>, Vec<String>) {
        let mut problems = Problems::default();
        let node = parse_json("t.json", text, &mut problems);
        (node, problems.iter().map(ToString::to_string).collect())
    }

    fn map(node: &Node) -> &Map {
        match &node.value {
            Value::Map(map) => map,
            other => panic!("expected a mapping, got {other:?}"),
        }
    }

    #[test]
    fn yaml_nodes_carry_line_and_column() {
        let (node, problems) = yaml("topics:\n  - name: a\n    partitions: 3\n");
        assert!(problems.is_empty(), "{problems:?}");
        let node = node.unwrap();
        let topics = map(&node).get("topics").unwrap();
        let Value::Seq(items) = &topics.value else { panic!("{topics:?}") };
        let topic = map(&items[0]);
        assert_eq!(topic.entries[1].key_at.to_string(), "t.yml:3:5");
        assert_eq!(topic.get("partitions").unwrap().value, Value::Integer(3));
        assert_eq!(topic.get("partitions").unwrap().at.to_string(), "t.yml:3:17");
    }

    #[test]
    fn yaml_plain_scalars_follow_the_core_schema() {
        assert_eq!(resolve_plain("7d"), Value::String("7d".into()));
        assert_eq!(resolve_plain("604800000"), Value::Integer(604800000));
        assert_eq!(resolve_plain("-1"), Value::Integer(-1));
        assert_eq!(resolve_plain("0.5"), Value::Float(0.5));
        assert_eq!(resolve_plain("1e3"), Value::Float(1000.0));
        assert_eq!(resolve_plain("true"), Value::Bool(true));
        assert_eq!(resolve_plain("yes"), Value::String("yes".into()));
        assert_eq!(resolve_plain("~"), Value::Null);
        assert_eq!(resolve_plain("market.ohlcv.1m"), Value::String("market.ohlcv.1m".into()));
        assert_eq!(resolve_plain("inf"), Value::String("inf".into()));
    }

    #[test]
    fn yaml_quoted_numbers_stay_strings() {
        let (node, _) = yaml("a: '42'\nb: \"true\"\n");
        let node = node.unwrap();
        assert_eq!(map(&node).get("a").unwrap().value, Value::String("42".into()));
        assert_eq!(map(&node).get("b").unwrap().value, Value::String("true".into()));
    }

    #[test]
    fn yaml_duplicate_key_is_reported_with_both_places() {
        let (_, problems) = yaml("a: 1\nb: 2\na: 3\n");
        assert_eq!(problems, ["t.yml:3:1: duplicate key `a` (first set at t.yml:1:1); keep one of them"]);
    }

    #[test]
    fn yaml_syntax_error_names_the_position() {
        let (node, problems) = yaml("a: [1, 2\nb: 3\n");
        assert!(node.is_none());
        assert_eq!(problems.len(), 1);
        assert!(problems[0].starts_with("t.yml:"), "{}", problems[0]);
        assert!(problems[0].contains("invalid YAML"), "{}", problems[0]);
    }

    #[test]
    fn yaml_aliases_copy_the_anchored_value() {
        let (node, problems) = yaml("base: &b {x: 1}\nother: *b\n");
        assert!(problems.is_empty(), "{problems:?}");
        let node = node.unwrap();
        assert_eq!(map(&node).get("other").unwrap().value, map(&node).get("base").unwrap().value);
    }

    #[test]
    fn empty_yaml_is_null() {
        let (node, problems) = yaml("# nothing here\n");
        assert!(problems.is_empty());
        assert_eq!(node.unwrap().value, Value::Null);
    }

    #[test]
    fn json_nodes_carry_line_and_column() {
        let (node, problems) = json("[\n  {\"name\": \"rsi\", \"period\": 14, \"ratio\": 0.5}\n]");
        assert!(problems.is_empty(), "{problems:?}");
        let node = node.unwrap();
        let Value::Seq(items) = &node.value else { panic!() };
        assert_eq!(items[0].at.to_string(), "t.json:2:3");
        let item = map(&items[0]);
        assert_eq!(item.entries[1].key_at.to_string(), "t.json:2:19");
        assert_eq!(item.get("period").unwrap().value, Value::Integer(14));
        assert_eq!(item.get("ratio").unwrap().value, Value::Float(0.5));
    }

    #[test]
    fn json_duplicate_key_is_reported() {
        let (_, problems) = json("{\"a\": 1, \"a\": 2}");
        assert_eq!(problems, ["t.json:1:10: duplicate key `a` (first set at t.json:1:2); keep one of them"]);
    }

    #[test]
    fn json_rejects_trailing_commas_and_comments() {
        let (node, problems) = json("[1, 2,]");
        assert!(node.is_none());
        assert!(problems[0].starts_with("t.json:1:"), "{problems:?}");
        let (node, _) = json("// comment\n[1]");
        assert!(node.is_none());
    }

    #[test]
    fn unknown_keys_get_a_did_you_mean() {
        let (node, _) = yaml("partitons: 3\nname: x\n");
        let mut problems = Problems::default();
        map(&node.unwrap()).check_keys(&["name", "partitions"], "topic `x`", &mut problems);
        let messages: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert_eq!(
            messages,
            ["t.yml:1:1: unknown key `partitons` in topic `x` (did you mean `partitions`?); allowed keys: `name`, `partitions`"]
        );
    }

    #[test]
    fn typed_getters_report_what_was_found() {
        let (node, _) = yaml("n: abc\n");
        let node = node.unwrap();
        let mut problems = Problems::default();
        assert_eq!(map(&node).get("n").unwrap().expect_integer("`partitions`", &mut problems), None);
        assert_eq!(
            problems.iter().next().unwrap().to_string(),
            "t.yml:1:4: `partitions` must be a whole number, found string `abc`"
        );
    }

    #[test]
    fn line_index_counts_characters_not_bytes() {
        let text = "ab\nпривет x";
        let lines = LineIndex::new(text);
        let offset = text.find('x').unwrap();
        assert_eq!(lines.location("f", offset).to_string(), "f:2:8");
    }
}
