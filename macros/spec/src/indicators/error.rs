//! Every problem the indicator checks report.

use crate::diag::{DidYouMean, Location};

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
