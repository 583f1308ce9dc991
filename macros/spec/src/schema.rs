//! The JSON Schemas in `schema/`, for editors. They are generated from the same key tables the
//! checks use (`topics::json_schema`, `indicators::json_schema`,
//! `mongodb::editor_schema::json_schema`), so the two cannot drift; a test regenerates the
//! committed files and fails when they were stale.

/// Each schema file under `schema/` with its content, pretty-printed with a final newline.
pub fn files() -> Vec<(&'static str, String)> {
    vec![
        ("kafka_topics.schema.json", pretty(&crate::topics::json_schema())),
        ("indicators.schema.json", pretty(&crate::indicators::json_schema())),
        ("mongodb_migration.schema.json", pretty(&crate::mongodb::editor_schema::json_schema())),
    ]
}

fn pretty(schema: &serde_json::Value) -> String {
    // A `Value` always serialises.
    let mut text = serde_json::to_string_pretty(schema).unwrap_or_default();
    text.push('\n');
    text
}
