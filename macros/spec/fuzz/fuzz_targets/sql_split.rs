//! The SQL statement splitter of both dialects, on any normalised text (the first byte picks the
//! dialect), with the properties the plan relies on.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tradeforge_migrator_spec::model::Dialect;
use tradeforge_migrator_spec::{source, sql};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else { return };
    let dialect = if selector % 2 == 0 { Dialect::Postgres } else { Dialect::ClickHouse };
    let Ok(script) = source::normalize(bytes) else { return };
    let Ok(statements) = sql::split_statements(&script, dialect) else {
        assert!(sql::split(&script, dialect).is_err());
        return;
    };
    let mut end = 0;
    for statement in &statements {
        // Each statement is a trimmed, non-empty piece of the script, where its offset says,
        // after the previous one.
        assert!(!statement.text.is_empty());
        assert_eq!(statement.text, statement.text.trim_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']));
        assert!(statement.offset >= end, "statements overlap in {script:?}");
        end = statement.offset + statement.text.len();
        assert_eq!(script.get(statement.offset..end), Some(statement.text.as_str()));
    }
    let texts: Vec<String> = statements.into_iter().map(|statement| statement.text).collect();
    assert_eq!(sql::split(&script, dialect).ok(), Some(texts));
});
