//! The database commands a MongoDB migration may run, each with its options. [`COMMANDS`] is
//! both what the checks accept and what the editor schema offers. A command is written as
//! MongoDB reads it, command name first with the collection as its value:
//!
//! ```yaml
//! - createIndexes: event_store
//!   indexes:
//!     - {key: {aggregate_id: 1, timestamp: 1}, name: event_store_aggregate_time}
//! ```
//!
//! Collections are named without the database: the runtime runs every command in
//! `MONGO_DATABASE` (and turns `renameCollection`'s names into namespaces).

use std::collections::HashMap;

use serde_json::{json, Value as Json};

use super::error::MongoError;
use super::model::Command;
use super::{indexes, json_schema, names};
use crate::diag::{DidYouMean, Location, Problems};
use crate::source;
use crate::tree::{Map, Node, Value};

/// What an option's value must be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OptionKind {
    /// `{$jsonSchema: …}`.
    Validator,
    /// One of these strings.
    OneOf(&'static [&'static str]),
    Bool,
    /// A whole number ≥ 1.
    PositiveInteger,
    CollectionName,
    /// `createIndexes`' list of index specs.
    Indexes,
    /// An index name to drop.
    IndexName,
    /// `collMod`'s `{name, expireAfterSeconds}`.
    IndexChange,
    /// `insert`'s documents.
    Documents,
    /// `update`'s statements.
    Updates,
    /// `delete`'s statements.
    Deletes,
}

/// One option of a command.
pub struct OptionSpec {
    pub name: &'static str,
    pub kind: OptionKind,
    pub required: bool,
    pub description: &'static str,
}

/// One command a migration may run.
pub struct CommandSpec {
    pub name: &'static str,
    pub description: &'static str,
    pub options: &'static [OptionSpec],
}

const VALIDATION_LEVELS: &[&str] = &["off", "strict", "moderate"];
const VALIDATION_ACTIONS: &[&str] = &["error", "warn"];

const fn option(name: &'static str, kind: OptionKind, required: bool, description: &'static str) -> OptionSpec {
    OptionSpec { name, kind, required, description }
}

const VALIDATOR: OptionSpec =
    option("validator", OptionKind::Validator, false, "`{$jsonSchema: …}` every write must satisfy.");
const VALIDATION_LEVEL: OptionSpec = option(
    "validationLevel",
    OptionKind::OneOf(VALIDATION_LEVELS),
    false,
    "Which writes are validated: `strict` (all), `moderate` (those to valid documents), `off`.",
);
const VALIDATION_ACTION: OptionSpec = option(
    "validationAction",
    OptionKind::OneOf(VALIDATION_ACTIONS),
    false,
    "What an invalid write does: `error` (refused) or `warn` (logged).",
);

/// Every command, in the order the editor schema lists them.
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "create",
        description: "Creates a collection, with its validator.",
        options: &[
            VALIDATOR,
            VALIDATION_LEVEL,
            VALIDATION_ACTION,
            option("capped", OptionKind::Bool, false, "A fixed-size collection that overwrites its oldest documents."),
            option("size", OptionKind::PositiveInteger, false, "A capped collection's size in bytes."),
            option("max", OptionKind::PositiveInteger, false, "A capped collection's largest number of documents."),
        ],
    },
    CommandSpec {
        name: "collMod",
        description: "Changes a collection's validator, or a TTL index's expiry.",
        options: &[
            VALIDATOR,
            VALIDATION_LEVEL,
            VALIDATION_ACTION,
            option("index", OptionKind::IndexChange, false, "`{name, expireAfterSeconds}`: a TTL index's new expiry."),
        ],
    },
    CommandSpec {
        name: "createIndexes",
        description: "Creates indexes on a collection (creating the collection if it does not exist).",
        options: &[option("indexes", OptionKind::Indexes, true, "The indexes, each with `key` and `name`.")],
    },
    CommandSpec {
        name: "dropIndexes",
        description: "Drops one index by name.",
        options: &[option("index", OptionKind::IndexName, true, "The name of the index to drop.")],
    },
    CommandSpec { name: "drop", description: "Drops a collection with its documents and indexes.", options: &[] },
    CommandSpec {
        name: "renameCollection",
        description: "Renames a collection within the database.",
        options: &[
            option("to", OptionKind::CollectionName, true, "The new name."),
            option("dropTarget", OptionKind::Bool, false, "Drop an existing collection of the new name first."),
        ],
    },
    CommandSpec {
        name: "insert",
        description: "Inserts documents.",
        options: &[option("documents", OptionKind::Documents, true, "The documents to insert.")],
    },
    CommandSpec {
        name: "update",
        description: "Updates documents.",
        options: &[option("updates", OptionKind::Updates, true, "Each `{q, u, upsert, multi}`.")],
    },
    CommandSpec {
        name: "delete",
        description: "Deletes documents.",
        options: &[option(
            "deletes",
            OptionKind::Deletes,
            true,
            "Each `{q, limit}`; `limit` 0 deletes every match, 1 one.",
        )],
    },
];

