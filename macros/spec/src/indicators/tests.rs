use serde_json::{json, Value as Json};

use super::check::is_snake_case;
use super::fields::{is_numeric, keys, INDICATOR_FIELDS, OUTPUT_FIELDS, PARAMETER_FIELDS};
use super::parameters::check_default_type;
use super::*;
use crate::diag::{Location, Problems};
use crate::model::{Category, Indicator, Output, OutputKind, Parameter, ParameterKind, Value};
use crate::tree::{self, Node};

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
    let files: Vec<(String, String)> = files.iter().map(|(path, text)| (path.to_string(), text.to_string())).collect();
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
            format!("{}: parameter `p` of an indicator definition has no `type`; add it", at(text, "{\"name\": \"p\"")),
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
    let parameter = only_parameter(&with_parameter(r#"{"name": "p", "type": "integer", "default": 14.0, "min": 2.0}"#));
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
    let written_as_floats = with_parameter(r#"{"max": 5.0, "min": 0.0, "default": 2.0, "type": "float", "name": "k"}"#)
        .replace(r#""name": "x", "display_name": "X""#, r#""display_name": "X", "name": "x""#);
    let (first, _) = check_files(&[("indicators/data/a.json", &written_as_integers)]);
    let (second, _) = check_files(&[("indicators/data/b.json", &written_as_floats)]);
    assert_eq!(definition_json(&first[0]), definition_json(&second[0]));
    assert_eq!(parameters_json(&first[0]), r#"[{"name":"k","type":"float","default":2.0,"min":0.0,"max":5.0}]"#);
    let integer = only_parameter(&with_parameter(r#"{"name": "p", "type": "integer", "default": 14.0, "min": 2.0}"#));
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
    let enum_of = |definition: &str, key: &str| schema_object(&schema, definition)["properties"][key]["enum"].clone();
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
