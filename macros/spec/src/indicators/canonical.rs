//! The canonical JSON the runtime stores and hashes for each definition.

use serde_json::{json, Value as Json};

use super::fields::as_whole;
use crate::model::{Indicator, Parameter, ParameterKind, Value};

/// The whole definition as compact canonical JSON, keys in the order of the format above:
/// `description` only when set, `parameters` and `outputs` always (possibly `[]`). The runtime
/// hashes it to skip unchanged rows, so equal definitions always give the same text: a float
/// default written `2` renders as `2.0`, integer bounds as whole numbers. The source file is left
/// out, so moving a definition between files does not change it.
pub fn definition_json(indicator: &Indicator) -> String {
    canonical_forms(indicator).definition
}

/// The three canonical texts of one definition, each part rendered once.
pub(super) struct CanonicalForms {
    pub parameters: String,
    pub outputs: String,
    pub definition: String,
}

/// [`parameters_json`], [`outputs_json`] and [`definition_json`] at once: the definition holds
/// the other two, so building each value once saves two thirds of the work for a catalogue.
pub(super) fn canonical_forms(indicator: &Indicator) -> CanonicalForms {
    let parameters = parameters_value(indicator);
    let outputs = outputs_value(indicator);
    let (parameters_text, outputs_text) = (parameters.to_string(), outputs.to_string());
    let mut object = serde_json::Map::new();
    object.insert("name".into(), json!(indicator.name));
    object.insert("display_name".into(), json!(indicator.display_name));
    object.insert("category".into(), json!(indicator.category.as_str()));
    if let Some(description) = &indicator.description {
        object.insert("description".into(), json!(description));
    }
    object.insert("parameters".into(), parameters);
    object.insert("outputs".into(), outputs);
    CanonicalForms { parameters: parameters_text, outputs: outputs_text, definition: Json::Object(object).to_string() }
}

/// The parameters as a compact canonical JSON array, for the JSONB column `parameters`; each
/// object has the keys `name`, `type`, `default`, `min`, `max`, `values` in that order, the last four
/// only when set.
pub fn parameters_json(indicator: &Indicator) -> String {
    parameters_value(indicator).to_string()
}

/// The outputs as a compact canonical JSON array (`[{"name":"value","type":"float"}]`), for the
/// JSONB column `outputs`.
pub fn outputs_json(indicator: &Indicator) -> String {
    outputs_value(indicator).to_string()
}

fn parameters_value(indicator: &Indicator) -> Json {
    Json::Array(indicator.parameters.iter().map(parameter_value).collect())
}

fn parameter_value(parameter: &Parameter) -> Json {
    let mut object = serde_json::Map::new();
    object.insert("name".into(), json!(parameter.name));
    object.insert("type".into(), json!(parameter.kind.as_str()));
    if let Some(default) = &parameter.default {
        object.insert("default".into(), default_value(default));
    }
    for (key, bound) in [("min", parameter.min), ("max", parameter.max)] {
        if let Some(bound) = bound {
            object.insert(key.into(), bound_value(bound, parameter.kind));
        }
    }
    if !parameter.values.is_empty() {
        object.insert("values".into(), json!(parameter.values));
    }
    Json::Object(object)
}

fn default_value(default: &Value) -> Json {
    match default {
        Value::Integer(value) => json!(value),
        Value::Float(value) => float_value(*value),
        Value::Boolean(value) => json!(value),
        Value::String(value) => json!(value),
    }
}

/// Integer bounds render as whole numbers (`2`), float bounds always with a fraction (`2.0`), so
/// the text depends on the value and type, not on how the bound was written.
fn bound_value(bound: f64, kind: ParameterKind) -> Json {
    match (kind, as_whole(bound)) {
        (ParameterKind::Integer, Some(whole)) => json!(whole),
        _ => float_value(bound),
    }
}

/// serde_json writes every finite `f64` with a fraction or exponent (`2.0`); checked values are
/// always finite, and anything else would be `null`.
fn float_value(value: f64) -> Json {
    serde_json::Number::from_f64(value).map_or(Json::Null, Json::Number)
}

fn outputs_value(indicator: &Indicator) -> Json {
    let outputs = indicator.outputs.iter().map(|output| json!({ "name": output.name, "type": output.kind.as_str() }));
    Json::Array(outputs.collect())
}
