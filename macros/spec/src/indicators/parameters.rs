//! The checks of an indicator's parameters: names, types, bounds, enum values and defaults.

use super::check::{is_snake_case, FirstSeen};
use super::error::IndicatorError;
use super::fields::{as_whole, is_numeric, PARAMETER_FIELDS};
use super::read::{backticked, finite_number, Object};
use crate::diag::{DidYouMean, Location, Problems};
use crate::model::{Parameter, ParameterKind, Value};
use crate::tree::{self, Entry, Node};

/// The optional `parameters` list; the parameters that are valid.
pub(super) fn check_parameters(indicator: &Object, problems: &mut Problems) -> Vec<Parameter> {
    let Some(node) = indicator.map.get("parameters") else { return Vec::new() };
    let what = format!("`parameters` of {}", indicator.context);
    let Some(items) = node.expect_seq(&what, problems) else { return Vec::new() };
    let mut declared = FirstSeen::default();
    items.iter().filter_map(|item| check_parameter(item, &indicator.context, &mut declared, problems)).collect()
}

/// One parameter, with every rule about it; `None` when anything about it is wrong. Rules that
/// depend on the type are skipped when the type is unknown, so one typo gives one error.
fn check_parameter(
    node: &Node,
    indicator: &str,
    declared: &mut FirstSeen,
    problems: &mut Problems,
) -> Option<Parameter> {
    let before = problems.len();
    let named = |name: &str| format!("parameter `{name}` of {indicator}");
    let object = Object::read(node, &PARAMETER_FIELDS, &format!("a parameter of {indicator}"), named, problems)?;
    let parameter = object.context.as_str();
    let name = object.required_str("name", problems);
    if let Some((name, name_node)) = name {
        check_parameter_name(name, &name_node.at, indicator, problems);
        check_parameter_unique(name, &name_node.at, parameter, declared, problems);
    }
    let kind = object
        .required_str("type", problems)
        .and_then(|(kind, kind_node)| check_parameter_type(kind, &kind_node.at, parameter, problems));
    let min = check_bound(&object, "min", kind, problems);
    let max = check_bound(&object, "max", kind, problems);
    check_min_not_above_max(min, max, parameter, problems);
    let values = kind.map_or_else(Vec::new, |kind| check_values(&object, kind, problems));
    let default_node = object.map.get("default");
    let default = match (default_node, kind) {
        (Some(node), Some(kind)) => check_default_type(node, kind, parameter, problems),
        _ => None,
    };
    if let (Some(default), Some(node)) = (&default, default_node) {
        check_default_within_bounds(default, &node.at, min, max, parameter, problems);
        check_default_among_values(default, &node.at, &values, parameter, problems);
    }
    if problems.len() > before {
        return None;
    }
    Some(Parameter {
        name: name?.0.to_string(),
        kind: kind?,
        default,
        min: min.map(|(min, _)| min),
        max: max.map(|(max, _)| max),
        values,
    })
}

/// Parameter names are keys of the JSONB `parameters` column and of the calls that pass them,
/// so they follow the same spelling as indicator names.
fn check_parameter_name(name: &str, at: &Location, indicator: &str, problems: &mut Problems) {
    if !is_snake_case(name) {
        let (indicator, name) = (indicator.to_string(), name.to_string());
        problems.push(IndicatorError::ParameterNameNotSnakeCase { at: at.clone(), indicator, name });
    }
}

/// A caller passes parameters by name; two with one name could not both be given.
fn check_parameter_unique(
    name: &str,
    at: &Location,
    parameter: &str,
    declared: &mut FirstSeen,
    problems: &mut Problems,
) {
    if let Some(first) = declared.insert(name, at) {
        problems.push(IndicatorError::DuplicateParameter { at: at.clone(), parameter: parameter.to_string(), first });
    }
}

/// The type decides how the runtime reads the value; an unknown one could not be read.
fn check_parameter_type(kind: &str, at: &Location, parameter: &str, problems: &mut Problems) -> Option<ParameterKind> {
    let found = ParameterKind::ALL.into_iter().find(|known| known.as_str() == kind);
    if found.is_none() {
        let known = ParameterKind::ALL.map(ParameterKind::as_str);
        problems.push(IndicatorError::UnknownParameterType {
            at: at.clone(),
            parameter: parameter.to_string(),
            kind: kind.to_string(),
            hint: DidYouMean::find(kind, known),
            allowed: backticked(known),
        });
    }
    found
}

