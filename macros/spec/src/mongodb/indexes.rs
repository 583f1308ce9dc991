//! One index of `createIndexes`: its key pattern, name and options, and the rules MongoDB (or
//! good sense) sets on them: TTL on one field, unique partial indexes with filters MongoDB
//! accepts, no `sparse` beside a partial filter, names within limits.

use serde_json::{json, Value as Json};

use super::error::MongoError;
use super::names;
use crate::diag::{DidYouMean, Location, Problems};
use crate::tree::{Map, Node, Value};

/// The keys of an index spec, with a description for editors.
pub const INDEX_OPTIONS: &[(&str, &str)] = &[
    ("key", "The indexed fields, in order, each `1` (ascending), `-1` (descending) or a special index type."),
    ("name", "The index's name; `dropIndexes` and downgrades refer to it."),
    ("unique", "Refuse two documents with the same key."),
    ("sparse", "Leave out documents without the indexed fields (prefer `partialFilterExpression`)."),
    ("expireAfterSeconds", "TTL: delete a document this many seconds after the date in its one indexed field."),
    ("partialFilterExpression", "Index only the documents this filter matches."),
];

/// The index types a key field may have besides `1` and `-1`.
pub const SPECIAL_TYPES: &[&str] = &["2dsphere", "2d", "text", "hashed"];

/// The operators MongoDB accepts in a partial filter.
pub const PARTIAL_FILTER_OPERATORS: &[&str] =
    &["$eq", "$exists", "$gt", "$gte", "$lt", "$lte", "$type", "$in", "$and", "$or"];

/// The largest `expireAfterSeconds` MongoDB accepts (a 32-bit signed integer).
pub const MAX_TTL_SECONDS: i64 = i32::MAX as i64;

/// What [`check`] learnt of a valid enough index: its name and where, and its key pattern.
pub struct Checked {
    pub name: Option<(String, Location)>,
    pub key: Option<Json>,
}

/// Checks one index spec of `createIndexes`.
pub fn check(node: &Node, problems: &mut Problems) -> Checked {
    let mut checked = Checked { name: None, key: None };
    let Some(spec) = node.expect_map("an index", problems) else {
        return checked;
    };
    let allowed: Vec<&str> = INDEX_OPTIONS.iter().map(|(key, _)| *key).collect();
    spec.check_keys(&allowed, "an index", problems);
    let key = spec.require("key", "the index", &node.at, problems);
    let name = spec.require("name", "the index (name every index, so a downgrade can drop it)", &node.at, problems);
    if let Some(name) = name.and_then(|name| name.expect_str("`name`", problems)) {
        let at = spec.get("name").map_or(node.at.clone(), |name| name.at.clone());
        match names::check_index(name, &at) {
            Some(error) => problems.push(error),
            None => checked.name = Some((name.to_string(), at)),
        }
    }
    let fields = key.and_then(|key| check_key(key, problems));
    if let (Some(fields), Some(key)) = (&fields, key) {
        checked.key = Some(key.to_json());
        check_options(spec, fields, problems);
    }
    checked
}

/// A key field and what it holds: `Some(direction)` for `1`/`-1`, `None` for a special type.
type Field<'a> = (&'a str, Option<&'static str>);

fn check_key<'a>(node: &'a Node, problems: &mut Problems) -> Option<Vec<Field<'a>>> {
    let map = node.expect_map("`key`", problems)?;
    if map.entries.is_empty() {
        problems.push(MongoError::EmptyIndexKey { at: node.at.clone() });
        return None;
    }
    let mut fields = Vec::new();
    let mut valid = true;
    for entry in &map.entries {
        let field = entry.key.as_str();
        let bad_field = if field.is_empty() {
            Some("the field name is empty")
        } else if field.starts_with('$') {
            Some("a field name cannot start with `$`")
        } else if field.starts_with('.') || field.ends_with('.') || field.contains("..") {
            Some("a dotted path has an empty part")
        } else {
            None
        };
        if let Some(reason) = bad_field {
            problems.push(MongoError::BadKeyField { at: entry.key_at.clone(), field: field.to_string(), reason });
            valid = false;
            continue;
        }
        let kind = match &entry.value.value {
            Value::Integer(1) | Value::Integer(-1) => None,
            Value::String(kind) if SPECIAL_TYPES.contains(&kind.as_str()) => {
                SPECIAL_TYPES.iter().copied().find(|special| special == kind)
            }
            _ => {
                problems.push(MongoError::BadKeyDirection {
                    at: entry.value.at.clone(),
                    field: field.to_string(),
                    found: entry.value.describe(),
                    types: SPECIAL_TYPES.iter().map(|kind| format!("`{kind}`")).collect::<Vec<_>>().join(", "),
                });
                valid = false;
                continue;
            }
        };
        fields.push((field, kind));
    }
    valid.then_some(fields)
}

