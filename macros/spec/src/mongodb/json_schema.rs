//! The `$jsonSchema` of a collection validator: MongoDB's dialect of JSON Schema draft 4 (its
//! own `bsonType`, no `$ref`, `format` or `default`). The tables below are what the checks
//! accept and what the editor schema offers, so the two cannot drift.

use std::collections::HashSet;

use serde_json::{json, Value as Json};

use super::error::MongoError;
use crate::diag::{DidYouMean, Problems};
use crate::tree::{Map, Node, Value};

/// What a keyword's value must be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeywordKind {
    BsonType,
    JsonType,
    /// A list of distinct property names.
    Required,
    /// A mapping from property name (or pattern) to schema.
    Schemas,
    /// `true`, `false` or a schema.
    BoolOrSchema,
    /// A schema or a list of schemas.
    Items,
    /// A non-empty list of schemas.
    SchemaList,
    Schema,
    NonNegativeInteger,
    Number,
    PositiveNumber,
    Bool,
    String,
    /// A non-empty list of values.
    Values,
    /// A mapping from property name to a list of property names or a schema.
    Dependencies,
}

/// Every keyword MongoDB's `$jsonSchema` accepts, with its kind and a description for editors.
pub const KEYWORDS: &[(&str, KeywordKind, &str)] = &[
    ("bsonType", KeywordKind::BsonType, "The BSON type (or list of types) the value must have."),
    ("type", KeywordKind::JsonType, "The JSON type (or list of types); prefer `bsonType`."),
    ("required", KeywordKind::Required, "Fields every document must have."),
    ("properties", KeywordKind::Schemas, "The schema of each named field."),
    ("additionalProperties", KeywordKind::BoolOrSchema, "`false` forbids fields not in `properties`."),
    ("patternProperties", KeywordKind::Schemas, "The schema of fields whose name matches a pattern."),
    ("minProperties", KeywordKind::NonNegativeInteger, "The fewest fields an object may have."),
    ("maxProperties", KeywordKind::NonNegativeInteger, "The most fields an object may have."),
    ("dependencies", KeywordKind::Dependencies, "Fields (or a schema) required when a field is present."),
    ("items", KeywordKind::Items, "The schema of every array element, or of each position."),
    ("additionalItems", KeywordKind::BoolOrSchema, "Elements after those `items` lists."),
    ("minItems", KeywordKind::NonNegativeInteger, "The fewest elements an array may have."),
    ("maxItems", KeywordKind::NonNegativeInteger, "The most elements an array may have."),
    ("uniqueItems", KeywordKind::Bool, "Whether array elements must be distinct."),
    ("enum", KeywordKind::Values, "The only values allowed."),
    ("minimum", KeywordKind::Number, "The smallest number allowed."),
    ("maximum", KeywordKind::Number, "The largest number allowed."),
    ("exclusiveMinimum", KeywordKind::Bool, "Whether `minimum` itself is excluded (draft 4: a boolean)."),
    ("exclusiveMaximum", KeywordKind::Bool, "Whether `maximum` itself is excluded (draft 4: a boolean)."),
    ("multipleOf", KeywordKind::PositiveNumber, "Numbers must be a multiple of this."),
    ("minLength", KeywordKind::NonNegativeInteger, "The shortest string allowed."),
    ("maxLength", KeywordKind::NonNegativeInteger, "The longest string allowed."),
    ("pattern", KeywordKind::String, "A regular expression strings must match."),
    ("allOf", KeywordKind::SchemaList, "The value must satisfy every schema."),
    ("anyOf", KeywordKind::SchemaList, "The value must satisfy at least one schema."),
    ("oneOf", KeywordKind::SchemaList, "The value must satisfy exactly one schema."),
    ("not", KeywordKind::Schema, "The value must not satisfy this schema."),
    ("title", KeywordKind::String, "A title, for readers."),
    ("description", KeywordKind::String, "A description, for readers and for MongoDB's validation errors."),
];

/// Standard JSON Schema keywords MongoDB refuses, with what to write instead.
pub const UNSUPPORTED: &[(&str, &str)] = &[
    ("$ref", "write the referenced schema out in place"),
    ("$schema", "delete it; the dialect is fixed"),
    ("definitions", "write each definition out where it is used"),
    ("default", "delete it; validators check documents, they never fill them in"),
    ("format", "use `pattern` with a regular expression, or a `bsonType` such as `date`"),
    ("id", "delete it"),
    ("const", "use `enum` with one value"),
];