/// `min` or `max`, with the node it was written at: a finite number, on a numeric parameter,
/// whole for an integer one.
fn check_bound<'a>(
    parameter: &Object<'a>,
    key: &str,
    kind: Option<ParameterKind>,
    problems: &mut Problems,
) -> Option<(f64, &'a Node)> {
    let entry = parameter.entry(key)?;
    let parameter = parameter.context.as_str();
    let value = finite_number(&entry.value, &format!("`{key}` of {parameter}"), problems)?;
    let kind = kind?;
    check_bound_on_numeric_type(entry, kind, parameter, problems)?;
    check_integer_bound_is_whole(entry, value, kind, parameter, problems)?;
    Some((value, &entry.value))
}

/// Bounds mean nothing for a boolean, string or enum; accepting them would suggest they are
/// enforced.
fn check_bound_on_numeric_type(
    entry: &Entry,
    kind: ParameterKind,
    parameter: &str,
    problems: &mut Problems,
) -> Option<()> {
    if is_numeric(kind) {
        return Some(());
    }
    problems.push(IndicatorError::BoundOnNonNumeric {
        at: entry.key_at.clone(),
        parameter: parameter.to_string(),
        key: entry.key.clone(),
        kind: kind.as_str(),
    });
    None
}

/// An integer parameter can never equal a fractional bound, so such a bound is a mistake.
fn check_integer_bound_is_whole(
    entry: &Entry,
    value: f64,
    kind: ParameterKind,
    parameter: &str,
    problems: &mut Problems,
) -> Option<()> {
    if kind != ParameterKind::Integer || as_whole(value).is_some() {
        return Some(());
    }
    problems.push(IndicatorError::BoundNotWhole {
        at: entry.value.at.clone(),
        parameter: parameter.to_string(),
        key: entry.key.clone(),
        value,
    });
    None
}

/// With `min` above `max` no value would be allowed.
fn check_min_not_above_max(
    min: Option<(f64, &Node)>,
    max: Option<(f64, &Node)>,
    parameter: &str,
    problems: &mut Problems,
) {
    if let (Some((min, min_node)), Some((max, max_node))) = (min, max) {
        if min > max {
            problems.push(IndicatorError::MinAboveMax {
                at: min_node.at.clone(),
                parameter: parameter.to_string(),
                min,
                max,
                max_at: max_node.at.clone(),
            });
        }
    }
}

/// The choices of a parameter: only an enum has them, at least one, each a string, none twice.
fn check_values(object: &Object, kind: ParameterKind, problems: &mut Problems) -> Vec<String> {
    let (entry, parameter) = (object.entry("values"), object.context.as_str());
    if kind != ParameterKind::Enum {
        check_values_only_on_enums(entry, kind, parameter, problems);
        return Vec::new();
    }
    let what = format!("`values` of {parameter}");
    let Some(items) = entry.map_or(Some(&[][..]), |entry| entry.value.expect_seq(&what, problems)) else {
        return Vec::new();
    };
    check_enum_has_values(items, entry.map_or(object.at, |entry| &entry.value.at), parameter, problems);
    let mut seen = FirstSeen::default();
    let mut values = Vec::new();
    for item in items {
        let Some(value) = item.expect_str(&format!("a value of {parameter}"), problems) else { continue };
        if check_value_unique(value, &item.at, parameter, &mut seen, problems) {
            values.push(value.to_string());
        }
    }
    values
}

/// Choices mean nothing for other types; accepting them would suggest they are enforced.
fn check_values_only_on_enums(entry: Option<&Entry>, kind: ParameterKind, parameter: &str, problems: &mut Problems) {
    if let Some(entry) = entry {
        let (at, parameter, kind) = (entry.key_at.clone(), parameter.to_string(), kind.as_str());
        problems.push(IndicatorError::ValuesOnNonEnum { at, parameter, kind });
    }
}

