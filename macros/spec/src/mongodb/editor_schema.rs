//! The JSON Schema of a MongoDB migration file, for editors (`schema/mongodb_migration.schema.json`),
//! built from the tables the checks use: [`commands::COMMANDS`], [`indexes::INDEX_OPTIONS`] and
//! [`json_schema::KEYWORDS`].

use serde_json::{json, Value as Json};

use super::{commands, indexes, json_schema, IRREVERSIBLE, NO_OP};

pub fn json_schema() -> Json {
    let reason = json!({ "type": "string", "minLength": 1 });
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "MongoDB migration",
        "description": "migrations/mongodb/{upgrade,downgrade}/V<version>-<description>.yml: the database commands of one migration, run in order.",
        "type": "object",
        "additionalProperties": false,
        "properties": {
            "commands": {
                "description": "The commands, in the order they run.",
                "type": "array",
                "minItems": 1,
                "items": { "$ref": "#/$defs/command" },
            },
            NO_OP: { "description": "Downgrade only: it undoes nothing, for this reason.", "allOf": [reason] },
            IRREVERSIBLE: { "description": "Downgrade only: the upgrade cannot be undone, for this reason.", "allOf": [reason] },
        },
        "oneOf": [
            { "required": ["commands"] },
            { "required": [NO_OP] },
            { "required": [IRREVERSIBLE] },
        ],
        "$defs": {
            "command": commands::editor_schema(),
            "collection": commands::collection_schema(),
            "index": indexes::editor_schema(),
            "jsonSchema": json_schema::editor_schema(),
        },
    })
}