/// The BSON type aliases `bsonType` accepts (`number` matches any numeric type).
pub const BSON_TYPES: &[&str] = &[
    "double",
    "string",
    "object",
    "array",
    "binData",
    "undefined",
    "objectId",
    "bool",
    "date",
    "null",
    "regex",
    "dbPointer",
    "javascript",
    "symbol",
    "javascriptWithScope",
    "int",
    "timestamp",
    "long",
    "decimal",
    "minKey",
    "maxKey",
    "number",
];

/// The JSON types `type` accepts; MongoDB has no `integer`.
pub const JSON_TYPES: &[&str] = &["object", "array", "number", "boolean", "string", "null"];

/// The pairs of bounds where the first must not exceed the second.
const BOUNDS: [(&str, &str); 4] =
    [("minimum", "maximum"), ("minLength", "maxLength"), ("minItems", "maxItems"), ("minProperties", "maxProperties")];

fn keyword_names() -> Vec<&'static str> {
    KEYWORDS.iter().map(|(name, _, _)| *name).collect()
}

fn backticked(names: &[&str]) -> String {
    names.iter().map(|name| format!("`{name}`")).collect::<Vec<_>>().join(", ")
}

/// Checks the top-level schema of a validator: a schema that also describes the whole
/// document, which is always an object with an `_id`.
pub fn check_root(node: &Node, problems: &mut Problems) {
    let Some(map) = node.expect_map("`$jsonSchema`", problems) else {
        return;
    };
    for keyword in ["bsonType", "type"] {
        let Some(value) = map.get(keyword) else { continue };
        let names: Vec<&str> = match &value.value {
            Value::String(name) => vec![name],
            Value::Seq(items) => items.iter().filter_map(|item| text(&item.value)).collect(),
            _ => continue,
        };
        if !names.is_empty() && !names.contains(&"object") {
            problems.push(MongoError::RootNotObject { at: value.at.clone(), keyword, found: value.describe() });
        }
    }
    if let (Some(Value::Bool(false)), Some(properties)) =
        (map.get("additionalProperties").map(|node| &node.value), map.get("properties"))
    {
        if let Value::Map(properties) = &properties.value {
            if properties.get("_id").is_none() {
                problems
                    .push(MongoError::IdNotDeclared { at: map.get("additionalProperties").unwrap_or(node).at.clone() });
            }
        }
    }
    check_schema_map(map, problems);
}

/// Checks one (sub)schema.
pub fn check_schema(node: &Node, problems: &mut Problems) {
    if let Some(map) = node.expect_map("a `$jsonSchema` schema", problems) {
        check_schema_map(map, problems);
    }
}

fn check_schema_map(map: &Map, problems: &mut Problems) {
    let known = keyword_names();
    for entry in &map.entries {
        let keyword = entry.key.as_str();
        let Some((_, kind, _)) = KEYWORDS.iter().find(|(name, _, _)| *name == keyword) else {
            if let Some((_, fix)) = UNSUPPORTED.iter().find(|(name, _)| *name == keyword) {
                problems.push(MongoError::UnsupportedSchemaKeyword {
                    at: entry.key_at.clone(),
                    keyword: entry.key.clone(),
                    fix,
                });
            } else {
                problems.push(MongoError::UnknownSchemaKeyword {
                    at: entry.key_at.clone(),
                    keyword: entry.key.clone(),
                    hint: DidYouMean::find(keyword, known.iter().copied()),
                    allowed: backticked(&known),
                });
            }
            continue;
        };
        check_keyword(keyword, *kind, &entry.value, problems);
    }
    if map.get("type").is_some() && map.get("bsonType").is_some() {
        problems.push(MongoError::TypeAndBsonType { at: map.entries[0].key_at.clone() });
    }
    for (keyword, bound) in [("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")] {
        if let (Some(node), None) = (map.get(keyword), map.get(bound)) {
            problems.push(MongoError::ExclusiveWithoutBound { at: node.at.clone(), keyword, bound });
        }
    }
    for (low, high) in BOUNDS {
        let (Some(low_node), Some(high_node)) = (map.get(low), map.get(high)) else { continue };
        if let (Some(low_value), Some(high_value)) = (number(low_node), number(high_node)) {
            if low_value > high_value {
                problems.push(MongoError::BoundsReversed {
                    at: low_node.at.clone(),
                    low,
                    low_value: low_value.to_string(),
                    high,
                    high_value: high_value.to_string(),
                });
            }
        }
    }
    check_required_declared(map, problems);
}

