//! The indicator catalogue: checks `indicators/data/*.json` into [`Indicator`]s, renders each
//! definition as the canonical JSON the runtime stores, and describes the format as a JSON Schema.
//!
//! Each file is a JSON array of definitions, normally all in `indicators/data/indicators.json`:
//!
//! ```json
//! [
//!   {
//!     "name": "rsi",
//!     "display_name": "Relative Strength Index",
//!     "category": "momentum",
//!     "description": "Speed and change of price movements, between 0 and 100.",
//!     "parameters": [
//!       {"name": "period", "type": "integer", "default": 14, "min": 2, "max": 500},
//!       {"name": "source", "type": "enum", "default": "close", "values": ["open", "high", "low", "close"]}
//!     ],
//!     "outputs": [{"name": "value", "type": "float"}]
//!   }
//! ]
//! ```
//!
//! - An indicator has `name` (lower_snake_case, at most 63 characters, unique across all files),
//!   `display_name` (not blank), `category` (one of [`Category::ALL`]) and `outputs` (at least one,
//!   names unique); `description` and `parameters` are optional.
//! - A parameter has `name` (lower_snake_case, unique within its indicator) and `type` (one of
//!   [`ParameterKind::ALL`]); `default` must be of that type (`2` is fine for a `float`), `min` and
//!   `max` apply to `integer` and `float` only, `values` (non-empty, no repeats) to `enum` only.
//! - An output has `name` and `type` (one of [`OutputKind::ALL`]).
//!
//! Every problem of every file is reported, each at its `path:line:column`, and a definition with
//! any problem is left out of the result. The keys of each object are declared once, in
//! `INDICATOR_FIELDS`, `PARAMETER_FIELDS` and `OUTPUT_FIELDS`: the checks allow exactly
//! those keys and [`json_schema`] documents exactly those, so the schema cannot drift from the
//! checks.

use std::collections::HashMap;

use serde_json::{json, Value as Json};

use crate::diag::{DidYouMean, Location, Problems};
use crate::model::{Category, Indicator, Output, OutputKind, Parameter, ParameterKind, Value};
use crate::tree::{self, Entry, Map, Node};

/// An indicator or parameter name: lower_snake_case. The checks match it by hand (this crate has
/// no regex engine); the schema states it as this pattern.
pub const NAME_PATTERN: &str = "^[a-z][a-z0-9]*(_[a-z0-9]+)*$";

/// The longest indicator name: PostgreSQL's identifier limit (`NAMEDATALEN` - 1 bytes).
pub const NAME_MAX_LENGTH: usize = 63;

/// One key of a definition object. The checks allow exactly these keys and the schema documents
/// exactly these, with their title, description and value schema.
struct Field {
    key: &'static str,
    required: bool,
    title: &'static str,
    description: &'static str,
    schema: fn() -> Json,
}

/// The keys of an indicator definition, in canonical order.
const INDICATOR_FIELDS: [Field; 6] = [
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
const PARAMETER_FIELDS: [Field; 6] = [
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
const OUTPUT_FIELDS: [Field; 2] = [
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

/// A problem in the indicator catalogue. Fields named `indicator`, `parameter` and `output` hold
/// a phrase naming the object with its datum in backticks ("parameter `period` of indicator `rsi`").
#[derive(Debug, thiserror::Error)]
pub enum IndicatorError {
    #[error("{at}: an indicator file must be a JSON array of definitions, found {found}; wrap the definitions in `[` and `]`")]
    NotAList { at: Location, found: String },
    #[error("{at}: indicator name `{name}` is not lower_snake_case; use lowercase letters, digits and single underscores, starting with a letter, since it becomes a PostgreSQL key and a Rust constant")]
    NameNotSnakeCase { at: Location, name: String },
    #[error("{at}: indicator name `{name}` is {length} characters long; shorten it to at most {max}, PostgreSQL's identifier limit")]
    NameTooLong { at: Location, name: String, length: usize, max: usize },
    #[error("{at}: indicator `{name}` is already declared at {first}; rename or remove one of them")]
    DuplicateIndicator { at: Location, name: String, first: Location },
    #[error("{at}: `display_name` of {indicator} is blank; give it a human-readable name")]
    BlankDisplayName { at: Location, indicator: String },
    #[error("{at}: unknown category `{category}` for {indicator}{hint}; use one of {allowed}")]
    UnknownCategory { at: Location, indicator: String, category: String, hint: DidYouMean, allowed: String },
    #[error("{at}: parameter name `{name}` of {indicator} is not lower_snake_case; use lowercase letters, digits and single underscores, starting with a letter")]
    ParameterNameNotSnakeCase { at: Location, indicator: String, name: String },
    #[error("{at}: {parameter} is already declared at {first}; rename or remove one of them")]
    DuplicateParameter { at: Location, parameter: String, first: Location },
    #[error("{at}: unknown type `{kind}` for {parameter}{hint}; use one of {allowed}")]
    UnknownParameterType { at: Location, parameter: String, kind: String, hint: DidYouMean, allowed: String },
    #[error("{at}: default of {parameter} must be {expected} since its type is `{kind}`, found {found}; change the default or the `type`")]
    DefaultWrongType { at: Location, parameter: String, kind: &'static str, expected: &'static str, found: String },
    #[error("{at}: default `{default}` of {parameter} is below its `min` `{min}`; raise the default or lower `min`")]
    DefaultBelowMin { at: Location, parameter: String, default: f64, min: f64 },
    #[error("{at}: default `{default}` of {parameter} is above its `max` `{max}`; lower the default or raise `max`")]
    DefaultAboveMax { at: Location, parameter: String, default: f64, max: f64 },
    #[error("{at}: default `{default}` of {parameter} is not one of its `values`{hint}; use one of {allowed}")]
    DefaultNotAValue { at: Location, parameter: String, default: String, hint: DidYouMean, allowed: String },
    #[error(
        "{at}: `min` `{min}` of {parameter} is greater than its `max` `{max}` (at {max_at}); swap or correct them"
    )]
    MinAboveMax { at: Location, parameter: String, min: f64, max: f64, max_at: Location },
    #[error(
        "{at}: `{key}` only applies to `integer` and `float` parameters, but {parameter} is `{kind}`; remove `{key}`"
    )]
    BoundOnNonNumeric { at: Location, parameter: String, key: String, kind: &'static str },
    #[error("{at}: `{key}` of {parameter} must be a whole number since its type is `integer`, found `{value}`; round it or make the parameter a `float`")]
    BoundNotWhole { at: Location, parameter: String, key: String, value: f64 },
    #[error("{at}: {parameter} is an `enum` without values; list the allowed strings in `values`")]
    EnumWithoutValues { at: Location, parameter: String },
    #[error("{at}: value `{value}` of {parameter} is already listed at {first}; remove one of them")]
    DuplicateEnumValue { at: Location, parameter: String, value: String, first: Location },
    #[error("{at}: `values` only applies to `enum` parameters, but {parameter} is `{kind}`; remove `values` or make the parameter an `enum`")]
    ValuesOnNonEnum { at: Location, parameter: String, kind: &'static str },
    #[error("{at}: {indicator} has no outputs; list at least one in `outputs`")]
    NoOutputs { at: Location, indicator: String },
    #[error("{at}: {output} is already declared at {first}; rename or remove one of them")]
    DuplicateOutput { at: Location, output: String, first: Location },
    #[error("{at}: unknown type `{kind}` for {output}{hint}; use one of {allowed}")]
    UnknownOutputType { at: Location, output: String, kind: String, hint: DidYouMean, allowed: String },
}

/// Checks every indicator file and returns the valid definitions sorted by name.
///
/// `files` holds each file's path relative to the sources root (`indicators/data/indicators.json`)
/// and its normalised text. Every problem of every file goes to `problems`; a definition with any
/// problem is left out of the result, so the result is only complete when `problems` stays empty.
pub fn check(files: &[(String, String)], problems: &mut Problems) -> Vec<Indicator> {
    let mut declared = FirstSeen::default();
    let mut indicators = Vec::new();
    for (path, text) in files {
        let Some(root) = tree::parse_json(path, text, problems) else { continue };
        for definition in check_file_is_a_list(&root, problems) {
            indicators.extend(check_indicator(path, definition, &mut declared, problems));
        }
    }
    indicators.sort_by(|left, right| left.name.cmp(&right.name));
    indicators
}

/// The name of the Rust constant generated for an indicator: `rsi` → `RSI`. Checked names are
/// lower_snake_case, so the result is always a valid identifier.
pub fn constant_name(indicator: &str) -> String {
    indicator.to_ascii_uppercase()
}

/// The whole definition as compact canonical JSON, keys in the order of the format above:
/// `description` only when set, `parameters` and `outputs` always (possibly `[]`). The runtime
/// hashes it to skip unchanged rows, so equal definitions always give the same text: a float
/// default written `2` renders as `2.0`, integer bounds as whole numbers. The source file is left
/// out, so moving a definition between files does not change it.
pub fn definition_json(indicator: &Indicator) -> String {
    let mut object = serde_json::Map::new();
    object.insert("name".into(), json!(indicator.name));
    object.insert("display_name".into(), json!(indicator.display_name));
    object.insert("category".into(), json!(indicator.category.as_str()));
    if let Some(description) = &indicator.description {
        object.insert("description".into(), json!(description));
    }
    object.insert("parameters".into(), parameters_value(indicator));
    object.insert("outputs".into(), outputs_value(indicator));
    Json::Object(object).to_string()
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

/// A JSON Schema (draft-07) of an indicator file, for editors and for testing the repository's
/// files, built from the same field lists and enums as the checks. Rules that a schema cannot
/// state (unique names, a default within its bounds or among its values, `min` ≤ `max`) are
/// left to [`check`].
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

/// The keys of `fields`, as [`Map::check_keys`] takes them.
fn keys(fields: &[Field]) -> Vec<&'static str> {
    fields.iter().map(|field| field.key).collect()
}

// ---------------------------------------------------------------------------------------------
// Indicators
// ---------------------------------------------------------------------------------------------

/// Names (or values) seen so far, with where each was first written.
#[derive(Default)]
struct FirstSeen(HashMap<String, Location>);

impl FirstSeen {
    /// Records `name` at `at`; returns where it was first written if it already was.
    fn insert(&mut self, name: &str, at: &Location) -> Option<Location> {
        match self.0.get(name) {
            Some(first) => Some(first.clone()),
            None => {
                self.0.insert(name.to_string(), at.clone());
                None
            }
        }
    }
}

/// Every file holds a list of definitions, so that a catalogue can be split across files and each
/// file stays one self-describing shape.
fn check_file_is_a_list<'a>(root: &'a Node, problems: &mut Problems) -> &'a [Node] {
    match &root.value {
        tree::Value::Seq(definitions) => definitions,
        _ => {
            problems.push(IndicatorError::NotAList { at: root.at.clone(), found: root.describe() });
            &[]
        }
    }
}

