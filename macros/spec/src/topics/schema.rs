//! The JSON Schema of `kafka_topics.yml`, built from the key lists and config table the checks
//! in `topics` use, so the schema cannot drift from them.

use serde_json::{json, Map as JsonMap, Value as Json};

use super::{DEFAULTS_KEYS, FILE_KEYS, MAX_NAME_LENGTH, NAME_PATTERN, TOPIC_KEYS};
use crate::topic_config;

/// The JSON Schema of `kafka_topics.yml` (draft 2020-12), for editors and for checking the file
/// outside a build. Built from the same key lists and config table as the checks.
pub fn json_schema() -> Json {
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "kafka_topics.yml",
        "description": "The Kafka topics of Trade Forge: created or altered by `migrator migrate`, in declaration order.",
        "type": "object",
        "additionalProperties": false,
        "required": ["topics"],
        "properties": properties(FILE_KEYS),
        "$defs": { "config": config_schema() },
    })
}

fn properties(keys: &[&str]) -> Json {
    Json::Object(keys.iter().map(|key| (key.to_string(), field_schema(key))).collect())
}

/// The schema of a key of the file, of `defaults` or of a topic; a key means the same wherever
/// it appears.
fn field_schema(key: &str) -> Json {
    match key {
        "defaults" => json!({
            "description": "What every topic inherits unless it sets it itself.",
            "type": "object",
            "additionalProperties": false,
            "properties": properties(DEFAULTS_KEYS),
        }),
        "topics" => json!({
            "description": "The topics, in the order they are created.",
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": false,
                "required": ["name"],
                "properties": properties(TOPIC_KEYS),
            },
        }),
        "name" => json!({
            "description": "The topic's name: letters, digits, `.`, `_` and `-`, at most 249 characters. Application code gets it as `topics::<NAME>`.",
            "type": "string",
            "minLength": 1,
            "maxLength": MAX_NAME_LENGTH,
            "pattern": NAME_PATTERN,
            "not": { "enum": [".", ".."] },
        }),
        "partitions" => json!({
            "description": "Number of partitions; required on the topic or in `defaults`.",
            "type": "integer",
            "minimum": 1,
            "maximum": i32::MAX,
        }),
        "replication_factor" => json!({
            "description": "Number of replicas of each partition; required on the topic or in `defaults`.",
            "type": "integer",
            "minimum": 1,
            "maximum": i16::MAX,
        }),
        "config" => json!({
            "description": "Kafka topic configs; a topic's keys are laid over those of `defaults`, key by key.",
            "$ref": "#/$defs/config",
        }),
        "deleted" => json!({
            "description": "A tombstone: the topic is no longer wanted; the runtime deletes it only with `--allow-delete`.",
            "type": "boolean",
        }),
        _ => json!({}),
    }
}

fn config_schema() -> Json {
    let properties: JsonMap<String, Json> =
        topic_config::KEYS.iter().map(|key| (key.name.to_string(), key.json_schema())).collect();
    json!({
        "type": "object",
        "additionalProperties": false,
        "properties": properties,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn property_names(schema: &Json) -> Vec<String> {
        schema["properties"].as_object().map(|properties| properties.keys().cloned().collect()).unwrap_or_default()
    }

    #[test]
    fn schema_lists_exactly_the_keys_the_checks_allow() {
        let schema = json_schema();
        assert_eq!(property_names(&schema), FILE_KEYS);
        assert_eq!(property_names(&schema["properties"]["defaults"]), DEFAULTS_KEYS);
        assert_eq!(property_names(&schema["properties"]["topics"]["items"]), TOPIC_KEYS);
        let config_keys: Vec<&str> = topic_config::KEYS.iter().map(|key| key.name).collect();
        assert_eq!(property_names(&schema["$defs"]["config"]), config_keys);
    }

    #[test]
    fn schema_closes_every_mapping_and_describes_every_key() {
        let schema = json_schema();
        let topic = &schema["properties"]["topics"]["items"];
        for object in [&schema, &schema["properties"]["defaults"], topic, &schema["$defs"]["config"]] {
            assert_eq!(object["additionalProperties"], false);
            for (key, property) in object["properties"].as_object().into_iter().flatten() {
                assert!(property["description"].is_string(), "`{key}` has no description");
            }
        }
        assert_eq!(schema["required"], json!(["topics"]));
        assert_eq!(topic["required"], json!(["name"]));
    }
}