/// An enum without choices could never be given a value.
fn check_enum_has_values(items: &[Node], at: &Location, parameter: &str, problems: &mut Problems) {
    if items.is_empty() {
        problems.push(IndicatorError::EnumWithoutValues { at: at.clone(), parameter: parameter.to_string() });
    }
}

/// A choice listed twice is a typo or a leftover.
fn check_value_unique(
    value: &str,
    at: &Location,
    parameter: &str,
    declared: &mut FirstSeen,
    problems: &mut Problems,
) -> bool {
    let Some(first) = declared.insert(value, at) else { return true };
    let (parameter, value) = (parameter.to_string(), value.to_string());
    problems.push(IndicatorError::DuplicateEnumValue { at: at.clone(), parameter, value, first });
    false
}

/// The runtime hands the default to the calculation as the declared type. A float may be written
/// as a whole number (`2` is `2.0`), and, as in JSON Schema, an integer may be written `14.0`.
pub(super) fn check_default_type(
    node: &Node,
    kind: ParameterKind,
    parameter: &str,
    problems: &mut Problems,
) -> Option<Value> {
    let value = match (kind, &node.value) {
        (ParameterKind::Integer, tree::Value::Integer(value)) => Some(Value::Integer(*value)),
        (ParameterKind::Integer, tree::Value::Float(value)) => as_whole(*value).map(Value::Integer),
        (ParameterKind::Float, tree::Value::Integer(value)) => Some(Value::Float(*value as f64)),
        (ParameterKind::Float, tree::Value::Float(value)) if value.is_finite() => Some(Value::Float(*value)),
        (ParameterKind::Boolean, tree::Value::Bool(value)) => Some(Value::Boolean(*value)),
        (ParameterKind::String | ParameterKind::Enum, tree::Value::String(value)) => Some(Value::String(value.clone())),
        _ => None,
    };
    if value.is_none() {
        problems.push(IndicatorError::DefaultWrongType {
            at: node.at.clone(),
            parameter: parameter.to_string(),
            kind: kind.as_str(),
            expected: expected_default(kind),
            found: node.describe(),
        });
    }
    value
}

/// A default the parameter's own bounds reject could never be used.
fn check_default_within_bounds(
    default: &Value,
    at: &Location,
    min: Option<(f64, &Node)>,
    max: Option<(f64, &Node)>,
    parameter: &str,
    problems: &mut Problems,
) {
    let default = match default {
        Value::Integer(value) => *value as f64,
        Value::Float(value) => *value,
        Value::Boolean(_) | Value::String(_) => return,
    };
    let parameter = parameter.to_string();
    match (min, max) {
        // Bounds that contradict each other are reported on their own; checking the default
        // against them would only repeat that one mistake.
        (Some((min, _)), Some((max, _))) if min > max => {}
        (Some((min, _)), _) if default < min => {
            problems.push(IndicatorError::DefaultBelowMin { at: at.clone(), parameter, default, min });
        }
        (_, Some((max, _))) if default > max => {
            problems.push(IndicatorError::DefaultAboveMax { at: at.clone(), parameter, default, max });
        }
        _ => {}
    }
}

/// An enum's default must be one of its choices, or the default could never be chosen.
fn check_default_among_values(
    default: &Value,
    at: &Location,
    values: &[String],
    parameter: &str,
    problems: &mut Problems,
) {
    let Value::String(default) = default else { return };
    if values.is_empty() || values.contains(default) {
        return;
    }
    let known = values.iter().map(String::as_str);
    problems.push(IndicatorError::DefaultNotAValue {
        at: at.clone(),
        parameter: parameter.to_string(),
        default: default.clone(),
        hint: DidYouMean::find(default, known.clone()),
        allowed: backticked(known),
    });
}

/// What a default of `kind` must be, in "must be X" messages.
fn expected_default(kind: ParameterKind) -> &'static str {
    match kind {
        ParameterKind::Integer => "a whole number",
        ParameterKind::Float => "a finite number",
        ParameterKind::Boolean => "`true` or `false`",
        ParameterKind::String | ParameterKind::Enum => "a string",
    }
}