/// One definition, with every rule about it; `None` when anything about it is wrong.
fn check_indicator(path: &str, node: &Node, declared: &mut FirstSeen, problems: &mut Problems) -> Option<Indicator> {
    let before = problems.len();
    let named = |name: &str| format!("indicator `{name}`");
    let object = Object::read(node, &INDICATOR_FIELDS, "an indicator definition", named, problems)?;
    let indicator = object.context.as_str();
    let name = object.required_str("name", problems);
    if let Some((name, name_node)) = name {
        check_indicator_name_is_snake_case(name, &name_node.at, problems);
        check_indicator_name_length(name, &name_node.at, problems);
        check_indicator_unique(name, &name_node.at, declared, problems);
    }
    let display_name = object
        .required_str("display_name", problems)
        .and_then(|(display_name, node)| check_display_name(display_name, &node.at, indicator, problems));
    let category = object
        .required_str("category", problems)
        .and_then(|(category, node)| check_category(category, &node.at, indicator, problems));
    let description = object.optional_str("description", problems);
    let parameters = check_parameters(&object, problems);
    let outputs = check_outputs(&object, problems);
    if problems.len() > before {
        return None;
    }
    Some(Indicator {
        name: name?.0.to_string(),
        display_name: display_name?,
        category: category?,
        description,
        parameters,
        outputs,
        source: path.to_string(),
    })
}

/// The name becomes a PostgreSQL key and a Rust constant (see [`constant_name`]), so it must be
/// an identifier in both.
fn check_indicator_name_is_snake_case(name: &str, at: &Location, problems: &mut Problems) {
    if !is_snake_case(name) {
        problems.push(IndicatorError::NameNotSnakeCase { at: at.clone(), name: name.to_string() });
    }
}

/// PostgreSQL cuts identifiers at 63 bytes; a longer name could not be used as one.
fn check_indicator_name_length(name: &str, at: &Location, problems: &mut Problems) {
    if name.len() > NAME_MAX_LENGTH {
        let (at, length) = (at.clone(), name.len());
        problems.push(IndicatorError::NameTooLong { at, name: name.to_string(), length, max: NAME_MAX_LENGTH });
    }
}

/// The name is the catalogue's key: a second definition would silently replace the first, so
/// both places are named, whichever files they are in.
fn check_indicator_unique(name: &str, at: &Location, declared: &mut FirstSeen, problems: &mut Problems) {
    if let Some(first) = declared.insert(name, at) {
        problems.push(IndicatorError::DuplicateIndicator { at: at.clone(), name: name.to_string(), first });
    }
}

/// Users pick indicators by their display name; a blank one would show as an empty entry.
fn check_display_name(display_name: &str, at: &Location, indicator: &str, problems: &mut Problems) -> Option<String> {
    if display_name.trim().is_empty() {
        problems.push(IndicatorError::BlankDisplayName { at: at.clone(), indicator: indicator.to_string() });
        return None;
    }
    Some(display_name.to_string())
}

/// The runtime groups indicators by category; an unknown one would be a group of its own.
fn check_category(category: &str, at: &Location, indicator: &str, problems: &mut Problems) -> Option<Category> {
    let found = Category::ALL.into_iter().find(|known| known.as_str() == category);
    if found.is_none() {
        let known = Category::ALL.map(Category::as_str);
        problems.push(IndicatorError::UnknownCategory {
            at: at.clone(),
            indicator: indicator.to_string(),
            category: category.to_string(),
            hint: DidYouMean::find(category, known),
            allowed: backticked(known),
        });
    }
    found
}