fn check_options(spec: &Map, fields: &[Field], problems: &mut Problems) {
    let unique = spec.get("unique").and_then(|node| node.expect_bool("`unique`", problems));
    let sparse = spec.get("sparse").and_then(|node| node.expect_bool("`sparse`", problems));
    if unique == Some(true) {
        if let (Some(node), Some((_, Some(kind)))) =
            (spec.get("unique"), fields.iter().find(|(_, kind)| kind.is_some()))
        {
            problems.push(MongoError::UniqueOnSpecial { at: node.at.clone(), kind: kind.to_string() });
        }
    }
    if let Some(ttl) = spec.get("expireAfterSeconds") {
        if let Some(seconds) = ttl.expect_integer("`expireAfterSeconds`", problems) {
            check_ttl_range(ttl, seconds, problems);
        }
        if fields.len() != 1 || fields[0].1.is_some() {
            let fields = fields
                .iter()
                .map(|(field, kind)| format!("`{field}: {}`", kind.unwrap_or("1")))
                .collect::<Vec<_>>()
                .join(", ");
            problems.push(MongoError::TtlNotSingleField { at: ttl.at.clone(), fields });
        } else if fields[0].0 == "_id" {
            problems.push(MongoError::TtlOnId { at: ttl.at.clone() });
        }
    }
    if let Some(filter) = spec.get("partialFilterExpression") {
        if sparse == Some(true) {
            problems.push(MongoError::SparseWithPartial { at: filter.at.clone() });
        }
        check_partial_filter(filter, true, problems);
    }
}

/// `expireAfterSeconds` of a TTL index, in `createIndexes` or `collMod`.
pub fn check_ttl_range(node: &Node, seconds: i64, problems: &mut Problems) {
    let what = "`expireAfterSeconds`".to_string();
    if seconds < 0 {
        problems.push(MongoError::TooSmall { at: node.at.clone(), what, min: 0, found: seconds.to_string() });
    } else if seconds > MAX_TTL_SECONDS {
        problems.push(MongoError::TooLarge {
            at: node.at.clone(),
            what,
            max: MAX_TTL_SECONDS,
            found: seconds.to_string(),
        });
    }
}

/// A partial filter is a query restricted to the operators MongoDB can index by; `$and` and
/// `$or` hold further filters. `top` is whether `node` is the filter itself.
fn check_partial_filter(node: &Node, top: bool, problems: &mut Problems) {
    let what = if top { "`partialFilterExpression`" } else { "a filter inside `$and`/`$or`" };
    let Some(map) = node.expect_map(what, problems) else {
        return;
    };
    if top && map.entries.is_empty() {
        problems.push(MongoError::EmptyList { at: node.at.clone(), what: what.to_string() });
    }
    for entry in &map.entries {
        match entry.key.as_str() {
            "$and" | "$or" => {
                if let Some(items) = entry.value.expect_seq(&format!("`{}`", entry.key), problems) {
                    items.iter().for_each(|item| check_partial_filter(item, false, problems));
                }
            }
            operator if operator.starts_with('$') => problems.push(MongoError::PartialFilterOperator {
                at: entry.key_at.clone(),
                operator: operator.to_string(),
                hint: DidYouMean::find(operator, PARTIAL_FILTER_OPERATORS.iter().copied()),
            }),
            _ => check_field_condition(&entry.value, problems),
        }
    }
}

/// A field's condition: a value (equality) or a mapping of operators.
fn check_field_condition(node: &Node, problems: &mut Problems) {
    let Value::Map(map) = &node.value else {
        return;
    };
    if !map.entries.iter().any(|entry| entry.key.starts_with('$')) {
        return; // equality with an embedded document
    }
    for entry in &map.entries {
        let operator = entry.key.as_str();
        if !PARTIAL_FILTER_OPERATORS.contains(&operator) || operator == "$and" || operator == "$or" {
            problems.push(MongoError::PartialFilterOperator {
                at: entry.key_at.clone(),
                operator: operator.to_string(),
                hint: DidYouMean::find(operator, PARTIAL_FILTER_OPERATORS.iter().copied()),
            });
        } else if operator == "$exists" && !matches!(entry.value.value, Value::Bool(true)) {
            problems.push(MongoError::PartialExistsFalse { at: entry.value.at.clone() });
        }
    }
}