/// With `additionalProperties: false`, a required field missing from `properties` could never
/// be present, so no document would pass.
fn check_required_declared(map: &Map, problems: &mut Problems) {
    let (Some(Value::Bool(false)), Some(Value::Seq(required))) =
        (map.get("additionalProperties").map(|node| &node.value), map.get("required").map(|node| &node.value))
    else {
        return;
    };
    let declared = match map.get("properties").map(|node| &node.value) {
        Some(Value::Map(properties)) => properties,
        _ => &Map::default(),
    };
    for item in required {
        if let Value::String(property) = &item.value {
            if declared.get(property).is_none() {
                problems.push(MongoError::RequiredNotDeclared { at: item.at.clone(), property: property.clone() });
            }
        }
    }
}

fn text(value: &Value) -> Option<&str> {
    match value {
        Value::String(text) => Some(text),
        _ => None,
    }
}

fn number(node: &Node) -> Option<f64> {
    match node.value {
        Value::Integer(value) => Some(value as f64),
        Value::Float(value) => Some(value),
        _ => None,
    }
}

fn check_keyword(keyword: &str, kind: KeywordKind, node: &Node, problems: &mut Problems) {
    let what = format!("`{keyword}`");
    match kind {
        KeywordKind::BsonType => check_type_names(node, &what, BSON_TYPES, true, problems),
        KeywordKind::JsonType => check_type_names(node, &what, JSON_TYPES, false, problems),
        KeywordKind::Required => {
            let Some(items) = node.expect_seq(&what, problems) else { return };
            if items.is_empty() {
                problems.push(MongoError::EmptyList { at: node.at.clone(), what });
                return;
            }
            let mut seen: Vec<&Node> = Vec::new();
            for item in items {
                let Some(name) = item.expect_str("a `required` field", problems) else { continue };
                if let Some(first) = seen.iter().find(|earlier| text(&earlier.value) == Some(name)) {
                    problems.push(MongoError::DuplicateRequired {
                        at: item.at.clone(),
                        property: name.to_string(),
                        first: first.at.clone(),
                    });
                } else {
                    seen.push(item);
                }
            }
        }
        KeywordKind::Schemas => {
            if let Some(map) = node.expect_map(&what, problems) {
                for entry in &map.entries {
                    check_schema(&entry.value, problems);
                }
            }
        }
        KeywordKind::BoolOrSchema => {
            if !matches!(node.value, Value::Bool(_)) {
                check_schema(node, problems);
            }
        }
        KeywordKind::Items => match &node.value {
            Value::Seq(items) => items.iter().for_each(|item| check_schema(item, problems)),
            _ => check_schema(node, problems),
        },
        KeywordKind::SchemaList => {
            let Some(items) = node.expect_seq(&what, problems) else { return };
            if items.is_empty() {
                problems.push(MongoError::EmptyList { at: node.at.clone(), what });
            }
            items.iter().for_each(|item| check_schema(item, problems));
        }
        KeywordKind::Schema => check_schema(node, problems),
        KeywordKind::NonNegativeInteger => {
            if let Some(value) = node.expect_integer(&what, problems) {
                if value < 0 {
                    problems.push(MongoError::TooSmall { at: node.at.clone(), what, min: 0, found: value.to_string() });
                }
            }
        }
        KeywordKind::Number => {
            node.expect_number(&what, problems);
        }
        KeywordKind::PositiveNumber => {
            if let Some(value) = node.expect_number(&what, problems) {
                if value <= 0.0 {
                    problems.push(MongoError::NotPositive { at: node.at.clone(), what, found: value.to_string() });
                }
            }
        }
        KeywordKind::Bool => {
            node.expect_bool(&what, problems);
        }
        KeywordKind::String => {
            node.expect_str(&what, problems);
        }
        KeywordKind::Values => {
            if let Some(items) = node.expect_seq(&what, problems) {
                if items.is_empty() {
                    problems.push(MongoError::EmptyList { at: node.at.clone(), what });
                }
            }
        }
        KeywordKind::Dependencies => {
            let Some(map) = node.expect_map(&what, problems) else { return };
            for entry in &map.entries {
                match &entry.value.value {
                    Value::Seq(items) => {
                        for item in items {
                            item.expect_str("a `dependencies` field", problems);
                        }
                    }
                    _ => check_schema(&entry.value, problems),
                }
            }
        }
    }
}

