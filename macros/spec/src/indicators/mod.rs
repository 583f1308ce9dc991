//! The indicator catalogue: checks `indicators/data/*.json` into [`Indicator`](crate::model::Indicator)s, renders each
//! definition as the canonical JSON the runtime stores, carries the catalogue into the binary as
//! one encoded text ([`compiled`]), and describes the format as a JSON Schema.
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
//!   `display_name` (not blank), `category` (one of [`Category::ALL`](crate::model::Category::ALL)) and `outputs` (at least one,
//!   names unique); `description` and `parameters` are optional.
//! - A parameter has `name` (lower_snake_case, unique within its indicator) and `type` (one of
//!   [`ParameterKind::ALL`](crate::model::ParameterKind::ALL)); `default` must be of that type (`2` is fine for a `float`), `min` and
//!   `max` apply to `integer` and `float` only, `values` (non-empty, no repeats) to `enum` only.
//! - An output has `name` and `type` (one of [`OutputKind::ALL`](crate::model::OutputKind::ALL)).
//!
//! Every problem of every file is reported, each at its `path:line:column`, and a definition with
//! any problem is left out of the result. The keys of each object are declared once, in
//! `INDICATOR_FIELDS`, `PARAMETER_FIELDS` and `OUTPUT_FIELDS` (`fields`): the checks allow exactly
//! those keys and [`json_schema`] documents exactly those, so the schema cannot drift from the
//! checks.

mod canonical;
mod check;
pub mod compiled;
mod error;
mod fields;
mod parameters;
mod read;
mod schema;

pub use self::canonical::{definition_json, outputs_json, parameters_json};
pub use self::check::check;
pub use self::error::IndicatorError;
pub use self::fields::{NAME_MAX_LENGTH, NAME_PATTERN};
pub use self::schema::json_schema;

/// The name of the Rust constant generated for an indicator: `rsi` → `RSI`. Checked names are
/// lower_snake_case, so the result is always a valid identifier.
pub fn constant_name(indicator: &str) -> String {
    indicator.to_ascii_uppercase()
}

#[cfg(test)]
mod tests;