const UPDATE_KEYS: &[&str] = &["q", "u", "upsert", "multi"];
const DELETE_KEYS: &[&str] = &["q", "limit"];

fn command_names() -> Vec<&'static str> {
    COMMANDS.iter().map(|command| command.name).collect()
}

fn backticked(names: &[&str]) -> String {
    names.iter().map(|name| format!("`{name}`")).collect::<Vec<_>>().join(", ")
}

/// What the commands of one file have done so far, for the checks that span commands.
#[derive(Default)]
pub struct FileState {
    /// Index names created in this file, by collection, with where.
    indexes: HashMap<(String, String), Location>,
}

/// Checks one item of `commands`; `None` when it cannot become part of the plan.
pub fn check(item: &Node, state: &mut FileState, problems: &mut Problems) -> Option<Command> {
    let map = item.expect_map("a command", problems)?;
    let Some(first) = map.entries.first() else {
        problems.push(MongoError::EmptyCommand { at: item.at.clone() });
        return None;
    };
    let known = command_names();
    let found: Vec<(usize, &CommandSpec)> = map
        .entries
        .iter()
        .enumerate()
        .filter_map(|(index, entry)| Some((index, COMMANDS.iter().find(|command| command.name == entry.key)?)))
        .collect();
    let spec = match found.as_slice() {
        [] => {
            problems.push(MongoError::UnknownCommand {
                at: first.key_at.clone(),
                name: first.key.clone(),
                hint: DidYouMean::find(&first.key, known.iter().copied()),
                allowed: backticked(&known),
            });
            return None;
        }
        [(0, spec)] => *spec,
        [(index, spec)] => {
            problems.push(MongoError::CommandNotFirst {
                at: map.entries[*index].key_at.clone(),
                command: spec.name,
                first: first.key.clone(),
            });
            return None;
        }
        [(_, first_spec), (index, second), ..] => {
            problems.push(MongoError::TwoCommands {
                at: map.entries[*index].key_at.clone(),
                first: first_spec.name,
                second: second.name,
            });
            return None;
        }
    };
    let before = problems.len();
    let context = format!("`{}` command", spec.name);
    let collection = first.value.expect_str(&format!("the collection of `{}`", spec.name), problems);
    if let Some(error) = collection.and_then(|name| names::check_collection(name, &first.value.at)) {
        problems.push(error);
    }
    let mut allowed = vec![spec.name];
    allowed.extend(spec.options.iter().map(|option| option.name));
    map.check_keys(&allowed, &context, problems);
    let misspelt = map.misspelt(&allowed);
    for option in spec.options.iter().filter(|option| option.required && !misspelt.contains(&option.name)) {
        map.require(option.name, &context, &item.at, problems);
    }
    let collection = collection.unwrap_or_default();
    for option in spec.options {
        if let Some(node) = map.get(option.name) {
            check_option(spec, option, node, collection, state, problems);
        }
    }
    check_command_rules(spec.name, map, item, collection, state, problems);
    if problems.len() > before {
        return None;
    }
    let document = Json::Object(map.entries.iter().map(|entry| (entry.key.clone(), entry.value.to_json())).collect());
    let checksum = source::sha256_hex(&document.to_string());
    Some(Command {
        name: spec.name,
        collection: collection.to_string(),
        document,
        line: item.at.line.unwrap_or(0),
        checksum,
    })
}

