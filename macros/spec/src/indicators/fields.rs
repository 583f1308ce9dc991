//! The vocabulary of the format: the keys of each definition object, each with its title,
//! description and value schema (the checks allow exactly these keys and the JSON Schema documents
//! exactly these), the name rules, and what a parameter's type implies.

use serde_json::{json, Value as Json};

use crate::model::{Category, OutputKind, ParameterKind};

/// An indicator or parameter name: lower_snake_case. The checks match it by hand (this crate has
/// no regex engine); the schema states it as this pattern.
pub const NAME_PATTERN: &str = "^[a-z][a-z0-9]*(_[a-z0-9]+)*$";

/// The longest indicator name: PostgreSQL's identifier limit (`NAMEDATALEN` - 1 bytes).
pub const NAME_MAX_LENGTH: usize = 63;

/// One key of a definition object. The checks allow exactly these keys and the schema documents
/// exactly these, with their title, description and value schema.
pub(super) struct Field {
    pub(super) key: &'static str,
    pub(super) required: bool,
    pub(super) title: &'static str,
    pub(super) description: &'static str,
    pub(super) schema: fn() -> Json,
}

/// The keys of an indicator definition, in canonical order.
pub(super) const INDICATOR_FIELDS: [Field; 6] = [
    Field {
        key: "name",
        required: true,
        title: "Name",
        description: "Unique key of the indicator: lower_snake_case, at most 63 characters. It becomes a \
                      PostgreSQL key and a Rust constant.",
        schema: indicator_name_schema,
    },
    Field {
        key: "display_name",
        required: true,
        title: "Display name",
        description: "Human-readable name shown to users.",
        schema: display_name_schema,
    },
    Field {
        key: "category",
        required: true,
        title: "Category",
        description: "Family of the indicator.",
        schema: category_schema,
    },
    Field {
        key: "description",
        required: false,
        title: "Description",
        description: "What the indicator measures and how to read it.",
        schema: string_schema,
    },
    Field {
        key: "parameters",
        required: false,
        title: "Parameters",
        description: "Inputs of the calculation, each with a type and optional default and bounds.",
        schema: parameters_schema,
    },
    Field {
        key: "outputs",
        required: true,
        title: "Outputs",
        description: "Series the calculation produces; at least one.",
        schema: outputs_schema,
    },
];

/// The keys of a parameter, in canonical order.
pub(super) const PARAMETER_FIELDS: [Field; 6] = [
    Field {
        key: "name",
        required: true,
        title: "Name",
        description: "lower_snake_case, unique within the indicator.",
        schema: parameter_name_schema,
    },
    Field {
        key: "type",
        required: true,
        title: "Type",
        description: "Type of the parameter's value.",
        schema: parameter_type_schema,
    },
    Field {
        key: "default",
        required: false,
        title: "Default",
        description: "Value used when none is given; of the parameter's type, within `min`..`max`, one of \
                      `values` for an enum.",
        schema: default_schema,
    },
    Field {
        key: "min",
        required: false,
        title: "Minimum",
        description: "Smallest allowed value (inclusive); integer and float parameters only.",
        schema: number_schema,
    },
    Field {
        key: "max",
        required: false,
        title: "Maximum",
        description: "Largest allowed value (inclusive); integer and float parameters only.",
        schema: number_schema,
    },
    Field {
        key: "values",
        required: false,
        title: "Values",
        description: "Allowed values of an enum parameter; required for enums, not allowed otherwise.",
        schema: values_schema,
    },
];

/// The keys of an output, in canonical order.
pub(super) const OUTPUT_FIELDS: [Field; 2] = [
    Field {
        key: "name",
        required: true,
        title: "Name",
        description: "Name of the series, unique within the indicator.",
        schema: string_schema,
    },
    Field {
        key: "type",
        required: true,
        title: "Type",
        description: "Type of the series.",
        schema: output_type_schema,
    },
];

/// The keys of `fields`, as [`crate::tree::Map::check_keys`] takes them.
pub(super) fn keys(fields: &[Field]) -> Vec<&'static str> {
    fields.iter().map(|field| field.key).collect()
}

/// Bounds apply to these kinds only.
pub(super) fn is_numeric(kind: ParameterKind) -> bool {
    matches!(kind, ParameterKind::Integer | ParameterKind::Float)
}

/// The JSON Schema `type` of a default (and of the bounds) of `kind`. JSON Schema's `integer`
/// accepts `14.0` and its `number` accepts `2`, as [`super::parameters::check_default_type`] does.
pub(super) fn json_type(kind: ParameterKind) -> &'static str {
    match kind {
        ParameterKind::Integer => "integer",
        ParameterKind::Float => "number",
        ParameterKind::Boolean => "boolean",
        ParameterKind::String | ParameterKind::Enum => "string",
    }
}

/// `value` as an `i64` when it is a whole number that fits.
pub(super) fn as_whole(value: f64) -> Option<i64> {
    // 2^63 is exactly representable; `as` would saturate anything beyond it silently.
    let in_range = (-(2f64.powi(63))..2f64.powi(63)).contains(&value);
    (in_range && value.fract() == 0.0).then_some(value as i64)
}

fn indicator_name_schema() -> Json {
    json!({ "type": "string", "pattern": NAME_PATTERN, "maxLength": NAME_MAX_LENGTH })
}

fn parameter_name_schema() -> Json {
    json!({ "type": "string", "pattern": NAME_PATTERN })
}

/// At least one character that is not white space, as [`super::check::check_display_name`] requires.
fn display_name_schema() -> Json {
    json!({ "type": "string", "pattern": "\\S" })
}

fn category_schema() -> Json {
    json!({ "type": "string", "enum": Category::ALL.map(Category::as_str) })
}

fn string_schema() -> Json {
    json!({ "type": "string" })
}

fn parameters_schema() -> Json {
    json!({ "type": "array", "items": { "$ref": "#/definitions/parameter" } })
}

fn outputs_schema() -> Json {
    json!({ "type": "array", "minItems": 1, "items": { "$ref": "#/definitions/output" } })
}

fn parameter_type_schema() -> Json {
    json!({ "type": "string", "enum": ParameterKind::ALL.map(ParameterKind::as_str) })
}

/// Narrowed per type in [`super::schema::parameter_kind_schema`].
fn default_schema() -> Json {
    json!({ "type": ["number", "boolean", "string"] })
}

fn number_schema() -> Json {
    json!({ "type": "number" })
}

fn values_schema() -> Json {
    json!({ "type": "array", "minItems": 1, "uniqueItems": true, "items": { "type": "string" } })
}

fn output_type_schema() -> Json {
    json!({ "type": "string", "enum": OutputKind::ALL.map(OutputKind::as_str) })
}