fn check_type_names(node: &Node, what: &str, allowed: &[&str], bson: bool, problems: &mut Problems) {
    let names: Vec<&Node> = match &node.value {
        Value::Seq(items) => {
            if items.is_empty() {
                problems.push(MongoError::EmptyList { at: node.at.clone(), what: what.to_string() });
            }
            items.iter().collect()
        }
        _ => vec![node],
    };
    let mut seen = HashSet::new();
    for item in names {
        let Some(name) = item.expect_str(what, problems) else { continue };
        if !seen.insert(name) || allowed.contains(&name) {
            continue;
        }
        let hint = DidYouMean::find(name, allowed.iter().copied());
        let (at, name, allowed) = (item.at.clone(), name.to_string(), backticked(allowed));
        problems.push(if bson {
            MongoError::UnknownBsonType { at, name, hint, allowed }
        } else {
            MongoError::UnknownJsonType { at, name, hint, allowed }
        });
    }
}

/// The editor schema of a `$jsonSchema` (under `$defs/jsonSchema`), from the same tables.
pub fn editor_schema() -> Json {
    let schema_ref = json!({ "$ref": "#/$defs/jsonSchema" });
    let properties: serde_json::Map<String, Json> = KEYWORDS
        .iter()
        .map(|(name, kind, description)| {
            let mut schema = match kind {
                KeywordKind::BsonType => json!({ "anyOf": [
                    { "enum": BSON_TYPES },
                    { "type": "array", "items": { "enum": BSON_TYPES }, "minItems": 1 },
                ]}),
                KeywordKind::JsonType => json!({ "anyOf": [
                    { "enum": JSON_TYPES },
                    { "type": "array", "items": { "enum": JSON_TYPES }, "minItems": 1 },
                ]}),
                KeywordKind::Required => {
                    json!({ "type": "array", "items": { "type": "string" }, "minItems": 1, "uniqueItems": true })
                }
                KeywordKind::Schemas => json!({ "type": "object", "additionalProperties": schema_ref }),
                KeywordKind::BoolOrSchema => json!({ "anyOf": [{ "type": "boolean" }, schema_ref] }),
                KeywordKind::Items => json!({ "anyOf": [schema_ref, { "type": "array", "items": schema_ref }] }),
                KeywordKind::SchemaList => json!({ "type": "array", "items": schema_ref, "minItems": 1 }),
                KeywordKind::Schema => schema_ref.clone(),
                KeywordKind::NonNegativeInteger => json!({ "type": "integer", "minimum": 0 }),
                KeywordKind::Number => json!({ "type": "number" }),
                KeywordKind::PositiveNumber => json!({ "type": "number", "exclusiveMinimum": 0 }),
                KeywordKind::Bool => json!({ "type": "boolean" }),
                KeywordKind::String => json!({ "type": "string" }),
                KeywordKind::Values => json!({ "type": "array", "minItems": 1 }),
                KeywordKind::Dependencies => json!({ "type": "object", "additionalProperties": { "anyOf": [
                    { "type": "array", "items": { "type": "string" } }, schema_ref,
                ]}}),
            };
            schema["description"] = Json::String(description.to_string());
            (name.to_string(), schema)
        })
        .collect();
    json!({
        "description": "MongoDB's `$jsonSchema` (JSON Schema draft 4 with `bsonType`; no `$ref`, `format` or `default`).",
        "type": "object",
        "additionalProperties": false,
        "properties": properties,
        "not": { "required": ["type", "bsonType"] },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::parse_yaml;

    fn errors(yaml: &str) -> Vec<String> {
        let mut problems = Problems::default();
        let node = parse_yaml("v.yml", yaml, &mut problems).expect("test YAML parses");
        check_root(&node, &mut problems);
        problems.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn a_correct_schema_passes() {
        let yaml = "bsonType: object\nrequired: [_id, name]\nadditionalProperties: false\nproperties:\n  _id: {bsonType: objectId}\n  name: {bsonType: string, minLength: 1, maxLength: 64}\n  tags: {bsonType: array, items: {bsonType: string}}\n  n: {bsonType: [int, long], minimum: 0, exclusiveMinimum: true}\n";
        assert_eq!(errors(yaml), Vec::<String>::new());
    }

    #[test]
    fn unknown_keywords_get_a_did_you_mean() {
        let found = errors("bsonType: object\nproperties:\n  name: {bsonType: string, maxLenght: 5}\n");
        assert_eq!(found.len(), 1);
        assert!(
            found[0].starts_with("v.yml:3:28: `maxLenght` is not a `$jsonSchema` keyword (did you mean `maxLength`?)"),
            "{found:?}"
        );
    }

    #[test]
    fn unsupported_json_schema_keywords_say_what_to_write() {
        let found = errors("properties:\n  at: {format: date-time}\n");
        assert_eq!(
            found,
            ["v.yml:2:8: MongoDB's `$jsonSchema` does not support `format`: use `pattern` with a regular expression, or a `bsonType` such as `date`"]
        );
    }

    #[test]
    fn unknown_bson_types_are_errors_with_a_hint() {
        let found = errors("properties:\n  n: {bsonType: [int, integer]}\n  d: {bsonType: datetime}\n");
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].starts_with("v.yml:2:23: `integer` is not a BSON type (did you mean `int`?)"), "{found:?}");
        assert!(found[1].starts_with("v.yml:3:17: `datetime` is not a BSON type (did you mean `date`?)"), "{found:?}");
    }

    #[test]
    fn json_type_integer_is_not_mongodb() {
        let found = errors("properties:\n  n: {type: integer}\n");
        assert_eq!(found.len(), 1);
        assert!(found[0].contains("`integer` is not a `type` of MongoDB's `$jsonSchema`"), "{found:?}");
    }

    #[test]
    fn type_and_bson_type_together_are_refused() {
        let found = errors("type: object\nbsonType: object\n");
        assert_eq!(found, ["v.yml:1:1: `type` and `bsonType` together are refused by MongoDB; keep `bsonType`"]);
    }

    #[test]
    fn required_must_be_declared_when_additional_properties_are_forbidden() {
        let found = errors(
            "bsonType: object\nadditionalProperties: false\nrequired: [_id, name, kind]\nproperties:\n  _id: {}\n  name: {}\n",
        );
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].starts_with("v.yml:3:23: `kind` is required but not declared"), "{found:?}");
        // Without `additionalProperties: false` an undeclared required field is fine.
        assert!(errors("required: [kind]\nproperties: {name: {}}\n").is_empty());
    }

    #[test]
    fn forbidding_additional_properties_needs_id() {
        let found = errors("bsonType: object\nadditionalProperties: false\nproperties:\n  name: {}\n");
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].starts_with("v.yml:2:23: `additionalProperties: false` without `_id`"), "{found:?}");
    }

    #[test]
    fn required_twice_and_empty_lists() {
        let found = errors("required: [a, b, a]\nenum: []\n");
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].starts_with("v.yml:1:18: `a` is listed twice in `required` (first at v.yml:1:12)"));
        assert!(found[1].starts_with("v.yml:2:7: `enum` is empty"));
    }

    #[test]
    fn reversed_bounds_and_lone_exclusive_bounds() {
        let found = errors("minLength: 5\nmaxLength: 2\nexclusiveMaximum: true\n");
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].contains("`exclusiveMaximum` needs `maximum`"), "{found:?}");
        assert!(found[1].contains("`minLength` (5) is greater than `maxLength` (2)"), "{found:?}");
    }

    #[test]
    fn the_root_must_describe_an_object() {
        let found = errors("bsonType: array\n");
        assert_eq!(found.len(), 1);
        assert!(found[0].contains("its `bsonType` must be `object`"), "{found:?}");
    }

    #[test]
    fn wrong_value_types_are_reported() {
        let found = errors("minLength: -1\nproperties: [a]\nuniqueItems: 'yes'\n");
        assert_eq!(found.len(), 3, "{found:?}");
    }
}