/// Matches [`NAME_PATTERN`]: a lowercase letter, then lowercase letters and digits in words
/// joined by single underscores (this crate has no regex engine; a test pins the agreement).
fn is_snake_case(name: &str) -> bool {
    name.starts_with(|first: char| first.is_ascii_lowercase())
        && name.chars().all(|char| char.is_ascii_lowercase() || char.is_ascii_digit() || char == '_')
        && !name.contains("__")
        && !name.ends_with('_')
}

// ---------------------------------------------------------------------------------------------
// Parameters
// ---------------------------------------------------------------------------------------------

/// The optional `parameters` list; the parameters that are valid.
fn check_parameters(indicator: &Object, problems: &mut Problems) -> Vec<Parameter> {
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
fn check_default_type(node: &Node, kind: ParameterKind, parameter: &str, problems: &mut Problems) -> Option<Value> {
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

/// Bounds apply to these kinds only.
fn is_numeric(kind: ParameterKind) -> bool {
    matches!(kind, ParameterKind::Integer | ParameterKind::Float)
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

/// The JSON Schema `type` of a default (and of the bounds) of `kind`. JSON Schema's `integer`
/// accepts `14.0` and its `number` accepts `2`, as [`check_default_type`] does.
fn json_type(kind: ParameterKind) -> &'static str {
    match kind {
        ParameterKind::Integer => "integer",
        ParameterKind::Float => "number",
        ParameterKind::Boolean => "boolean",
        ParameterKind::String | ParameterKind::Enum => "string",
    }
}

/// `value` as an `i64` when it is a whole number that fits.
fn as_whole(value: f64) -> Option<i64> {
    // 2^63 is exactly representable; `as` would saturate anything beyond it silently.
    let in_range = (-(2f64.powi(63))..2f64.powi(63)).contains(&value);
    (in_range && value.fract() == 0.0).then_some(value as i64)
}

// ---------------------------------------------------------------------------------------------
// Outputs
// ---------------------------------------------------------------------------------------------

/// The required `outputs` list; the outputs that are valid.
fn check_outputs(object: &Object, problems: &mut Problems) -> Vec<Output> {
    let indicator = object.context.as_str();
    let Some(node) = object.required("outputs", problems) else { return Vec::new() };
    let Some(items) = node.expect_seq(&format!("`outputs` of {indicator}"), problems) else { return Vec::new() };
    check_outputs_not_empty(items, &node.at, indicator, problems);
    let mut declared = FirstSeen::default();
    items.iter().filter_map(|item| check_output(item, indicator, &mut declared, problems)).collect()
}

/// An indicator that produces nothing cannot be plotted or stored.
fn check_outputs_not_empty(items: &[Node], at: &Location, indicator: &str, problems: &mut Problems) {
    if items.is_empty() {
        problems.push(IndicatorError::NoOutputs { at: at.clone(), indicator: indicator.to_string() });
    }
}

/// One output, with every rule about it; `None` when anything about it is wrong.
fn check_output(node: &Node, indicator: &str, declared: &mut FirstSeen, problems: &mut Problems) -> Option<Output> {
    let before = problems.len();
    let named = |name: &str| format!("output `{name}` of {indicator}");
    let object = Object::read(node, &OUTPUT_FIELDS, &format!("an output of {indicator}"), named, problems)?;
    let output = object.context.as_str();
    let name = object.required_str("name", problems);
    if let Some((name, name_node)) = name {
        check_output_unique(name, &name_node.at, output, declared, problems);
    }
    let kind = object
        .required_str("type", problems)
        .and_then(|(kind, kind_node)| check_output_type(kind, &kind_node.at, output, problems));
    if problems.len() > before {
        return None;
    }
    Some(Output { name: name?.0.to_string(), kind: kind? })
}

/// Consumers read outputs by name; two with one name would be indistinguishable.
fn check_output_unique(name: &str, at: &Location, output: &str, declared: &mut FirstSeen, problems: &mut Problems) {
    if let Some(first) = declared.insert(name, at) {
        problems.push(IndicatorError::DuplicateOutput { at: at.clone(), output: output.to_string(), first });
    }
}

/// The type decides how the runtime stores the series; an unknown one could not be stored.
fn check_output_type(kind: &str, at: &Location, output: &str, problems: &mut Problems) -> Option<OutputKind> {
    let found = OutputKind::ALL.into_iter().find(|known| known.as_str() == kind);
    if found.is_none() {
        let known = OutputKind::ALL.map(OutputKind::as_str);
        problems.push(IndicatorError::UnknownOutputType {
            at: at.clone(),
            output: output.to_string(),
            kind: kind.to_string(),
            hint: DidYouMean::find(kind, known),
            allowed: backticked(known),
        });
    }
    found
}

// ---------------------------------------------------------------------------------------------
// Reading values
// ---------------------------------------------------------------------------------------------

/// One object of a definition (an indicator, a parameter or an output), its keys checked, with
/// the phrase naming it in messages and where it starts.
struct Object<'a> {
    map: &'a Map,
    at: &'a Location,
    /// "indicator `rsi`", "parameter `period` of indicator `rsi`", or `unnamed` without a name.
    context: String,
    /// Keys that an unknown key's "did you mean" points to.
    misspelt: Vec<String>,
}

impl<'a> Object<'a> {
    /// `node` as an object allowing exactly `fields`; unknown keys are reported here. It is called
    /// `named(name)` in messages when its `name` is a string, else `unnamed`.
    fn read(
        node: &'a Node,
        fields: &[Field],
        unnamed: &str,
        named: impl Fn(&str) -> String,
        problems: &mut Problems,
    ) -> Option<Self> {
        let map = node.expect_map(unnamed, problems)?;
        let context = match map.get("name").map(|name| &name.value) {
            Some(tree::Value::String(name)) => named(name),
            _ => unnamed.to_string(),
        };
        let allowed = keys(fields);
        map.check_keys(&allowed, &context, problems);
        let unknown = map.entries.iter().filter(|entry| !allowed.contains(&entry.key.as_str()));
        let misspelt = unknown.filter_map(|entry| DidYouMean::find(&entry.key, allowed.iter().copied()).0).collect();
        Some(Object { map, at: &node.at, context, misspelt })
    }

    fn entry(&self, key: &str) -> Option<&'a Entry> {
        self.map.entries.iter().find(|entry| entry.key == key)
    }

    /// The value of a key that must be present. A key written with a typo is not reported
    /// missing as well: its unknown-key error already names it, and one typo is one error.
    fn required(&self, key: &'static str, problems: &mut Problems) -> Option<&'a Node> {
        if self.map.get(key).is_none() && self.misspelt.iter().any(|misspelt| misspelt == key) {
            return None;
        }
        self.map.require(key, &self.context, self.at, problems)
    }

    /// A required string and the node it was written at.
    fn required_str(&self, key: &'static str, problems: &mut Problems) -> Option<(&'a str, &'a Node)> {
        let node = self.required(key, problems)?;
        Some((node.expect_str(&format!("`{key}` of {}", self.context), problems)?, node))
    }

    fn optional_str(&self, key: &str, problems: &mut Problems) -> Option<String> {
        let node = self.map.get(key)?;
        node.expect_str(&format!("`{key}` of {}", self.context), problems).map(str::to_string)
    }
}

/// A number that fits in an `f64`: JSON allows `1e999`, which would silently become infinity.
fn finite_number(node: &Node, what: &str, problems: &mut Problems) -> Option<f64> {
    let value = node.expect_number(what, problems)?;
    if value.is_finite() {
        Some(value)
    } else {
        node.wrong_type(what, "a finite number", problems)
    }
}

/// "`a`, `b`, `c`" for "use one of" messages.
fn backticked<'a>(items: impl IntoIterator<Item = &'a str>) -> String {
    items.into_iter().map(|item| format!("`{item}`")).collect::<Vec<_>>().join(", ")
}

