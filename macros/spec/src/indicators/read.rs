//! Reading a definition object: its keys checked against a field table, its values read with
//! the phrase that names it in messages.

use super::fields::{keys, Field};
use crate::diag::{DidYouMean, Location, Problems};
use crate::tree::{self, Entry, Map, Node};

/// One object of a definition (an indicator, a parameter or an output), its keys checked, with
/// the phrase naming it in messages and where it starts.
pub(super) struct Object<'a> {
    pub(super) map: &'a Map,
    pub(super) at: &'a Location,
    /// "indicator `rsi`", "parameter `period` of indicator `rsi`", or `unnamed` without a name.
    pub(super) context: String,
    /// Keys that an unknown key's "did you mean" points to.
    misspelt: Vec<String>,
}

impl<'a> Object<'a> {
    /// `node` as an object allowing exactly `fields`; unknown keys are reported here. It is called
    /// `named(name)` in messages when its `name` is a string, else `unnamed`.
    pub(super) fn read(
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

    pub(super) fn entry(&self, key: &str) -> Option<&'a Entry> {
        self.map.entries.iter().find(|entry| entry.key == key)
    }

    /// The value of a key that must be present. A key written with a typo is not reported
    /// missing as well: its unknown-key error already names it, and one typo is one error.
    pub(super) fn required(&self, key: &'static str, problems: &mut Problems) -> Option<&'a Node> {
        if self.map.get(key).is_none() && self.misspelt.iter().any(|misspelt| misspelt == key) {
            return None;
        }
        self.map.require(key, &self.context, self.at, problems)
    }

    /// A required string and the node it was written at.
    pub(super) fn required_str(&self, key: &'static str, problems: &mut Problems) -> Option<(&'a str, &'a Node)> {
        let node = self.required(key, problems)?;
        Some((node.expect_str(&format!("`{key}` of {}", self.context), problems)?, node))
    }

    pub(super) fn optional_str(&self, key: &str, problems: &mut Problems) -> Option<String> {
        let node = self.map.get(key)?;
        node.expect_str(&format!("`{key}` of {}", self.context), problems).map(str::to_string)
    }
}

/// A number that fits in an `f64`: JSON allows `1e999`, which would silently become infinity.
pub(super) fn finite_number(node: &Node, what: &str, problems: &mut Problems) -> Option<f64> {
    let value = node.expect_number(what, problems)?;
    if value.is_finite() {
        Some(value)
    } else {
        node.wrong_type(what, "a finite number", problems)
    }
}

/// "`a`, `b`, `c`" for "use one of" messages.
pub(super) fn backticked<'a>(items: impl IntoIterator<Item = &'a str>) -> String {
    items.into_iter().map(|item| format!("`{item}`")).collect::<Vec<_>>().join(", ")
}
