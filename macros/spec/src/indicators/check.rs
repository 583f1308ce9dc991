//! The checks of an indicator definition and its outputs (parameters: `parameters`), each
//! reporting every problem at its `path:line:column`.

use std::collections::HashMap;

use super::error::IndicatorError;
use super::fields::{INDICATOR_FIELDS, NAME_MAX_LENGTH, OUTPUT_FIELDS};
use super::parameters::check_parameters;
use super::read::{backticked, Object};
use crate::diag::{DidYouMean, Location, Problems};
use crate::model::{Category, Indicator, Output, OutputKind};
use crate::tree::{self, Node};

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

/// Names (or values) seen so far, with where each was first written.
#[derive(Default)]
pub(super) struct FirstSeen(HashMap<String, Location>);

impl FirstSeen {
    /// Records `name` at `at`; returns where it was first written if it already was.
    pub(super) fn insert(&mut self, name: &str, at: &Location) -> Option<Location> {
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

/// The name becomes a PostgreSQL key and a Rust constant (see [`super::constant_name`]), so it must be
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

/// Matches [`super::NAME_PATTERN`]: a lowercase letter, then lowercase letters and digits in words
/// joined by single underscores (this crate has no regex engine; a test pins the agreement).
pub(super) fn is_snake_case(name: &str) -> bool {
    name.starts_with(|first: char| first.is_ascii_lowercase())
        && name.chars().all(|char| char.is_ascii_lowercase() || char.is_ascii_digit() || char == '_')
        && !name.contains("__")
        && !name.ends_with('_')
}

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
