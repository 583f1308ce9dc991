//! The destructive-change lint on any script that splits: it must never panic, and every
//! warning must point inside the script.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tradeforge_migrator_spec::model::{Dialect, Script};
use tradeforge_migrator_spec::{lint, source, sql};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else { return };
    let dialect = if selector % 2 == 0 { Dialect::Postgres } else { Dialect::ClickHouse };
    let Ok(text) = source::normalize(bytes) else { return };
    let Ok(statements) = sql::split_statements(&text, dialect) else { return };
    let script = Script {
        path: "migrations/postgres/upgrade/V0001-fuzz.sql".to_string(),
        statement_offsets: statements.iter().map(|statement| statement.offset).collect(),
        statements: statements.into_iter().map(|statement| statement.text).collect(),
        sql: text,
        transactional: true,
    };
    let lines = script.sql.split('\n').count();
    for warning in lint::check_script(&script, dialect) {
        let line = warning.at.line.expect("a warning has a line");
        assert!(line >= 1 && line as usize <= lines, "{warning}");
        let _ = warning.to_string();
    }
});