/// The editor schema of one index spec, from the same tables.
pub fn editor_schema() -> Json {
    let mut properties = serde_json::Map::new();
    for (key, description) in INDEX_OPTIONS {
        let schema = match *key {
            "key" => json!({
                "type": "object",
                "minProperties": 1,
                "additionalProperties": { "anyOf": [{ "enum": [1, -1] }, { "enum": SPECIAL_TYPES }] },
            }),
            "name" => {
                json!({ "type": "string", "minLength": 1, "maxLength": names::MAX_INDEX_NAME, "not": { "enum": ["_id_", "*"] } })
            }
            "unique" | "sparse" => json!({ "type": "boolean" }),
            "expireAfterSeconds" => json!({ "type": "integer", "minimum": 0, "maximum": MAX_TTL_SECONDS }),
            _ => json!({ "type": "object", "minProperties": 1 }),
        };
        let mut schema = schema;
        schema["description"] = Json::String(description.to_string());
        properties.insert(key.to_string(), schema);
    }
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["key", "name"],
        "properties": properties,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::parse_yaml;

    fn errors(yaml: &str) -> Vec<String> {
        let mut problems = Problems::default();
        let node = parse_yaml("i.yml", yaml, &mut problems).expect("test YAML parses");
        check(&node, &mut problems);
        problems.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn good_indexes_pass() {
        assert!(errors("key: {name: 1}\nname: name_unique\nunique: true\n").is_empty());
        assert!(errors("key: {aggregate_id: 1, timestamp: -1}\nname: by_aggregate\n").is_empty());
        assert!(errors("key: {ts: 1}\nname: ttl\nexpireAfterSeconds: 2592000\n").is_empty());
        assert!(errors(
            "key: {email: 1}\nname: e\nunique: true\npartialFilterExpression: {email: {$exists: true}, n: {$gt: 0}}\n"
        )
        .is_empty());
        assert!(errors("key: {loc: 2dsphere}\nname: geo\n").is_empty());
    }

    #[test]
    fn unknown_options_get_a_did_you_mean() {
        let found = errors("key: {a: 1}\nname: a\nuniq: true\n");
        assert_eq!(found.len(), 1);
        assert!(
            found[0].starts_with("i.yml:3:1: unknown key `uniq` in an index (did you mean `unique`?)"),
            "{found:?}"
        );
    }

    #[test]
    fn key_directions_are_one_minus_one_or_a_type() {
        let found = errors("key: {a: 2, b: asc, c: text}\nname: x\n");
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].starts_with("i.yml:1:10: field `a` has `2` in `key`; use `1` (ascending), `-1`"), "{found:?}");
        assert!(found[1].starts_with("i.yml:1:16: field `b` has string `asc`"), "{found:?}");
        assert_eq!(errors("key: {}\nname: x\n").len(), 1);
        assert!(errors("key: {$a: 1}\nname: x\n")[0].contains("cannot start with `$`"));
    }

    #[test]
    fn ttl_is_on_one_field_only() {
        let found = errors("key: {a: 1, ts: 1}\nname: x\nexpireAfterSeconds: 60\n");
        assert_eq!(found.len(), 1);
        assert!(
            found[0].starts_with("i.yml:3:21: a TTL index (`expireAfterSeconds`) must have exactly one"),
            "{found:?}"
        );
        assert!(errors("key: {_id: 1}\nname: x\nexpireAfterSeconds: 60\n")[0].contains("cannot be on `_id`"));
        assert!(errors("key: {ts: 1}\nname: x\nexpireAfterSeconds: -1\n")[0].contains("at least 0"));
        assert!(errors("key: {ts: 1}\nname: x\nexpireAfterSeconds: 3000000000\n")[0].contains("at most 2147483647"));
    }

    #[test]
    fn partial_filters_use_only_indexable_operators() {
        let found = errors("key: {a: 1}\nname: x\nunique: true\npartialFilterExpression: {a: {$ne: null}}\n");
        assert_eq!(found.len(), 1);
        assert!(found[0].starts_with("i.yml:4:31: `$ne` is not allowed in `partialFilterExpression`"), "{found:?}");
        let found = errors("key: {a: 1}\nname: x\npartialFilterExpression: {a: {$exists: false}}\n");
        assert!(found[0].contains("`$exists: false` is not allowed"), "{found:?}");
        let found = errors("key: {a: 1}\nname: x\npartialFilterExpression: {$or: [{a: {$exits: true}}]}\n");
        assert!(found[0].contains("(did you mean `$exists`?)"), "{found:?}");
        let found = errors("key: {a: 1}\nname: x\nsparse: true\npartialFilterExpression: {a: {$exists: true}}\n");
        assert!(found[0].contains("`sparse` and `partialFilterExpression` cannot be combined"), "{found:?}");
    }

    #[test]
    fn unique_special_indexes_are_refused() {
        let found = errors("key: {a: hashed}\nname: x\nunique: true\n");
        assert_eq!(found.len(), 1);
        assert!(found[0].contains("a `hashed` index cannot be unique"), "{found:?}");
    }

    #[test]
    fn name_and_key_are_required() {
        let found = errors("unique: true\n");
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found.iter().any(|error| error.contains("has no `key`")));
        assert!(found.iter().any(|error| error.contains("has no `name`")));
    }
}
