//! How a statement of a script reads in a message: where its code starts, its first line, and a
//! list of statements by number.

/// The line (1-based) where the code of statement `index` (0-based) starts, after its leading
/// comments. Statements keep their text, so each is found in the script after the one before it.
pub(super) fn statement_line<S: AsRef<str>>(sql: &str, statements: &[S], index: usize) -> Option<usize> {
    let mut cursor = 0;
    for (position, statement) in statements.iter().enumerate() {
        let statement = statement.as_ref();
        let offset = cursor + sql.get(cursor..)?.find(statement)?;
        if position == index {
            let code = offset + statement.len() - skip_comments(statement).len();
            return Some(1 + sql[..code].matches('\n').count());
        }
        cursor = offset + statement.len();
    }
    None
}

/// `path:line` of statement `index` (0-based), or the path alone when it cannot be found.
pub(super) fn statement_location<S: AsRef<str>>(path: &str, sql: &str, statements: &[S], index: usize) -> String {
    match statement_line(sql, statements, index) {
        Some(line) => format!("{path}:{line}"),
        None => path.to_owned(),
    }
}

/// The first line of the statement's code, shortened for a message.
pub(super) fn first_line(statement: &str) -> String {
    let line = skip_comments(statement).lines().next().unwrap_or("").trim();
    const LIMIT: usize = 80;
    match line.char_indices().nth(LIMIT) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line.to_owned(),
    }
}

/// `statement 3/3 (`CREATE …`)` or `statements 2/3 (`CREATE …`), 3/3 (`CREATE …`)`: the
/// statements from `first` (0-based) on, by number and first line.
pub(super) fn numbered<S: AsRef<str>>(statements: &[S], first: usize) -> String {
    let total = statements.len();
    let items: Vec<String> = statements
        .iter()
        .enumerate()
        .skip(first)
        .map(|(index, statement)| format!("{}/{total} (`{}`)", index + 1, first_line(statement.as_ref())))
        .collect();
    let noun = if items.len() == 1 { "statement" } else { "statements" };
    format!("{noun} {}", items.join(", "))
}

/// The statement from its first code on: statements keep the comments written above them.
fn skip_comments(statement: &str) -> &str {
    let mut rest = statement.trim_start();
    loop {
        rest = if ["--", "//", "#"].iter().any(|marker| rest.starts_with(marker)) {
            rest.split_once('\n').map_or("", |(_, after)| after).trim_start()
        } else if let Some(comment) = rest.strip_prefix("/*") {
            comment.split_once("*/").map_or("", |(_, after)| after).trim_start()
        } else {
            return rest;
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::targets::clickhouse::fixtures::{TWO_TABLES_SQL as SQL, TWO_TABLES_STATEMENTS as STATEMENTS};

    #[test]
    fn first_line_skips_leading_comments_and_shortens() {
        assert_eq!(first_line(STATEMENTS[1]), "CREATE TABLE b ENGINE = Memory");
        assert_eq!(first_line("# note\n// other\n  SELECT 1"), "SELECT 1");
        let long = format!("SELECT '{}'", "x".repeat(100));
        assert_eq!(first_line(&long).chars().count(), 81);
        assert!(first_line(&long).ends_with('…'));
    }

    #[test]
    fn statement_location_is_the_line_of_its_code() {
        assert_eq!(statement_location("V2.sql", SQL, &STATEMENTS, 0), "V2.sql:2");
        assert_eq!(statement_location("V2.sql", SQL, &STATEMENTS, 1), "V2.sql:6");
        let owned: Vec<String> = STATEMENTS.iter().map(|statement| statement.to_string()).collect();
        assert_eq!(statement_line(SQL, &owned, 1), Some(6));
    }

    #[test]
    fn statement_location_without_the_statement_is_the_path() {
        assert_eq!(statement_location("V2.sql", SQL, &STATEMENTS, 2), "V2.sql");
        assert_eq!(statement_location("V2.sql", "other", &STATEMENTS, 0), "V2.sql");
    }

    #[test]
    fn numbered_lists_the_statements_from_the_first_on() {
        assert_eq!(numbered(&STATEMENTS, 1), "statement 2/2 (`CREATE TABLE b ENGINE = Memory`)");
        assert_eq!(
            numbered(&STATEMENTS, 0),
            "statements 1/2 (`CREATE TABLE a (x UInt8) ENGINE = Memory`), 2/2 (`CREATE TABLE b ENGINE = Memory`)"
        );
    }
}