fn check_option(
    spec: &CommandSpec,
    option: &OptionSpec,
    node: &Node,
    collection: &str,
    state: &mut FileState,
    problems: &mut Problems,
) {
    let what = format!("`{}` of `{}`", option.name, spec.name);
    match option.kind {
        OptionKind::Validator => check_validator(node, problems),
        OptionKind::OneOf(allowed) => {
            if let Some(value) = node.expect_str(&what, problems) {
                if !allowed.contains(&value) {
                    problems.push(MongoError::NotOneOf {
                        at: node.at.clone(),
                        what,
                        found: format!("`{value}`"),
                        allowed: backticked(allowed),
                        hint: DidYouMean::find(value, allowed.iter().copied()),
                    });
                }
            }
        }
        OptionKind::Bool => {
            node.expect_bool(&what, problems);
        }
        OptionKind::PositiveInteger => {
            if let Some(value) = node.expect_integer(&what, problems) {
                if value < 1 {
                    problems.push(MongoError::TooSmall { at: node.at.clone(), what, min: 1, found: value.to_string() });
                }
            }
        }
        OptionKind::CollectionName => {
            if let Some(error) =
                node.expect_str(&what, problems).and_then(|name| names::check_collection(name, &node.at))
            {
                problems.push(error);
            }
        }
        OptionKind::Indexes => check_indexes(node, collection, state, problems),
        OptionKind::IndexName => {
            if let Some(name) = node.expect_str(&what, problems) {
                if name == "_id_" {
                    problems.push(MongoError::DropIdIndex { at: node.at.clone() });
                } else if let Some(error) = names::check_index(name, &node.at) {
                    problems.push(error);
                }
                state.indexes.remove(&(collection.to_string(), name.to_string()));
            }
        }
        OptionKind::IndexChange => {
            let Some(change) = node.expect_map(&what, problems) else { return };
            change.check_keys(&["name", "expireAfterSeconds"], "`collMod`'s `index`", problems);
            if let Some(name) = change.require("name", "`collMod`'s `index`", &node.at, problems) {
                if let Some(error) =
                    name.expect_str("the index `name`", problems).and_then(|n| names::check_index(n, &name.at))
                {
                    problems.push(error);
                }
            }
            let ttl = change.require("expireAfterSeconds", "`collMod`'s `index`", &node.at, problems);
            if let Some(ttl) = ttl {
                if let Some(seconds) = ttl.expect_integer("`expireAfterSeconds`", problems) {
                    indexes::check_ttl_range(ttl, seconds, problems);
                }
            }
        }
        OptionKind::Documents => {
            if let Some(items) = non_empty_list(node, &what, problems) {
                for document in items {
                    document.expect_map("a document to insert", problems);
                }
            }
        }
        OptionKind::Updates => {
            for statement in non_empty_list(node, &what, problems).unwrap_or_default() {
                check_update(statement, problems);
            }
        }
        OptionKind::Deletes => {
            for statement in non_empty_list(node, &what, problems).unwrap_or_default() {
                check_delete(statement, problems);
            }
        }
    }
}

fn non_empty_list<'a>(node: &'a Node, what: &str, problems: &mut Problems) -> Option<&'a [Node]> {
    let items = node.expect_seq(what, problems)?;
    if items.is_empty() {
        problems.push(MongoError::EmptyList { at: node.at.clone(), what: what.to_string() });
    }
    Some(items)
}

fn check_validator(node: &Node, problems: &mut Problems) {
    let Some(map) = node.expect_map("`validator`", problems) else { return };
    for entry in map.entries.iter().filter(|entry| entry.key != "$jsonSchema") {
        problems.push(MongoError::ValidatorNotJsonSchema { at: entry.key_at.clone(), key: entry.key.clone() });
    }
    match map.get("$jsonSchema") {
        Some(schema) => json_schema::check_root(schema, problems),
        None if map.entries.is_empty() => {
            problems.push(MongoError::ValidatorNotJsonSchema { at: node.at.clone(), key: "{}".to_string() })
        }
        None => {}
    }
}

