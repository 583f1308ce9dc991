//! What may run inside the one transaction a PostgreSQL migration runs in.
//!
//! A transactional migration (every PostgreSQL SQL file unless its first line is
//! `-- migrator:no-transaction`) runs in a transaction together with its history row, so it is
//! applied whole or not at all. Two kinds of statement break that, and both are refused at build
//! time rather than found at deploy:
//!
//! - **transaction control** (`BEGIN`, `START TRANSACTION`, `COMMIT`, `END`, `ROLLBACK`,
//!   `ABORT`, `SAVEPOINT`, `RELEASE`, `PREPARE TRANSACTION`): a `COMMIT` commits the migrator's
//!   own transaction, so a later failure leaves half the migration committed while the error
//!   says nothing was applied, and the next run fails on what was committed;
//! - **statements PostgreSQL refuses inside a transaction block**: `CREATE|DROP INDEX
//!   CONCURRENTLY`, `REINDEX … CONCURRENTLY` (and `REINDEX SCHEMA|DATABASE|SYSTEM`), `VACUUM`,
//!   `CREATE|DROP DATABASE`, `CREATE|DROP TABLESPACE`, `ALTER SYSTEM`, `DISCARD ALL`, and
//!   `ALTER TYPE … ADD VALUE` (refused in a transaction before PostgreSQL 12; from 12 on the new
//!   value still cannot be used before the transaction commits).
//!
//! Only a statement's leading words count: the same words inside a string, a quoted name, a
//! comment, a dollar-quoted function or `DO` body, or a `BEGIN ATOMIC` routine body are not
//! statements of the migration. The words come from `lint`'s token scanner, which follows the
//! splitter's quoting rules. ClickHouse has no transactions, so none of this applies to it.

use crate::diag::Location;
use crate::lint::tokens::{self, Kind};
use crate::migrations::NO_TRANSACTION;
use crate::model::Dialect;
use crate::source::line_column;
use crate::sql::Statement;

/// How much of a statement's start is scanned for its leading words: enough for the longest
/// pattern below with a schema-qualified name, and cheap for a 50 MB `INSERT`.
const LEADING_BYTES: usize = 512;

/// A statement that cannot run in a transactional migration.
#[derive(Debug, thiserror::Error)]
pub enum TransactionError {
    #[error(
        "{at}: `{statement}` is transaction control, but each migration already runs in one transaction \
         (with its history row), which this would end or disturb; delete it, or make `{NO_TRANSACTION}` \
         the first line of the file to run it statement by statement"
    )]
    TransactionControl { at: Location, statement: String },
    #[error(
        "{at}: `{statement}` cannot run inside a transaction{note}; make `{NO_TRANSACTION}` the first line \
         of this file (best in a migration of its own, since such a file is not applied all or nothing)"
    )]
    OutsideTransactionOnly { at: Location, statement: String, note: &'static str },
}

/// Every statement of a transactional PostgreSQL script that cannot run in its transaction.
pub fn check_script(path: &str, sql: &str, statements: &[Statement]) -> Vec<TransactionError> {
    let mut errors = Vec::new();
    for statement in statements {
        let Some(finding) = classify(&statement.text) else {
            continue;
        };
        let (line, column) = line_column(sql, statement.offset + finding.offset);
        let at = Location::at(path, line, column);
        let words = finding.words(&statement.text);
        errors.push(match finding.note {
            None => TransactionError::TransactionControl { at, statement: words },
            Some(note) => TransactionError::OutsideTransactionOnly { at, statement: words, note },
        });
    }
    errors
}

/// What a statement's leading words make it.
#[derive(Debug, PartialEq, Eq)]
struct Finding {
    /// Offset of the first word in the statement.
    offset: usize,
    /// Offset just past the last word that decided it.
    end: usize,
    /// `None` for transaction control; otherwise what to add after "inside a transaction".
    note: Option<&'static str>,
}

impl Finding {
    /// The deciding words as written, blank space collapsed, e.g. `CREATE INDEX CONCURRENTLY`.
    fn words(&self, statement: &str) -> String {
        statement[self.offset..self.end].split_ascii_whitespace().collect::<Vec<_>>().join(" ")
    }
}

