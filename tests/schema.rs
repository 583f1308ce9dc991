//! The JSON Schemas in `schema/` are generated from the checks' own key tables; this test keeps
//! the committed files current and proves the repository's own sources satisfy them.

use std::path::Path;

use tradeforge_migrator_spec::diag::Problems;
use tradeforge_migrator_spec::{schema, source, tree};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn committed_schemas_are_up_to_date() {
    let mut stale = Vec::new();
    for (name, generated) in schema::files() {
        let path = root().join("schema").join(name);
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        if committed != generated {
            // Like rust-analyzer's codegen tests: fix the file, then fail so the change is seen.
            std::fs::write(&path, &generated).expect("schema/ is writable");
            stale.push(name);
        }
    }
    assert!(stale.is_empty(), "regenerated stale schema files {stale:?}; review and commit them");
}

fn validate(schema_name: &str, document: &serde_json::Value, what: &str) {
    let schema_text = schema::files().into_iter().find(|(name, _)| *name == schema_name).expect("schema exists").1;
    let schema: serde_json::Value = serde_json::from_str(&schema_text).expect("schema is JSON");
    let validator = jsonschema::validator_for(&schema).expect("schema is a valid JSON Schema");
    let errors: Vec<String> = validator.iter_errors(document).map(|error| error.to_string()).collect();
    assert!(errors.is_empty(), "{what} does not satisfy {schema_name}: {errors:#?}");
}

#[test]
fn repository_kafka_topics_satisfy_the_schema() {
    let text = source::read(root(), "kafka_topics.yml").expect("kafka_topics.yml is readable");
    let mut problems = Problems::default();
    let node = tree::parse_yaml("kafka_topics.yml", &text, &mut problems).expect("kafka_topics.yml parses");
    validate("kafka_topics.schema.json", &node.to_json(), "kafka_topics.yml");
}

#[test]
fn repository_indicators_satisfy_the_schema() {
    let inputs = source::discover(root()).expect("sources are listable");
    assert!(!inputs.indicator_files.is_empty(), "the repository declares indicators");
    for path in &inputs.indicator_files {
        let text = source::read(root(), path).expect("indicator file is readable");
        let document: serde_json::Value = serde_json::from_str(&text).expect("indicator file is JSON");
        validate("indicators.schema.json", &document, path);
    }
}

#[test]
fn schema_rejects_what_the_checks_reject() {
    // The agreement runs both ways: an unknown key is refused by the schema as by the checks.
    let document = serde_json::json!({ "topics": [{ "name": "a", "partitons": 3 }] });
    let schema: serde_json::Value = serde_json::from_str(&schema::files()[0].1).expect("schema is JSON");
    let validator = jsonschema::validator_for(&schema).expect("schema is a valid JSON Schema");
    assert!(!validator.is_valid(&document));
}

/// This repository's MongoDB migrations satisfy the editor schema, and a mistake the checks reject
/// does not.
#[test]
fn mongodb_migrations_satisfy_the_schema_and_mistakes_do_not() {
    let root = root();
    let mut checked = 0;
    for direction in ["upgrade", "downgrade"] {
        let folder = format!("migrations/mongodb/{direction}");
        for entry in std::fs::read_dir(root.join(&folder)).expect("fixture folder is listable") {
            let name = entry.expect("fixture entry").file_name().into_string().expect("UTF-8 name");
            let path = format!("{folder}/{name}");
            let text = source::read(root, &path).expect("fixture is readable");
            let mut problems = Problems::default();
            let node = tree::parse_yaml(&path, &text, &mut problems).expect("fixture parses");
            validate("mongodb_migration.schema.json", &node.to_json(), &path);
            checked += 1;
        }
    }
    assert_eq!(checked, 12, "six paired migrations");
    let schema_text = schema::files()
        .into_iter()
        .find(|(name, _)| *name == "mongodb_migration.schema.json")
        .expect("schema exists")
        .1;
    let schema: serde_json::Value = serde_json::from_str(&schema_text).expect("schema is JSON");
    let validator = jsonschema::validator_for(&schema).expect("schema is a valid JSON Schema");
    for mistake in [
        serde_json::json!({ "commands": [{ "createIndex": "a", "indexes": [] }] }),
        serde_json::json!({ "commands": [{ "create": "a", "validationActon": "warn" }] }),
        serde_json::json!({ "commands": [{ "create": "a", "validator": { "$jsonSchema": { "bsonType": "integer" } } }] }),
        serde_json::json!({ "commands": [{ "create": "a", "validator": { "$jsonSchema": { "format": "date" } } }] }),
        serde_json::json!({ "commands": [{ "createIndexes": "a", "indexes": [{ "key": { "x": 2 }, "name": "x" }] }] }),
        serde_json::json!({ "commands": [{ "drop": "system.users" }] }),
        serde_json::json!({ "commands": [{ "drop": "migrations" }] }),
        serde_json::json!({ "commands": [] }),
    ] {
        assert!(!validator.is_valid(&mistake), "the schema accepts {mistake}");
    }
}