fn check_indexes(node: &Node, collection: &str, state: &mut FileState, problems: &mut Problems) {
    let Some(items) = non_empty_list(node, "`indexes` of `createIndexes`", problems) else { return };
    // Compared as text: key order matters (`{a: 1, b: 1}` is not `{b: 1, a: 1}`), and JSON
    // maps compare equal whatever their order.
    let mut keys: Vec<(String, String)> = Vec::new();
    for item in items {
        let checked = indexes::check(item, problems);
        if let Some((name, at)) = &checked.name {
            let slot = (collection.to_string(), name.clone());
            if let Some(first) = state.indexes.get(&slot) {
                problems.push(MongoError::DuplicateIndexName {
                    at: at.clone(),
                    name: name.clone(),
                    collection: collection.to_string(),
                    first: first.clone(),
                });
            } else {
                state.indexes.insert(slot, at.clone());
            }
        }
        if let Some(key) = checked.key.map(|key| key.to_string()) {
            if let Some((_, first)) = keys.iter().find(|(earlier, _)| *earlier == key) {
                problems.push(MongoError::DuplicateIndexKey { at: item.at.clone(), first: first.clone() });
            } else {
                let name = checked.name.map(|(name, _)| name).unwrap_or_default();
                keys.push((key, name));
            }
        }
    }
}

fn check_update(node: &Node, problems: &mut Problems) {
    let Some(statement) = node.expect_map("an update statement", problems) else { return };
    statement.check_keys(UPDATE_KEYS, "an update statement", problems);
    statement.require("q", "the update statement", &node.at, problems).map(|q| q.expect_map("`q`", problems));
    if let Some(upsert) = statement.get("upsert") {
        upsert.expect_bool("`upsert`", problems);
    }
    let multi = statement.get("multi").and_then(|multi| multi.expect_bool("`multi`", problems));
    let Some(u) = statement.require("u", "the update statement", &node.at, problems) else { return };
    let Some(update) = u.expect_map("`u`", problems) else { return };
    let operator = update.entries.iter().find(|entry| entry.key.starts_with('$'));
    let field = update.entries.iter().find(|entry| !entry.key.starts_with('$'));
    match (operator, field) {
        (Some(operator), Some(field)) => problems.push(MongoError::UpdateMixed {
            at: u.at.clone(),
            operator: operator.key.clone(),
            field: field.key.clone(),
        }),
        (None, Some(_)) if multi == Some(true) => problems.push(MongoError::MultiReplacement { at: u.at.clone() }),
        _ => {}
    }
}

fn check_delete(node: &Node, problems: &mut Problems) {
    let Some(statement) = node.expect_map("a delete statement", problems) else { return };
    statement.check_keys(DELETE_KEYS, "a delete statement", problems);
    statement.require("q", "the delete statement", &node.at, problems).map(|q| q.expect_map("`q`", problems));
    if let Some(limit) = statement.require("limit", "the delete statement (0: every match, 1: one)", &node.at, problems)
    {
        if !matches!(limit.value, Value::Integer(0) | Value::Integer(1)) {
            problems.push(MongoError::DeleteLimit { at: limit.at.clone(), found: limit.describe() });
        }
    }
}

