//! The JSON Schema of an indicator file, built from the same field tables and enums as the checks.

use serde_json::{json, Value as Json};

use super::fields::{is_numeric, json_type, Field, INDICATOR_FIELDS, OUTPUT_FIELDS, PARAMETER_FIELDS};
use crate::model::ParameterKind;

/// A JSON Schema (draft-07) of an indicator file, for editors and for testing the repository's
/// files, built from the same field lists and enums as the checks. Rules that a schema cannot
/// state (unique names, a default within its bounds or among its values, `min` ≤ `max`) are
/// left to [`super::check`].
pub fn json_schema() -> Json {
    json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "Trade Forge indicator catalogue",
        "description": "One file of `indicators/data/*.json`: a list of indicator definitions.",
        "type": "array",
        "items": { "$ref": "#/definitions/indicator" },
        "definitions": {
            "indicator": object_schema("Indicator", "One indicator of the catalogue.", &INDICATOR_FIELDS),
            "parameter": parameter_schema(),
            "output": object_schema("Output", "One series the indicator produces.", &OUTPUT_FIELDS),
        },
    })
}

/// An object that allows exactly `fields`, each documented by its title and description.
fn object_schema(title: &str, description: &str, fields: &[Field]) -> Json {
    let properties: serde_json::Map<String, Json> =
        fields.iter().map(|field| (field.key.to_string(), property(field))).collect();
    let required: Vec<&str> = fields.iter().filter(|field| field.required).map(|field| field.key).collect();
    json!({
        "title": title,
        "description": description,
        "type": "object",
        "additionalProperties": false,
        "required": required,
        "properties": properties,
    })
}

/// A field's value schema with its title and description first, as editors show them.
fn property(field: &Field) -> Json {
    let mut property = serde_json::Map::new();
    property.insert("title".into(), json!(field.title));
    property.insert("description".into(), json!(field.description));
    if let Json::Object(schema) = (field.schema)() {
        property.extend(schema);
    }
    Json::Object(property)
}

/// A parameter object, plus what its `type` implies for `default`, `min`, `max` and `values`.
fn parameter_schema() -> Json {
    let mut schema = object_schema("Parameter", "One input of the calculation.", &PARAMETER_FIELDS);
    let per_kind: Vec<Json> = ParameterKind::ALL.into_iter().map(parameter_kind_schema).collect();
    if let Json::Object(object) = &mut schema {
        object.insert("allOf".into(), Json::Array(per_kind));
    }
    schema
}

/// "If `type` is `kind`, then …": the type of `default` and the bounds, bounds only on numeric
/// kinds (`false` forbids the key), `values` required on enums and forbidden elsewhere.
fn parameter_kind_schema(kind: ParameterKind) -> Json {
    let bound = if is_numeric(kind) { json!({ "type": json_type(kind) }) } else { json!(false) };
    let values = if kind == ParameterKind::Enum { json!(true) } else { json!(false) };
    let mut then = json!({
        "properties": {
            "default": { "type": json_type(kind) },
            "min": bound,
            "max": bound,
            "values": values,
        },
    });
    if let (ParameterKind::Enum, Json::Object(object)) = (kind, &mut then) {
        object.insert("required".into(), json!(["values"]));
    }
    json!({
        "if": { "properties": { "type": { "const": kind.as_str() } }, "required": ["type"] },
        "then": then,
    })
}