/// Transaction control, by first word; `START` and `PREPARE` only with `TRANSACTION`.
const CONTROL: [&str; 7] = ["begin", "commit", "end", "rollback", "abort", "savepoint", "release"];

/// Statements PostgreSQL refuses in a transaction block, as their leading words.
const OUTSIDE_ONLY: [&[&str]; 10] = [
    &["create", "index", "concurrently"],
    &["create", "unique", "index", "concurrently"],
    &["drop", "index", "concurrently"],
    &["vacuum"],
    &["create", "database"],
    &["drop", "database"],
    &["create", "tablespace"],
    &["drop", "tablespace"],
    &["alter", "system"],
    &["discard", "all"],
];

const ADD_VALUE_NOTE: &str =
    " on PostgreSQL before 12, and from 12 on the new value cannot be used until the transaction commits";

/// The words of a statement outside parentheses (names, keywords, quoted names), with their
/// offsets; only its start is scanned.
fn leading_words(statement: &str) -> Vec<(&str, usize)> {
    let mut end = statement.len().min(LEADING_BYTES);
    while !statement.is_char_boundary(end) {
        end -= 1;
    }
    tokens::scan(&statement[..end], Dialect::Postgres)
        .code
        .into_iter()
        .filter(|token| token.depth == 0 && matches!(token.kind, Kind::Word | Kind::QuotedName))
        .map(|token| (token.text, token.offset))
        .collect()
}

fn classify(statement: &str) -> Option<Finding> {
    let words = leading_words(statement);
    let &(first, offset) = words.first()?;
    let is = |index: usize, keyword: &str| words.get(index).is_some_and(|(word, _)| word.eq_ignore_ascii_case(keyword));
    let through = |last: usize, note: Option<&'static str>| {
        let (word, at) = words[last];
        Some(Finding { offset, end: at + word.len(), note })
    };
    if CONTROL.iter().any(|keyword| first.eq_ignore_ascii_case(keyword)) {
        return through(0, None);
    }
    if (is(0, "start") || is(0, "prepare")) && is(1, "transaction") {
        return through(1, None);
    }
    if let Some(pattern) =
        OUTSIDE_ONLY.iter().find(|pattern| pattern.iter().enumerate().all(|(index, keyword)| is(index, keyword)))
    {
        return through(pattern.len() - 1, Some(""));
    }
    if is(0, "reindex") {
        return reindex_outside_only(&words).and_then(|last| through(last, Some("")));
    }
    if is(0, "alter") && is(1, "type") {
        let add = (3..words.len()).find(|&index| is(index, "add") && is(index + 1, "value"))?;
        return through(add + 1, Some(ADD_VALUE_NOTE));
    }
    None
}