/// The rules between a command's options, and between commands of one file.
fn check_command_rules(
    name: &str,
    map: &Map,
    item: &Node,
    collection: &str,
    state: &mut FileState,
    problems: &mut Problems,
) {
    match name {
        "create" => {
            let capped = matches!(map.get("capped").map(|node| &node.value), Some(Value::Bool(true)));
            if capped && map.get("size").is_none() {
                problems.push(MongoError::CappedWithoutSize { at: item.at.clone() });
            }
            for option in ["size", "max"] {
                if let (false, Some(node)) = (capped, map.get(option)) {
                    problems.push(MongoError::OnlyCapped { at: node.at.clone(), option });
                }
            }
        }
        "collMod" if map.entries.len() == 1 => problems.push(MongoError::EmptyCollMod { at: item.at.clone() }),
        "drop" => state.indexes.retain(|(owner, _), _| owner != collection),
        "renameCollection" => {
            let Some(to) = map.get("to").and_then(|node| match &node.value {
                Value::String(to) => Some((to.as_str(), node)),
                _ => None,
            }) else {
                return;
            };
            if to.0 == collection {
                problems.push(MongoError::RenameToSelf { at: to.1.at.clone(), name: collection.to_string() });
                return;
            }
            let moved: Vec<_> = state.indexes.keys().filter(|(owner, _)| owner == collection).cloned().collect();
            for key in moved {
                if let Some(at) = state.indexes.remove(&key) {
                    state.indexes.insert((to.0.to_string(), key.1), at);
                }
            }
        }
        _ => {}
    }
}

/// The editor schema of one command item (under `$defs/command`), from [`COMMANDS`].
pub fn editor_schema() -> Json {
    let variants: Vec<Json> = COMMANDS
        .iter()
        .map(|command| {
            let mut properties = serde_json::Map::new();
            properties.insert(
                command.name.to_string(),
                json!({ "description": format!("{} The value is the collection's name.", command.description), "$ref": "#/$defs/collection" }),
            );
            let mut required = vec![command.name];
            for option in command.options {
                let mut schema = option_schema(option.kind);
                schema["description"] = Json::String(option.description.to_string());
                properties.insert(option.name.to_string(), schema);
                if option.required {
                    required.push(option.name);
                }
            }
            json!({
                "type": "object",
                "description": command.description,
                "additionalProperties": false,
                "required": required,
                "properties": properties,
            })
        })
        .collect();
    json!({ "oneOf": variants })
}

fn option_schema(kind: OptionKind) -> Json {
    match kind {
        OptionKind::Validator => json!({
            "type": "object",
            "additionalProperties": false,
            "required": ["$jsonSchema"],
            "properties": { "$jsonSchema": { "$ref": "#/$defs/jsonSchema" } },
        }),
        OptionKind::OneOf(values) => json!({ "enum": values }),
        OptionKind::Bool => json!({ "type": "boolean" }),
        OptionKind::PositiveInteger => json!({ "type": "integer", "minimum": 1 }),
        OptionKind::CollectionName => json!({ "$ref": "#/$defs/collection" }),
        OptionKind::Indexes => json!({ "type": "array", "minItems": 1, "items": { "$ref": "#/$defs/index" } }),
        OptionKind::IndexName => json!({ "type": "string", "minLength": 1, "not": { "enum": ["_id_", "*"] } }),
        OptionKind::IndexChange => json!({
            "type": "object",
            "additionalProperties": false,
            "required": ["name", "expireAfterSeconds"],
            "properties": {
                "name": { "type": "string", "minLength": 1 },
                "expireAfterSeconds": { "type": "integer", "minimum": 0, "maximum": indexes::MAX_TTL_SECONDS },
            },
        }),
        OptionKind::Documents => json!({ "type": "array", "minItems": 1, "items": { "type": "object" } }),
        OptionKind::Updates => json!({ "type": "array", "minItems": 1, "items": {
            "type": "object",
            "additionalProperties": false,
            "required": ["q", "u"],
            "properties": {
                "q": { "type": "object" },
                "u": { "type": "object" },
                "upsert": { "type": "boolean" },
                "multi": { "type": "boolean" },
            },
        }}),
        OptionKind::Deletes => json!({ "type": "array", "minItems": 1, "items": {
            "type": "object",
            "additionalProperties": false,
            "required": ["q", "limit"],
            "properties": { "q": { "type": "object" }, "limit": { "enum": [0, 1] } },
        }}),
    }
}

/// The collection name rules the editor schema can express.
pub fn collection_schema() -> Json {
    json!({
        "type": "string",
        "minLength": 1,
        "maxLength": names::MAX_COLLECTION_NAME,
        "pattern": "^[A-Za-z_][^$\\u0000]*$",
        "not": { "anyOf": [{ "pattern": "^system\\." }, { "const": names::HISTORY_COLLECTION }] },
    })
}