// ---------------------------------------------------------------------------------------------
// Canonical JSON
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// JSON Schema
// ---------------------------------------------------------------------------------------------

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

fn indicator_name_schema() -> Json {
    json!({ "type": "string", "pattern": NAME_PATTERN, "maxLength": NAME_MAX_LENGTH })
}

fn parameter_name_schema() -> Json {
    json!({ "type": "string", "pattern": NAME_PATTERN })
}

/// At least one character that is not white space, as [`check_display_name`] requires.
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

/// Narrowed per type in [`parameter_kind_schema`].
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

#[cfg(test)]
mod tests {
    use super::*;

    const PATH: &str = "indicators/data/indicators.json";

    const RSI: &str = r#"[
  {
    "name": "rsi",
    "display_name": "Relative Strength Index",
    "category": "momentum",
    "description": "Speed and change of price movements.",
    "parameters": [
      {"name": "period", "type": "integer", "default": 14, "min": 2, "max": 500},
      {"name": "source", "type": "enum", "default": "close", "values": ["open", "high", "low", "close"]}
    ],
    "outputs": [{"name": "value", "type": "float"}]
  }
]"#;

    fn check_files(files: &[(&str, &str)]) -> (Vec<Indicator>, Vec<String>) {
        let files: Vec<(String, String)> =
            files.iter().map(|(path, text)| (path.to_string(), text.to_string())).collect();
        let mut problems = Problems::default();
        let indicators = check(&files, &mut problems);
        (indicators, problems.iter().map(ToString::to_string).collect())
    }

    fn problems_of(text: &str) -> Vec<String> {
        check_files(&[(PATH, text)]).1
    }

    /// `PATH:line:column` of the first occurrence of `needle` in `text`.
    fn at(text: &str, needle: &str) -> String {
        let offset = text.find(needle).unwrap_or_else(|| panic!("`{needle}` not in {text}"));
        tree::LineIndex::new(text).location(PATH, offset).to_string()
    }

    /// `PATH:line:column` of what follows the first occurrence of `needle` in `text`.
    fn after(text: &str, needle: &str) -> String {
        let offset = text.find(needle).unwrap_or_else(|| panic!("`{needle}` not in {text}"));
        tree::LineIndex::new(text).location(PATH, offset + needle.len()).to_string()
    }

    /// A one-line file with one indicator `x` whose only parameter is `parameter`.
    fn with_parameter(parameter: &str) -> String {
        format!(
            r#"[{{"name": "x", "display_name": "X", "category": "trend", "parameters": [{parameter}], "outputs": [{{"name": "value", "type": "float"}}]}}]"#
        )
    }

    /// A one-line file with one indicator `x` whose outputs are `outputs`.
    fn with_outputs(outputs: &str) -> String {
        format!(r#"[{{"name": "x", "display_name": "X", "category": "trend", "outputs": [{outputs}]}}]"#)
    }

    fn only_parameter(text: &str) -> Parameter {
        let (indicators, problems) = check_files(&[(PATH, text)]);
        assert_eq!(problems, Vec::<String>::new());
        indicators[0].parameters[0].clone()
    }

    // --- valid definitions ---

    #[test]
    fn valid_definition_becomes_an_indicator() {
        let (indicators, problems) = check_files(&[(PATH, RSI)]);
        assert_eq!(problems, Vec::<String>::new());
        assert_eq!(
            indicators,
            [Indicator {
                name: "rsi".into(),
                display_name: "Relative Strength Index".into(),
                category: Category::Momentum,
                description: Some("Speed and change of price movements.".into()),
                parameters: vec![
                    Parameter {
                        name: "period".into(),
                        kind: ParameterKind::Integer,
                        default: Some(Value::Integer(14)),
                        min: Some(2.0),
                        max: Some(500.0),
                        values: Vec::new(),
                    },
                    Parameter {
                        name: "source".into(),
                        kind: ParameterKind::Enum,
                        default: Some(Value::String("close".into())),
                        min: None,
                        max: None,
                        values: vec!["open".into(), "high".into(), "low".into(), "close".into()],
                    },
                ],
                outputs: vec![Output { name: "value".into(), kind: OutputKind::Float }],
                source: PATH.into(),
            }]
        );
    }

    #[test]
    fn indicators_are_sorted_by_name_across_files() {
        let first = r#"[{"name": "sma", "display_name": "SMA", "category": "trend", "outputs": [{"name": "value", "type": "float"}]},
                        {"name": "atr", "display_name": "ATR", "category": "volatility", "outputs": [{"name": "value", "type": "float"}]}]"#;
        let (indicators, problems) = check_files(&[("indicators/data/a.json", first), ("indicators/data/b.json", RSI)]);
        assert_eq!(problems, Vec::<String>::new());
        let names: Vec<&str> = indicators.iter().map(|indicator| indicator.name.as_str()).collect();
        assert_eq!(names, ["atr", "rsi", "sma"]);
        assert_eq!(indicators[1].source, "indicators/data/b.json");
    }

    #[test]
    fn description_and_parameters_are_optional() {
        let (indicators, problems) = check_files(&[(PATH, &with_outputs(r#"{"name": "value", "type": "float"}"#))]);
        assert_eq!(problems, Vec::<String>::new());
        assert_eq!(indicators[0].description, None);
        assert_eq!(indicators[0].parameters, []);
    }

    #[test]
    fn empty_list_is_an_empty_catalogue() {
        assert_eq!(check_files(&[(PATH, "[]")]), (Vec::new(), Vec::new()));
    }

    // --- file shape ---

    #[test]
    fn json_syntax_error_is_reported_and_other_files_still_checked() {
        let (indicators, problems) = check_files(&[("indicators/data/a.json", "[{\"name\": }]"), (PATH, RSI)]);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].starts_with("indicators/data/a.json:1:"), "{problems:?}");
        assert!(problems[0].contains("invalid JSON"), "{problems:?}");
        assert_eq!(indicators.len(), 1);
    }

    #[test]
    fn file_must_be_a_list() {
        let text = r#"{"name": "rsi"}"#;
        assert_eq!(
            problems_of(text),
            [format!("{PATH}:1:1: an indicator file must be a JSON array of definitions, found a mapping; wrap the definitions in `[` and `]`")]
        );
    }

    #[test]
    fn definition_must_be_an_object() {
        let text = r#"[ "rsi" ]"#;
        assert_eq!(
            problems_of(text),
            [format!("{}: an indicator definition must be a mapping, found string `rsi`", at(text, "\"rsi\""))]
        );
    }

    #[test]
    fn duplicate_keys_are_reported() {
        let text = r#"[{"name": "x", "name": "y", "display_name": "X", "category": "trend", "outputs": [{"name": "v", "type": "float"}]}]"#;
        let problems = problems_of(text);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("duplicate key `name`"), "{problems:?}");
    }

    // --- unknown and missing keys ---

    #[test]
    fn unknown_keys_get_a_did_you_mean_at_every_level() {
        let text = r#"[{"name": "x", "display_name": "X", "category": "trend", "colour": "red", "parameters": [{"name": "p", "type": "integer", "defualt": 1}], "outputs": [{"name": "v", "type": "float", "unit": "%"}]}]"#;
        assert_eq!(
            problems_of(text),
            [
                format!("{}: unknown key `colour` in indicator `x`; allowed keys: `name`, `display_name`, `category`, `description`, `parameters`, `outputs`", at(text, "\"colour\"")),
                format!("{}: unknown key `defualt` in parameter `p` of indicator `x` (did you mean `default`?); allowed keys: `name`, `type`, `default`, `min`, `max`, `values`", at(text, "\"defualt\"")),
                format!("{}: unknown key `unit` in output `v` of indicator `x`; allowed keys: `name`, `type`", at(text, "\"unit\"")),
            ]
        );
    }

    #[test]
    fn misspelt_required_key_is_one_error_not_two() {
        let text =
            r#"[{"name": "x", "display_nam": "X", "category": "trend", "outputs": [{"name": "v", "typ": "float"}]}]"#;
        assert_eq!(
            problems_of(text),
            [
                format!("{}: unknown key `display_nam` in indicator `x` (did you mean `display_name`?); allowed keys: `name`, `display_name`, `category`, `description`, `parameters`, `outputs`", at(text, "\"display_nam\"")),
                format!("{}: unknown key `typ` in output `v` of indicator `x` (did you mean `type`?); allowed keys: `name`, `type`", at(text, "\"typ\"")),
            ]
        );
    }

    #[test]
    fn missing_required_keys_are_reported_at_the_object() {
        let text = r#"[{"display_name": "X", "category": "trend", "parameters": [{"name": "p"}], "outputs": [{"type": "float"}]}]"#;
        assert_eq!(
            problems_of(text),
            [
                format!("{}: an indicator definition has no `name`; add it", at(text, "{")),
                format!(
                    "{}: parameter `p` of an indicator definition has no `type`; add it",
                    at(text, "{\"name\": \"p\"")
                ),
                format!("{}: an output of an indicator definition has no `name`; add it", at(text, "{\"type\"")),
            ]
        );
    }

    // --- indicator rules ---

    #[test]
    fn indicator_name_must_be_lower_snake_case() {
        for name in ["RSI", "rsi-14", "_rsi", "rsi_", "bollinger__bands", "1rsi", "", "rsi 14"] {
            let text = RSI.replace("\"rsi\"", &format!("\"{name}\""));
            assert_eq!(
                problems_of(&text),
                [format!(
                    "{}: indicator name `{name}` is not lower_snake_case; use lowercase letters, digits and single underscores, starting with a letter, since it becomes a PostgreSQL key and a Rust constant",
                    at(&text, &format!("\"{name}\""))
                )],
            );
        }
    }

    #[test]
    fn is_snake_case_agrees_with_the_schema_pattern() {
        // Each case as `^[a-z][a-z0-9]*(_[a-z0-9]+)*$` decides it.
        let cases = [
            ("rsi", true),
            ("macd_signal", true),
            ("ema_2x", true),
            ("a_1_b", true),
            ("r2", true),
            ("a_1", true),
            ("", false),
            ("_a", false),
            ("a_", false),
            ("a__b", false),
            ("A", false),
            ("1a", false),
            ("a-b", false),
            ("é", false),
        ];
        assert_eq!(NAME_PATTERN, "^[a-z][a-z0-9]*(_[a-z0-9]+)*$");
        for (name, expected) in cases {
            assert_eq!(is_snake_case(name), expected, "{name}");
        }
    }

    #[test]
    fn indicator_name_longer_than_63_characters_is_rejected() {
        let longest = "a".repeat(63);
        assert_eq!(problems_of(&RSI.replace("\"rsi\"", &format!("\"{longest}\""))), Vec::<String>::new());
        let name = "a".repeat(64);
        let text = RSI.replace("\"rsi\"", &format!("\"{name}\""));
        assert_eq!(
            problems_of(&text),
            [format!(
                "{}: indicator name `{name}` is 64 characters long; shorten it to at most 63, PostgreSQL's identifier limit",
                at(&text, &format!("\"{name}\""))
            )]
        );
    }

    #[test]
    fn duplicate_indicator_across_files_names_both_files() {
        let (indicators, problems) = check_files(&[("indicators/data/a.json", RSI), ("indicators/data/b.json", RSI)]);
        let name_at = at(RSI, "\"rsi\"");
        assert_eq!(
            problems,
            [format!(
                "{}: indicator `rsi` is already declared at {}; rename or remove one of them",
                name_at.replace(PATH, "indicators/data/b.json"),
                name_at.replace(PATH, "indicators/data/a.json"),
            )]
        );
        assert_eq!(indicators.len(), 1);
        assert_eq!(indicators[0].source, "indicators/data/a.json");
    }

    #[test]
    fn duplicate_indicator_in_one_file_is_rejected() {
        let definition =
            r#"{"name": "x", "display_name": "X", "category": "trend", "outputs": [{"name": "v", "type": "float"}]}"#;
        let text = format!("[{definition},\n {definition}]");
        assert_eq!(
            problems_of(&text),
            [format!("{PATH}:2:11: indicator `x` is already declared at {PATH}:1:11; rename or remove one of them")]
        );
    }

    #[test]
    fn blank_display_name_is_rejected() {
        for blank in ["", "  "] {
            let text = RSI.replace("\"Relative Strength Index\"", &format!("\"{blank}\""));
            assert_eq!(
                problems_of(&text),
                [format!(
                    "{}: `display_name` of indicator `rsi` is blank; give it a human-readable name",
                    after(&text, "\"display_name\": ")
                )]
            );
        }
    }

    #[test]
    fn unknown_category_suggests_the_closest() {
        let text = RSI.replace("\"momentum\"", "\"momentom\"");
        assert_eq!(
            problems_of(&text),
            [format!(
                "{}: unknown category `momentom` for indicator `rsi` (did you mean `momentum`?); use one of `trend`, `momentum`, `volatility`, `volume`, `other`",
                at(&text, "\"momentom\"")
            )]
        );
    }

    #[test]
    fn wrong_json_types_are_reported_with_what_was_found() {
        let text = r#"[{"name": "x", "display_name": 3, "category": "trend", "description": null, "parameters": {}, "outputs": "value"}]"#;
        assert_eq!(
            problems_of(text),
            [
                format!("{}: `display_name` of indicator `x` must be a string, found `3`", at(text, "3")),
                format!("{}: `description` of indicator `x` must be a string, found null", at(text, "null")),
                format!("{}: `parameters` of indicator `x` must be a list, found a mapping", at(text, "{}")),
                format!("{}: `outputs` of indicator `x` must be a list, found string `value`", at(text, "\"value\"")),
            ]
        );
    }

    // --- parameter rules ---

    #[test]
    fn unknown_parameter_type_suggests_and_skips_the_rules_of_the_type() {
        let text = with_parameter(r#"{"name": "p", "type": "integr", "default": "x", "min": 1, "values": ["a"]}"#);
        assert_eq!(
            problems_of(&text),
            [format!(
                "{}: unknown type `integr` for parameter `p` of indicator `x` (did you mean `integer`?); use one of `integer`, `float`, `boolean`, `string`, `enum`",
                at(&text, "\"integr\"")
            )]
        );
    }

    #[test]
    fn default_of_the_wrong_type_is_rejected() {
        let cases = [
            ("integer", r#""14""#, "a whole number", "string `14`"),
            ("integer", "2.5", "a whole number", "`2.5`"),
            ("float", "true", "a finite number", "`true`"),
            ("boolean", "1", "`true` or `false`", "`1`"),
            ("string", "null", "a string", "null"),
        ];
        for (kind, default, expected, found) in cases {
            let text = with_parameter(&format!(r#"{{"name": "p", "type": "{kind}", "default": {default}}}"#));
            assert_eq!(
                problems_of(&text),
                [format!(
                    "{}: default of parameter `p` of indicator `x` must be {expected} since its type is `{kind}`, found {found}; change the default or the `type`",
                    after(&text, "\"default\": "),
                )],
                "{kind} {default}"
            );
        }
    }

    #[test]
    fn float_default_written_as_integer_is_accepted() {
        let parameter =
            only_parameter(&with_parameter(r#"{"name": "k", "type": "float", "default": 2, "min": 0, "max": 5}"#));
        assert_eq!(parameter.default, Some(Value::Float(2.0)));
        assert_eq!((parameter.min, parameter.max), (Some(0.0), Some(5.0)));
    }

    #[test]
    fn integer_default_written_with_a_zero_fraction_is_accepted() {
        let parameter =
            only_parameter(&with_parameter(r#"{"name": "p", "type": "integer", "default": 14.0, "min": 2.0}"#));
        assert_eq!(parameter.default, Some(Value::Integer(14)));
        assert_eq!(parameter.min, Some(2.0));
    }

    #[test]
    fn default_outside_bounds_is_rejected() {
        let text = with_parameter(r#"{"name": "p", "type": "integer", "default": 1, "min": 2, "max": 500}"#);
        assert_eq!(
            problems_of(&text),
            [format!(
                "{}: default `1` of parameter `p` of indicator `x` is below its `min` `2`; raise the default or lower `min`",
                at(&text, "1,")
            )]
        );
        let text = with_parameter(r#"{"name": "k", "type": "float", "default": 5.5, "max": 5}"#);
        assert_eq!(
            problems_of(&text),
            [format!(
                "{}: default `5.5` of parameter `k` of indicator `x` is above its `max` `5`; lower the default or raise `max`",
                at(&text, "5.5")
            )]
        );
    }

    #[test]
    fn default_on_a_bound_is_accepted() {
        only_parameter(&with_parameter(r#"{"name": "p", "type": "integer", "default": 2, "min": 2, "max": 2}"#));
    }

    #[test]
    fn enum_default_must_be_among_values() {
        let text = with_parameter(r#"{"name": "s", "type": "enum", "default": "clsoe", "values": ["open", "close"]}"#);
        assert_eq!(
            problems_of(&text),
            [format!(
                "{}: default `clsoe` of parameter `s` of indicator `x` is not one of its `values` (did you mean `close`?); use one of `open`, `close`",
                at(&text, "\"clsoe\"")
            )]
        );
    }

    #[test]
    fn min_above_max_is_rejected() {
        let text = with_parameter(r#"{"name": "p", "type": "integer", "min": 10, "max": 5}"#);
        assert_eq!(
            problems_of(&text),
            [format!(
                "{}: `min` `10` of parameter `p` of indicator `x` is greater than its `max` `5` (at {}); swap or correct them",
                at(&text, "10"),
                at(&text, "5}")
            )]
        );
    }

    #[test]
    fn bounds_on_a_non_numeric_type_are_rejected() {
        let text = with_parameter(r#"{"name": "b", "type": "boolean", "min": 0, "max": 1}"#);
        assert_eq!(
            problems_of(&text),
            [
                format!("{}: `min` only applies to `integer` and `float` parameters, but parameter `b` of indicator `x` is `boolean`; remove `min`", at(&text, "\"min\"")),
                format!("{}: `max` only applies to `integer` and `float` parameters, but parameter `b` of indicator `x` is `boolean`; remove `max`", at(&text, "\"max\"")),
            ]
        );
    }

    #[test]
    fn integer_bounds_must_be_whole_numbers() {
        let text = with_parameter(r#"{"name": "p", "type": "integer", "min": 1.5}"#);
        assert_eq!(
            problems_of(&text),
            [format!(
                "{}: `min` of parameter `p` of indicator `x` must be a whole number since its type is `integer`, found `1.5`; round it or make the parameter a `float`",
                at(&text, "1.5")
            )]
        );
    }

    #[test]
    fn bounds_must_be_finite_numbers() {
        let text = with_parameter(r#"{"name": "p", "type": "float", "min": "0", "max": 1e999}"#);
        assert_eq!(
            problems_of(&text),
            [
                format!(
                    "{}: `min` of parameter `p` of indicator `x` must be a number, found string `0`",
                    at(&text, "\"0\"")
                ),
                format!(
                    "{}: `max` of parameter `p` of indicator `x` must be a finite number, found `inf`",
                    at(&text, "1e999")
                ),
            ]
        );
    }

    #[test]
    fn enum_without_values_is_rejected() {
        let text = with_parameter(r#"{"name": "s", "type": "enum"}"#);
        assert_eq!(
            problems_of(&text),
            [format!(
                "{}: parameter `s` of indicator `x` is an `enum` without values; list the allowed strings in `values`",
                at(&text, "{\"name\": \"s\"")
            )]
        );
        let text = with_parameter(r#"{"name": "s", "type": "enum", "values": []}"#);
        assert_eq!(
            problems_of(&text),
            [format!(
                "{}: parameter `s` of indicator `x` is an `enum` without values; list the allowed strings in `values`",
                at(&text, "[]")
            )]
        );
    }

    #[test]
    fn duplicate_enum_values_are_rejected() {
        let text = with_parameter(r#"{"name": "s", "type": "enum", "values": ["open", "close", "open"]}"#);
        assert_eq!(
            problems_of(&text),
            [format!(
                "{}: value `open` of parameter `s` of indicator `x` is already listed at {}; remove one of them",
                at(&text, "\"open\"]"),
                at(&text, "\"open\""),
            )]
        );
    }

    #[test]
    fn enum_values_must_be_a_list() {
        let text = with_parameter(r#"{"name": "s", "type": "enum", "values": "open"}"#);
        assert_eq!(
            problems_of(&text),
            [format!(
                "{}: `values` of parameter `s` of indicator `x` must be a list, found string `open`",
                at(&text, "\"open\"")
            )]
        );
    }

    #[test]
    fn enum_values_must_be_strings() {
        let text = with_parameter(r#"{"name": "s", "type": "enum", "values": ["open", 1]}"#);
        assert_eq!(
            problems_of(&text),
            [format!("{}: a value of parameter `s` of indicator `x` must be a string, found `1`", at(&text, "1]"))]
        );
    }

    #[test]
    fn values_on_a_non_enum_are_rejected() {
        let text = with_parameter(r#"{"name": "p", "type": "string", "values": ["a"]}"#);
        assert_eq!(
            problems_of(&text),
            [format!(
                "{}: `values` only applies to `enum` parameters, but parameter `p` of indicator `x` is `string`; remove `values` or make the parameter an `enum`",
                at(&text, "\"values\"")
            )]
        );
    }

    #[test]
    fn duplicate_parameter_names_are_rejected() {
        let text = with_parameter(r#"{"name": "p", "type": "integer"}, {"name": "p", "type": "float"}"#);
        let first = at(&text, "\"p\"");
        let second_offset = text.rfind("\"p\"").map_or(0, |offset| offset + 1);
        assert_eq!(
            problems_of(&text),
            [format!(
                "{PATH}:1:{second_offset}: parameter `p` of indicator `x` is already declared at {first}; rename or remove one of them"
            )]
        );
    }

    #[test]
    fn parameter_names_must_be_lower_snake_case() {
        let text = with_parameter(r#"{"name": "fastPeriod", "type": "integer"}"#);
        assert_eq!(
            problems_of(&text),
            [format!(
                "{}: parameter name `fastPeriod` of indicator `x` is not lower_snake_case; use lowercase letters, digits and single underscores, starting with a letter",
                at(&text, "\"fastPeriod\"")
            )]
        );
    }

    // --- output rules ---

    #[test]
    fn indicator_without_outputs_is_rejected() {
        let text = with_outputs("");
        assert_eq!(
            problems_of(&text),
            [format!("{}: indicator `x` has no outputs; list at least one in `outputs`", at(&text, "[]"))]
        );
    }

    #[test]
    fn duplicate_output_names_are_rejected() {
        let text = with_outputs(r#"{"name": "v", "type": "float"}, {"name": "v", "type": "integer"}"#);
        let second_offset = text.rfind("\"v\"").map_or(0, |offset| offset + 1);
        assert_eq!(
            problems_of(&text),
            [format!(
                "{PATH}:1:{second_offset}: output `v` of indicator `x` is already declared at {}; rename or remove one of them",
                at(&text, "\"v\"")
            )]
        );
    }

    #[test]
    fn unknown_output_type_is_rejected() {
        let text = with_outputs(r#"{"name": "v", "type": "bool"}"#);
        assert_eq!(
            problems_of(&text),
            [format!(
                "{}: unknown type `bool` for output `v` of indicator `x` (did you mean `boolean`?); use one of `float`, `integer`, `boolean`",
                at(&text, "\"bool\"")
            )]
        );
    }

    // --- all problems ---

    #[test]
    fn every_problem_of_every_file_is_reported() {
        let broken = r#"[
  {"name": "Bad-Name", "display_name": "", "category": "trnd", "outputs": []},
  {"name": "ok", "display_name": "OK", "category": "trend", "parameters": [
    {"name": "p", "type": "integer", "default": 1.5, "min": 5, "max": 1},
    {"name": "p", "type": "enum", "values": ["a", "a"], "min": 0}
  ], "outputs": [{"name": "v", "type": "double"}, {"name": "v", "type": "float"}]},
  7
]"#;
        let (indicators, problems) =
            check_files(&[("indicators/data/a.json", broken), ("indicators/data/b.json", "{}"), (PATH, RSI)]);
        let expected_starts = [
            "indicators/data/a.json:2:12: indicator name `Bad-Name` is not lower_snake_case",
            "indicators/data/a.json:2:40: `display_name` of indicator `Bad-Name` is blank",
            "indicators/data/a.json:2:56: unknown category `trnd`",
            "indicators/data/a.json:2:75: indicator `Bad-Name` has no outputs",
            "indicators/data/a.json:4:61: `min` `5` of parameter `p` of indicator `ok` is greater than its `max` `1`",
            "indicators/data/a.json:4:49: default of parameter `p` of indicator `ok` must be a whole number",
            "indicators/data/a.json:5:14: parameter `p` of indicator `ok` is already declared at indicators/data/a.json:4:14",
            "indicators/data/a.json:5:57: `min` only applies to `integer` and `float` parameters",
            "indicators/data/a.json:5:51: value `a` of parameter `p` of indicator `ok` is already listed at indicators/data/a.json:5:46",
            "indicators/data/a.json:6:40: unknown type `double` for output `v` of indicator `ok`",
            "indicators/data/a.json:6:60: output `v` of indicator `ok` is already declared at indicators/data/a.json:6:27",
            "indicators/data/a.json:7:3: an indicator definition must be a mapping, found `7`",
            "indicators/data/b.json:1:1: an indicator file must be a JSON array of definitions",
        ];
        assert_eq!(problems.len(), expected_starts.len(), "{problems:#?}");
        for (problem, start) in problems.iter().zip(expected_starts) {
            assert!(problem.starts_with(start), "{problem}\n  does not start with\n{start}");
        }
        let names: Vec<&str> = indicators.iter().map(|indicator| indicator.name.as_str()).collect();
        assert_eq!(names, ["rsi"], "invalid definitions are left out, valid ones kept");
    }

    // --- names and canonical JSON ---

    #[test]
    fn constant_name_is_the_uppercase_name() {
        assert_eq!(constant_name("bollinger_bands_2"), "BOLLINGER_BANDS_2");
    }

    fn rsi() -> Indicator {
        let (indicators, problems) = check_files(&[(PATH, RSI)]);
        assert_eq!(problems, Vec::<String>::new());
        indicators[0].clone()
    }

    #[test]
    fn definition_json_is_compact_with_keys_in_a_fixed_order() {
        assert_eq!(
            definition_json(&rsi()),
            concat!(
                r#"{"name":"rsi","display_name":"Relative Strength Index","category":"momentum","#,
                r#""description":"Speed and change of price movements.","#,
                r#""parameters":[{"name":"period","type":"integer","default":14,"min":2,"max":500},"#,
                r#"{"name":"source","type":"enum","default":"close","values":["open","high","low","close"]}],"#,
                r#""outputs":[{"name":"value","type":"float"}]}"#,
            )
        );
    }

    #[test]
    fn definition_json_leaves_out_unset_description_but_keeps_empty_lists() {
        let (indicators, _) = check_files(&[(PATH, &with_outputs(r#"{"name": "v", "type": "boolean"}"#))]);
        assert_eq!(
            definition_json(&indicators[0]),
            r#"{"name":"x","display_name":"X","category":"trend","parameters":[],"outputs":[{"name":"v","type":"boolean"}]}"#
        );
    }

    #[test]
    fn definition_json_depends_on_values_not_spelling_or_file() {
        let written_as_integers = with_parameter(r#"{"name": "k", "type": "float", "default": 2, "min": 0, "max": 5}"#);
        let written_as_floats =
            with_parameter(r#"{"max": 5.0, "min": 0.0, "default": 2.0, "type": "float", "name": "k"}"#)
                .replace(r#""name": "x", "display_name": "X""#, r#""display_name": "X", "name": "x""#);
        let (first, _) = check_files(&[("indicators/data/a.json", &written_as_integers)]);
        let (second, _) = check_files(&[("indicators/data/b.json", &written_as_floats)]);
        assert_eq!(definition_json(&first[0]), definition_json(&second[0]));
        assert_eq!(parameters_json(&first[0]), r#"[{"name":"k","type":"float","default":2.0,"min":0.0,"max":5.0}]"#);
        let integer =
            only_parameter(&with_parameter(r#"{"name": "p", "type": "integer", "default": 14.0, "min": 2.0}"#));
        let indicator = Indicator { parameters: vec![integer], ..first[0].clone() };
        assert_eq!(parameters_json(&indicator), r#"[{"name":"p","type":"integer","default":14,"min":2}]"#);
    }

    #[test]
    fn parameters_and_outputs_json_are_the_lists_of_the_definition() {
        let indicator = rsi();
        let definition: Json = serde_json::from_str(&definition_json(&indicator)).unwrap_or_default();
        let parameters: Json = serde_json::from_str(&parameters_json(&indicator)).unwrap_or_default();
        let outputs: Json = serde_json::from_str(&outputs_json(&indicator)).unwrap_or_default();
        assert_eq!(definition["parameters"], parameters);
        assert_eq!(definition["outputs"], outputs);
        assert_eq!(outputs_json(&indicator), r#"[{"name":"value","type":"float"}]"#);
    }

    // --- schema agrees with the checks ---

    fn schema_object<'a>(schema: &'a Json, definition: &str) -> &'a serde_json::Map<String, Json> {
        schema["definitions"][definition].as_object().unwrap_or_else(|| panic!("no definition `{definition}`"))
    }

    fn property_names(object: &serde_json::Map<String, Json>) -> Vec<String> {
        object["properties"].as_object().map_or_else(Vec::new, |properties| properties.keys().cloned().collect())
    }

    #[test]
    fn schema_properties_are_the_keys_the_checks_allow() {
        let schema = json_schema();
        for (definition, fields) in
            [("indicator", &INDICATOR_FIELDS[..]), ("parameter", &PARAMETER_FIELDS[..]), ("output", &OUTPUT_FIELDS[..])]
        {
            let object = schema_object(&schema, definition);
            assert_eq!(property_names(object), keys(fields), "{definition}");
            assert_eq!(object["additionalProperties"], json!(false), "{definition}");
            for property in object["properties"].as_object().into_iter().flat_map(|properties| properties.values()) {
                assert!(property["title"].is_string() && property["description"].is_string(), "{property}");
            }
        }
    }

    #[test]
    fn schema_required_keys_are_the_keys_the_checks_require() {
        let schema = json_schema();
        let full = r#"{"name": "x", "display_name": "X", "category": "trend", "description": "d",
            "parameters": [{"name": "p", "type": "enum", "default": "a", "values": ["a"]}],
            "outputs": [{"name": "v", "type": "float"}]}"#;
        let full: Json = serde_json::from_str(full).unwrap_or_default();
        for (level, pointer) in [("indicator", ""), ("parameter", "/parameters/0"), ("output", "/outputs/0")] {
            let required = &schema_object(&schema, level)["required"];
            for key in property_names(schema_object(&schema, level)) {
                let mut definition = full.clone();
                if let Some(object) = definition.pointer_mut(pointer).and_then(Json::as_object_mut) {
                    object.remove(&key);
                }
                let problems = problems_of(&format!("[{definition}]"));
                let is_required = required.as_array().is_some_and(|required| required.contains(&json!(key)));
                let reports_missing = problems.iter().any(|problem| problem.contains(&format!("has no `{key}`")));
                assert_eq!(reports_missing, is_required, "{level} without `{key}`: {problems:?}");
                // An enum without `values` is an error of its own, which the schema also requires.
                if !(is_required || level == "parameter" && key == "values") {
                    assert_eq!(problems, Vec::<String>::new(), "{level} without `{key}`");
                }
            }
        }
    }

    #[test]
    fn schema_enums_list_every_category_and_type() {
        let schema = json_schema();
        let enum_of =
            |definition: &str, key: &str| schema_object(&schema, definition)["properties"][key]["enum"].clone();
        assert_eq!(enum_of("indicator", "category"), json!(Category::ALL.map(Category::as_str)));
        assert_eq!(enum_of("parameter", "type"), json!(ParameterKind::ALL.map(ParameterKind::as_str)));
        assert_eq!(enum_of("output", "type"), json!(OutputKind::ALL.map(OutputKind::as_str)));
        let name = &schema_object(&schema, "indicator")["properties"]["name"];
        assert_eq!((&name["pattern"], &name["maxLength"]), (&json!(NAME_PATTERN), &json!(NAME_MAX_LENGTH)));
        assert_eq!(schema_object(&schema, "indicator")["properties"]["outputs"]["minItems"], json!(1));
    }

    /// JSON Schema's meaning of `type`, for the values a default can hold.
    fn json_schema_accepts(json_type: &str, value: &tree::Value) -> bool {
        match (json_type, value) {
            ("integer", tree::Value::Integer(_)) | ("number", tree::Value::Integer(_) | tree::Value::Float(_)) => true,
            ("integer", tree::Value::Float(value)) => value.fract() == 0.0,
            ("boolean", tree::Value::Bool(_)) | ("string", tree::Value::String(_)) => true,
            _ => false,
        }
    }

    #[test]
    fn schema_default_types_agree_with_the_default_check() {
        let samples = [
            tree::Value::Integer(2),
            tree::Value::Float(2.0),
            tree::Value::Float(2.5),
            tree::Value::Bool(true),
            tree::Value::String("close".into()),
            tree::Value::Null,
        ];
        let schema = json_schema();
        let per_kind = schema_object(&schema, "parameter")["allOf"].as_array().cloned().unwrap_or_default();
        assert_eq!(per_kind.len(), ParameterKind::ALL.len());
        for (kind, rule) in ParameterKind::ALL.into_iter().zip(&per_kind) {
            assert_eq!(rule["if"]["properties"]["type"]["const"], json!(kind.as_str()));
            let default_type = rule["then"]["properties"]["default"]["type"].as_str().unwrap_or_default();
            for value in &samples {
                let node = Node { value: value.clone(), at: Location::file(PATH) };
                let accepted = check_default_type(&node, kind, "p", &mut Problems::default()).is_some();
                assert_eq!(accepted, json_schema_accepts(default_type, value), "{kind:?} {value:?}");
            }
            let bounds_allowed = rule["then"]["properties"]["min"] != json!(false);
            assert_eq!(bounds_allowed, is_numeric(kind), "{kind:?}");
            let values_allowed = rule["then"]["properties"]["values"] != json!(false);
            assert_eq!(values_allowed, kind == ParameterKind::Enum, "{kind:?}");
        }
    }
}