/// `REINDEX [(options)] {INDEX|TABLE|SCHEMA|DATABASE|SYSTEM} [CONCURRENTLY] name`: the index of
/// the last word showing that it cannot run in a transaction, if it cannot.
fn reindex_outside_only(words: &[(&str, usize)]) -> Option<usize> {
    let is_one_of =
        |index: usize, keywords: &[&str]| keywords.iter().any(|keyword| words[index].0.eq_ignore_ascii_case(keyword));
    let kind = (1..words.len()).find(|&index| is_one_of(index, &["index", "table", "schema", "database", "system"]))?;
    if words.get(kind + 1).is_some_and(|(word, _)| word.eq_ignore_ascii_case("concurrently")) {
        Some(kind + 1)
    } else {
        is_one_of(kind, &["schema", "database", "system"]).then_some(kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::split_statements;

    fn errors(sql: &str) -> Vec<String> {
        let statements = split_statements(sql, Dialect::Postgres).expect("script splits");
        check_script("V1-a.sql", sql, &statements).iter().map(ToString::to_string).collect()
    }

    fn findings(sql: &str) -> Vec<String> {
        let statements = split_statements(sql, Dialect::Postgres).expect("script splits");
        statements
            .iter()
            .filter_map(|statement| classify(&statement.text).map(|finding| finding.words(&statement.text)))
            .collect()
    }

    #[test]
    fn transaction_control_is_refused_with_the_fix() {
        let sql = "BEGIN;\nCREATE TABLE t (x int);\n  commit;\n";
        assert_eq!(
            errors(sql),
            [
                "V1-a.sql:1:1: `BEGIN` is transaction control, but each migration already runs in one transaction \
                 (with its history row), which this would end or disturb; delete it, or make \
                 `-- migrator:no-transaction` the first line of the file to run it statement by statement",
                "V1-a.sql:3:3: `commit` is transaction control, but each migration already runs in one transaction \
                 (with its history row), which this would end or disturb; delete it, or make \
                 `-- migrator:no-transaction` the first line of the file to run it statement by statement",
            ]
        );
    }

    #[test]
    fn every_form_of_transaction_control_is_found() {
        let sql = "START TRANSACTION ISOLATION LEVEL SERIALIZABLE; SAVEPOINT s; RELEASE SAVEPOINT s; \
                   ROLLBACK TO s; END; ABORT; PREPARE TRANSACTION 'x'; COMMIT PREPARED 'x'; BEGIN WORK;";
        assert_eq!(
            findings(sql),
            [
                "START TRANSACTION",
                "SAVEPOINT",
                "RELEASE",
                "ROLLBACK",
                "END",
                "ABORT",
                "PREPARE TRANSACTION",
                "COMMIT",
                "BEGIN",
            ]
        );
    }

    #[test]
    fn words_in_bodies_strings_names_and_comments_are_not_transaction_control() {
        let sql = "CREATE FUNCTION f() RETURNS void AS $$ BEGIN COMMIT; END $$ LANGUAGE plpgsql;\n\
                   DO $body$ BEGIN ROLLBACK; END $body$;\n\
                   CREATE PROCEDURE p() LANGUAGE sql BEGIN ATOMIC SELECT 1; END;\n\
                   SELECT 'BEGIN; COMMIT;';\n\
                   -- COMMIT;\n\
                   /* ROLLBACK; */ INSERT INTO \"commit\" VALUES ('end');\n\
                   CREATE TABLE savepoint_log (begin_at timestamptz, \"end\" int);\n\
                   PREPARE q AS SELECT 1;\n\
                   ALTER TYPE mood RENAME VALUE 'a' TO 'b';\n\
                   REINDEX TABLE t;\n\
                   CREATE INDEX i ON t (x);\n\
                   COMMENT ON TABLE t IS 'run VACUUM later';";
        assert_eq!(findings(sql), Vec::<String>::new());
    }

    #[test]
    fn statements_refused_in_a_transaction_name_the_directive() {
        let sql = "CREATE UNIQUE INDEX CONCURRENTLY i ON t (x);\ndrop index concurrently i;\nVACUUM ANALYZE t;\n\
                   REINDEX (VERBOSE) TABLE CONCURRENTLY t;\nREINDEX DATABASE app;\nCREATE DATABASE x;\nDROP DATABASE x;\n\
                   CREATE TABLESPACE s LOCATION '/x';\nALTER SYSTEM SET work_mem = '8MB';\nDISCARD ALL;";
        assert_eq!(
            findings(sql),
            [
                "CREATE UNIQUE INDEX CONCURRENTLY",
                "drop index concurrently",
                "VACUUM",
                "REINDEX (VERBOSE) TABLE CONCURRENTLY",
                "REINDEX DATABASE",
                "CREATE DATABASE",
                "DROP DATABASE",
                "CREATE TABLESPACE",
                "ALTER SYSTEM",
                "DISCARD ALL",
            ]
        );
        assert_eq!(
            errors("SELECT 1;\nCREATE INDEX CONCURRENTLY i ON t (x);"),
            ["V1-a.sql:2:1: `CREATE INDEX CONCURRENTLY` cannot run inside a transaction; make \
              `-- migrator:no-transaction` the first line of this file (best in a migration of its own, since such \
              a file is not applied all or nothing)"]
        );
    }

    #[test]
    fn alter_type_add_value_says_which_servers_refuse_it() {
        assert_eq!(
            errors("ALTER TYPE public.mood ADD VALUE IF NOT EXISTS 'calm';"),
            ["V1-a.sql:1:1: `ALTER TYPE public.mood ADD VALUE` cannot run inside a transaction on PostgreSQL before 12, \
              and from 12 on the new value cannot be used until the transaction commits; make \
              `-- migrator:no-transaction` the first line of this file (best in a migration of its own, since such \
              a file is not applied all or nothing)"]
        );
    }
}
