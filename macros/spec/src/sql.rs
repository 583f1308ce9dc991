//! Splits a SQL script into statements, the way each target's own client does.
//!
//! The runtime executes one statement at a time (and records progress per statement), so the
//! split happens here, once, at build time, and the plan carries its result.
//!
//! A `;` ends a statement unless it is inside:
//! - a `'...'` string (`''` is a quote inside it; backslash escapes in ClickHouse, and in
//!   PostgreSQL only inside `E'...'`),
//! - a `"..."` identifier, or in ClickHouse a `` `...` `` identifier (both with backslash escapes),
//! - a PostgreSQL dollar-quoted string `$$...$$` / `$tag$...$tag$` (`$1` is a parameter, not a
//!   quote), or a ClickHouse heredoc `$name$...$name$`,
//! - a `--` comment, in ClickHouse also a `//`, `# ` or `#!` comment, or a `/* */` comment
//!   (nested in both targets),
//! - in PostgreSQL, parentheses or the `BEGIN ... END` body of `CREATE FUNCTION` / `CREATE
//!   PROCEDURE` (SQL-standard bodies hold `;`); this follows psql's own heuristic.
//!
//! Each statement is returned without its `;` and trimmed of surrounding blank space; comments
//! before or inside it stay with it. Pieces holding only blank space and comments are dropped,
//! so a script of comments has no statement.

use std::fmt;

use crate::model::Dialect;
use crate::source::line_column;

/// A quote, comment or block that is opened and never closed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unterminated {
    pub construct: Construct,
    /// 1-based position of the opening delimiter in the script.
    pub line: u32,
    pub column: u32,
}

/// What was left open.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Construct {
    /// A string literal opened by `'`.
    String,
    /// An identifier quoted with the given byte: `"` or `` ` ``.
    QuotedIdentifier(char),
    /// A dollar-quoted string (or ClickHouse heredoc), with its delimiter, e.g. `$body$`.
    DollarQuoted(String),
    BlockComment,
    Parenthesis,
    /// The `BEGIN` of a `CREATE FUNCTION ... BEGIN ATOMIC` body.
    Begin,
}

impl Construct {
    /// The text that would close it.
    pub fn closer(&self) -> String {
        match self {
            Construct::String => "'".to_string(),
            Construct::QuotedIdentifier(quote) => quote.to_string(),
            Construct::DollarQuoted(delimiter) => delimiter.clone(),
            Construct::BlockComment => "*/".to_string(),
            Construct::Parenthesis => ")".to_string(),
            Construct::Begin => "END".to_string(),
        }
    }
}

impl fmt::Display for Construct {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Construct::String => "string",
            Construct::QuotedIdentifier(_) => "quoted identifier",
            Construct::DollarQuoted(_) => "dollar-quoted string",
            Construct::BlockComment => "block comment",
            Construct::Parenthesis => "parenthesis",
            Construct::Begin => "`BEGIN` block",
        })
    }
}

/// One statement of a script and where it starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Statement {
    /// Byte offset of the statement's first character in the script (a leading comment counts).
    pub offset: usize,
    pub text: String,
}

/// Splits a normalised script (LF line endings) into its statements.
///
/// Fails on the first quote, comment or block that is never closed, giving where it opened.
pub fn split(sql: &str, dialect: Dialect) -> Result<Vec<String>, Unterminated> {
    let statements = split_statements(sql, dialect)?;
    Ok(statements.into_iter().map(|statement| statement.text).collect())
}

/// [`split`], keeping where each statement starts, so that a later check can point into the file.
pub fn split_statements(sql: &str, dialect: Dialect) -> Result<Vec<Statement>, Unterminated> {
    let mut splitter = Splitter {
        sql,
        bytes: sql.as_bytes(),
        dialect,
        pos: 0,
        statement_start: 0,
        has_code: false,
        routine: RoutineBody::default(),
        statements: Vec::new(),
    };
    splitter.run()?;
    Ok(splitter.statements)
}

struct Splitter<'a> {
    sql: &'a str,
    bytes: &'a [u8],
    dialect: Dialect,
    pos: usize,
    statement_start: usize,
    /// Whether the current piece holds anything besides blank space and comments.
    has_code: bool,
    routine: RoutineBody,
    statements: Vec<Statement>,
}

impl Splitter<'_> {
    fn run(&mut self) -> Result<(), Unterminated> {
        let postgres = self.dialect == Dialect::Postgres;
        while self.pos < self.bytes.len() {
            let byte = self.bytes[self.pos];
            let next = if self.pos + 1 < self.bytes.len() { self.bytes[self.pos + 1] } else { 0 };
            match byte {
                b';' => self.semicolon(),
                _ if BLANK[usize::from(byte)] => self.skip_run(&BLANK),
                b'-' if next == b'-' => self.skip_line_comment(),
                b'/' if next == b'/' && !postgres => self.skip_line_comment(),
                b'#' if matches!(next, b' ' | b'!') && !postgres => self.skip_line_comment(),
                b'/' if next == b'*' => self.skip_block_comment()?,
                b'\'' => self.skip_quoted(b'\'', !postgres || self.is_escape_string())?,
                b'"' => self.skip_quoted(b'"', !postgres)?,
                b'`' if !postgres => self.skip_quoted(b'`', true)?,
                b'$' if postgres => self.dollar_postgres()?,
                b'$' => self.dollar_clickhouse(),
                b'(' if postgres => self.code_byte(|routine, pos| routine.open_parenthesis(pos)),
                b')' if postgres => self.code_byte(|routine, _| routine.close_parenthesis()),
                _ if postgres && IDENTIFIER_START[usize::from(byte)] && !self.follows_identifier() => self.word(),
                _ => self.plain_run(),
            }
        }
        self.finish()
    }

    fn semicolon(&mut self) {
        if self.dialect == Dialect::Postgres && self.routine.holds_semicolons() {
            self.code_byte(|_, _| ());
            return;
        }
        self.end_statement(self.pos);
        self.pos += 1;
        self.statement_start = self.pos;
    }

    fn end_statement(&mut self, end: usize) {
        if self.has_code {
            let piece = &self.sql[self.statement_start..end];
            let text = piece.trim_matches(is_blank);
            let offset = self.statement_start + (piece.len() - piece.trim_start_matches(is_blank).len());
            self.statements.push(Statement { offset, text: text.to_string() });
        }
        self.has_code = false;
        self.routine.reset_statement();
    }

    fn finish(&mut self) -> Result<(), Unterminated> {
        if let Some(open) = self.routine.unclosed() {
            return Err(self.unterminated(open));
        }
        self.end_statement(self.sql.len());
        Ok(())
    }

    /// Consumes one byte of code, letting the routine tracker see it.
    fn code_byte(&mut self, track: impl FnOnce(&mut RoutineBody, usize)) {
        track(&mut self.routine, self.pos);
        self.has_code = true;
        self.pos += 1;
    }

    /// Consumes one byte of code and every plain byte after it.
    fn plain_run(&mut self) {
        self.has_code = true;
        self.pos += 1;
        match self.dialect {
            Dialect::Postgres => self.skip_run(&POSTGRES_PLAIN),
            Dialect::ClickHouse => self.skip_run(&CLICKHOUSE_PLAIN),
        }
    }

    /// Advances past every byte marked in `table`. A plain loop over a table rather than an
    /// iterator with a closure: build scripts and proc macros are built without optimisation,
    /// where the closure would cost a call per byte.
    fn skip_run(&mut self, table: &[bool; 256]) {
        while self.pos < self.bytes.len() && table[usize::from(self.bytes[self.pos])] {
            self.pos += 1;
        }
    }

    fn skip_line_comment(&mut self) {
        while self.pos < self.bytes.len() && self.bytes[self.pos] != b'\n' {
            self.pos += 1;
        }
    }

    /// Both targets nest block comments, so `/* a /* b */ c */` is one comment.
    fn skip_block_comment(&mut self) -> Result<(), Unterminated> {
        let open = self.pos;
        let mut depth = 0usize;
        let mut index = self.pos;
        while index + 1 < self.bytes.len() {
            match (self.bytes[index], self.bytes[index + 1]) {
                (b'/', b'*') => {
                    depth += 1;
                    index += 2;
                }
                (b'*', b'/') => {
                    depth -= 1;
                    index += 2;
                    if depth == 0 {
                        self.pos = index;
                        return Ok(());
                    }
                }
                _ => index += 1,
            }
        }
        Err(self.unterminated(Open { construct: Construct::BlockComment, at: open }))
    }

    /// Skips a quoted string or identifier; a doubled quote stands for itself, and with
    /// `backslash_escapes` a backslash escapes the next byte.
    fn skip_quoted(&mut self, quote: u8, backslash_escapes: bool) -> Result<(), Unterminated> {
        let open = self.pos;
        self.has_code = true;
        let mut index = open + 1;
        while index < self.bytes.len() {
            let byte = self.bytes[index];
            if byte != quote && !(backslash_escapes && byte == b'\\') {
                index += 1;
            } else if byte == b'\\' || self.bytes.get(index + 1) == Some(&quote) {
                // A backslash with the byte it escapes, or a doubled quote: skip both.
                index += 2;
            } else {
                self.pos = index + 1;
                return Ok(());
            }
        }
        let construct = match quote {
            b'\'' => Construct::String,
            other => Construct::QuotedIdentifier(char::from(other)),
        };
        Err(self.unterminated(Open { construct, at: open }))
    }

    /// `E'...'` (or `e'...'`) in PostgreSQL: the `E` must be a word of its own, not the end of
    /// an identifier such as `name'`.
    fn is_escape_string(&self) -> bool {
        let pos = self.pos;
        pos >= 1
            && matches!(self.bytes[pos - 1], b'E' | b'e')
            && (pos < 2 || !is_identifier_continue(self.bytes[pos - 2]))
    }

    fn follows_identifier(&self) -> bool {
        self.pos > 0 && is_identifier_continue(self.bytes[self.pos - 1])
    }

    /// PostgreSQL: `$tag$` or `$$` opens a dollar-quoted string closed by the same delimiter;
    /// `$1` (a parameter) and a `$` inside an identifier (`a$b`) are plain code.
    fn dollar_postgres(&mut self) -> Result<(), Unterminated> {
        let open = self.pos;
        let tag_end = match self.bytes.get(open + 1) {
            Some(&byte) if byte == b'$' || is_identifier_start(byte) => {
                let tag_length = self.bytes[open + 1..]
                    .iter()
                    .position(|&byte| !is_tag_continue(byte))
                    .unwrap_or(self.bytes.len() - open - 1);
                open + 1 + tag_length
            }
            _ => open,
        };
        if self.follows_identifier() || tag_end == open || self.bytes.get(tag_end) != Some(&b'$') {
            self.code_byte(|_, _| ());
            return Ok(());
        }
        let delimiter = &self.sql[open..=tag_end];
        self.has_code = true;
        match self.sql[tag_end + 1..].find(delimiter) {
            Some(offset) => {
                self.pos = tag_end + 1 + offset + delimiter.len();
                Ok(())
            }
            None => {
                Err(self.unterminated(Open { construct: Construct::DollarQuoted(delimiter.to_string()), at: open }))
            }
        }
    }

    /// ClickHouse: `$name$...$name$` is a heredoc when the closing delimiter exists; otherwise
    /// the `$` is plain code, as in ClickHouse's own lexer (so an unclosed heredoc is not an
    /// error here: the server reports it).
    fn dollar_clickhouse(&mut self) {
        let open = self.pos;
        let closing =
            (!self.follows_identifier()).then(|| self.sql[open + 1..].find('$')).flatten().and_then(|offset| {
                let delimiter = &self.sql[open..=open + 1 + offset];
                let body_start = open + delimiter.len();
                self.sql[body_start..].find(delimiter).map(|end| body_start + end + delimiter.len())
            });
        match closing {
            Some(end) => {
                self.has_code = true;
                self.pos = end;
            }
            None => self.code_byte(|_, _| ()),
        }
    }

    /// A PostgreSQL word: an identifier or keyword, seen by the routine tracker.
    fn word(&mut self) {
        let start = self.pos;
        self.skip_run(&IDENTIFIER_CONTINUE);
        self.has_code = true;
        self.routine.word(&self.bytes[start..self.pos], start);
    }

    fn unterminated(&self, open: Open) -> Unterminated {
        let (line, column) = line_column(self.sql, open.at);
        Unterminated { construct: open.construct, line, column }
    }
}

/// Something opened at byte offset `at`.
#[derive(Clone, Debug)]
struct Open {
    construct: Construct,
    at: usize,
}

/// psql's rule for semicolons that do not end a statement: those inside parentheses, and those
/// inside the `BEGIN ... END` body of a `CREATE [OR REPLACE] FUNCTION|PROCEDURE` (a
/// SQL-standard body, `BEGIN ATOMIC ...; ...; END`). Inside such a body `CASE` also closes with
/// `END`, so it is counted too. Following psql keeps a script that `psql -f` runs splitting
/// the same way here.
#[derive(Debug, Default)]
struct RoutineBody {
    /// The first letters of the statement's first four words, when they are `create`, `or`,
    /// `replace`, `function` or `procedure`; 0 otherwise.
    leading_words: [u8; 4],
    word_count: usize,
    begin_depth: usize,
    first_begin: usize,
    parenthesis_depth: usize,
    first_parenthesis: usize,
}

impl RoutineBody {
    fn holds_semicolons(&self) -> bool {
        self.parenthesis_depth > 0 || self.begin_depth > 0
    }

    fn reset_statement(&mut self) {
        self.leading_words = [0; 4];
        self.word_count = 0;
    }

    fn open_parenthesis(&mut self, at: usize) {
        if self.parenthesis_depth == 0 {
            self.first_parenthesis = at;
        }
        self.parenthesis_depth += 1;
    }

    fn close_parenthesis(&mut self) {
        self.parenthesis_depth = self.parenthesis_depth.saturating_sub(1);
    }

    fn word(&mut self, word: &[u8], at: usize) {
        const LEADING: [&[u8]; 5] = [b"create", b"or", b"replace", b"function", b"procedure"];
        if let Some(slot) = self.leading_words.get_mut(self.word_count) {
            if LEADING.iter().any(|leading| word.eq_ignore_ascii_case(leading)) {
                *slot = word[0].to_ascii_lowercase();
            }
        }
        self.word_count += 1;
        if self.parenthesis_depth > 0 || !self.is_create_routine() {
            return;
        }
        if word.eq_ignore_ascii_case(b"begin") {
            if self.begin_depth == 0 {
                self.first_begin = at;
            }
            self.begin_depth += 1;
        } else if word.eq_ignore_ascii_case(b"case") && self.begin_depth > 0 {
            self.begin_depth += 1;
        } else if word.eq_ignore_ascii_case(b"end") {
            self.begin_depth = self.begin_depth.saturating_sub(1);
        }
    }

    fn is_create_routine(&self) -> bool {
        matches!(self.leading_words, [b'c', b'f' | b'p', ..] | [b'c', b'o', b'r', b'f' | b'p'])
    }

    /// What is still open at the end of the script, outermost first.
    fn unclosed(&self) -> Option<Open> {
        if self.begin_depth > 0 {
            Some(Open { construct: Construct::Begin, at: self.first_begin })
        } else if self.parenthesis_depth > 0 {
            Some(Open { construct: Construct::Parenthesis, at: self.first_parenthesis })
        } else {
            None
        }
    }
}

fn is_blank(character: char) -> bool {
    u8::try_from(character).is_ok_and(is_blank_byte)
}

/// PostgreSQL's `ident_start`: letters, `_` and any byte of a non-ASCII character.
const fn is_identifier_start(byte: u8) -> bool {
    byte.is_ascii_alphabetic() || byte == b'_' || byte >= 0x80
}

/// PostgreSQL's `ident_cont`, which ClickHouse's word characters are a subset of.
const fn is_identifier_continue(byte: u8) -> bool {
    is_tag_continue(byte) || byte == b'$'
}

/// A dollar-quote tag continues like an identifier, but without `$`.
const fn is_tag_continue(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_' || byte >= 0x80
}

const fn is_blank_byte(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | b'\r' | b'\x0b' | b'\x0c')
}

/// Bytes that cannot start a quote, comment, word, blank or anything else the splitter acts
/// on; the main loop skips runs of them at once.
const fn is_postgres_plain(byte: u8) -> bool {
    !is_blank_byte(byte)
        && !is_identifier_start(byte)
        && !matches!(byte, b';' | b'\'' | b'"' | b'$' | b'-' | b'/' | b'(' | b')')
}

const fn is_clickhouse_plain(byte: u8) -> bool {
    !is_blank_byte(byte) && !matches!(byte, b';' | b'\'' | b'"' | b'`' | b'$' | b'-' | b'/' | b'#')
}

/// `rule` as a lookup table, for the tight loops of [`Splitter::skip_run`]. A macro because a
/// `const fn` cannot call a function pointer.
macro_rules! byte_table {
    ($rule:expr) => {{
        let mut table = [false; 256];
        let mut byte = 0;
        while byte < table.len() {
            table[byte] = $rule(byte as u8);
            byte += 1;
        }
        table
    }};
}

const BLANK: [bool; 256] = byte_table!(is_blank_byte);
const IDENTIFIER_START: [bool; 256] = byte_table!(is_identifier_start);
const IDENTIFIER_CONTINUE: [bool; 256] = byte_table!(is_identifier_continue);
const POSTGRES_PLAIN: [bool; 256] = byte_table!(is_postgres_plain);
const CLICKHOUSE_PLAIN: [bool; 256] = byte_table!(is_clickhouse_plain);

#[cfg(test)]
mod tests {
    use super::*;

    fn postgres(sql: &str) -> Vec<String> {
        split(sql, Dialect::Postgres).expect("script splits")
    }

    fn clickhouse(sql: &str) -> Vec<String> {
        split(sql, Dialect::ClickHouse).expect("script splits")
    }

    fn unterminated(sql: &str, dialect: Dialect) -> Unterminated {
        split(sql, dialect).expect_err("script has an unterminated construct")
    }

    #[test]
    fn splits_on_semicolons_and_trims() {
        assert_eq!(postgres("  SELECT 1;\n\nSELECT 2 ;\n"), ["SELECT 1", "SELECT 2"]);
        assert_eq!(clickhouse("SELECT 1;SELECT 2"), ["SELECT 1", "SELECT 2"]);
    }

    #[test]
    fn empty_and_comment_only_scripts_have_no_statement() {
        for sql in ["", "  \n\t", ";;\n;", "-- nothing\n/* at all */\n", "-- a;\n;\n/* b; */;"] {
            assert_eq!(postgres(sql), Vec::<String>::new(), "{sql:?}");
            assert_eq!(clickhouse(sql), Vec::<String>::new(), "{sql:?}");
        }
    }

    #[test]
    fn keeps_comments_before_and_inside_a_statement() {
        let sql = "-- users\nCREATE TABLE users (\n  id int -- key; not null\n);\n-- trailing note\n";
        assert_eq!(postgres(sql), ["-- users\nCREATE TABLE users (\n  id int -- key; not null\n)"]);
    }

    #[test]
    fn semicolon_inside_single_quotes_does_not_split() {
        assert_eq!(postgres("SELECT 'a;b', 'it''s;';SELECT 2"), ["SELECT 'a;b', 'it''s;'", "SELECT 2"]);
        assert_eq!(clickhouse("SELECT 'a;b', 'it''s;';SELECT 2"), ["SELECT 'a;b', 'it''s;'", "SELECT 2"]);
    }

    #[test]
    fn postgres_backslash_escapes_only_in_e_strings() {
        // In a standard string a backslash is a plain character, so `'\'` is a whole string.
        assert_eq!(postgres(r"SELECT '\';SELECT 2"), [r"SELECT '\'", "SELECT 2"]);
        assert_eq!(postgres(r"SELECT E'\';x';SELECT 2"), [r"SELECT E'\';x'", "SELECT 2"]);
        assert_eq!(postgres(r"SELECT e'\\';SELECT 2"), [r"SELECT e'\\'", "SELECT 2"]);
        // `name'...'` is an identifier followed by a standard string, not an E-string.
        assert_eq!(postgres(r"SELECT name'\';SELECT 2"), [r"SELECT name'\'", "SELECT 2"]);
    }

    #[test]
    fn clickhouse_backslash_escapes_in_every_quote() {
        assert_eq!(clickhouse(r"SELECT 'a\';b';SELECT 2"), [r"SELECT 'a\';b'", "SELECT 2"]);
        assert_eq!(clickhouse(r#"SELECT "a\";b";SELECT 2"#), [r#"SELECT "a\";b""#, "SELECT 2"]);
        assert_eq!(clickhouse(r"SELECT `a\`;b`;SELECT 2"), [r"SELECT `a\`;b`", "SELECT 2"]);
    }

    #[test]
    fn semicolon_inside_quoted_identifiers_does_not_split() {
        assert_eq!(
            postgres(r#"CREATE TABLE "a;""b" (x int);SELECT 2"#),
            [r#"CREATE TABLE "a;""b" (x int)"#, "SELECT 2"]
        );
        assert_eq!(clickhouse("CREATE TABLE `a;b` (x Int8);SELECT 2"), ["CREATE TABLE `a;b` (x Int8)", "SELECT 2"]);
    }

    #[test]
    fn backtick_is_plain_code_in_postgres() {
        assert_eq!(postgres("SELECT `a;b`"), ["SELECT `a", "b`"]);
    }

    #[test]
    fn semicolon_inside_comments_does_not_split() {
        assert_eq!(postgres("SELECT 1 -- a; b\n, 2;SELECT /* c; */ 3"), ["SELECT 1 -- a; b\n, 2", "SELECT /* c; */ 3"]);
        assert_eq!(
            clickhouse("SELECT 1 // a; b\n# c; d\n#! e; f\n;SELECT 2"),
            ["SELECT 1 // a; b\n# c; d\n#! e; f", "SELECT 2"]
        );
    }

    #[test]
    fn hash_without_space_is_code_in_clickhouse_and_postgres() {
        assert_eq!(clickhouse("SELECT 1 #x;SELECT 2"), ["SELECT 1 #x", "SELECT 2"]);
        assert_eq!(postgres("SELECT b'1' # b'0';SELECT 2 // 1"), ["SELECT b'1' # b'0'", "SELECT 2 // 1"]);
    }

    #[test]
    fn block_comments_nest() {
        let sql = "/* outer /* inner; */ still comment; */ SELECT 1;SELECT 2";
        assert_eq!(postgres(sql), ["/* outer /* inner; */ still comment; */ SELECT 1", "SELECT 2"]);
        assert_eq!(clickhouse(sql), ["/* outer /* inner; */ still comment; */ SELECT 1", "SELECT 2"]);
    }

    #[test]
    fn semicolon_inside_dollar_quotes_does_not_split() {
        let sql = "CREATE FUNCTION f() RETURNS int AS $$ BEGIN RETURN 1; END $$ LANGUAGE plpgsql;\n\
                   DO $body$ BEGIN PERFORM '$$;'; END $body$;SELECT 3";
        assert_eq!(
            postgres(sql),
            [
                "CREATE FUNCTION f() RETURNS int AS $$ BEGIN RETURN 1; END $$ LANGUAGE plpgsql",
                "DO $body$ BEGIN PERFORM '$$;'; END $body$",
                "SELECT 3",
            ]
        );
    }

    #[test]
    fn dollar_quote_closes_only_with_its_own_tag() {
        assert_eq!(postgres("SELECT $a$ $b$; $a$;SELECT 2"), ["SELECT $a$ $b$; $a$", "SELECT 2"]);
        assert_eq!(postgres("SELECT $a$x$ab$;$a$;SELECT 2"), ["SELECT $a$x$ab$;$a$", "SELECT 2"]);
    }

    #[test]
    fn parameters_and_identifier_dollars_are_not_dollar_quotes() {
        assert_eq!(
            postgres("PREPARE p AS SELECT $1;SELECT a$b$;SELECT 2"),
            ["PREPARE p AS SELECT $1", "SELECT a$b$", "SELECT 2"]
        );
        assert_eq!(postgres("SELECT $1, $2;SELECT 3"), ["SELECT $1, $2", "SELECT 3"]);
    }

    #[test]
    fn clickhouse_heredoc_hides_semicolons() {
        assert_eq!(clickhouse("SELECT $doc$a;b$doc$;SELECT 2"), ["SELECT $doc$a;b$doc$", "SELECT 2"]);
        // Without a closing delimiter the `$` is plain code, as ClickHouse's lexer treats it.
        assert_eq!(clickhouse("SELECT $x;SELECT 2"), ["SELECT $x", "SELECT 2"]);
    }

    #[test]
    fn postgres_keeps_sql_standard_routine_bodies_whole() {
        let sql = "CREATE OR REPLACE FUNCTION f(x int) RETURNS int LANGUAGE sql\n\
                   BEGIN ATOMIC\n  SELECT CASE WHEN x > 0 THEN 1 ELSE 0 END;\n  SELECT x;\nEND;\nSELECT f(1);";
        assert_eq!(
            postgres(sql),
            [
                "CREATE OR REPLACE FUNCTION f(x int) RETURNS int LANGUAGE sql\n\
                 BEGIN ATOMIC\n  SELECT CASE WHEN x > 0 THEN 1 ELSE 0 END;\n  SELECT x;\nEND",
                "SELECT f(1)",
            ]
        );
    }

    #[test]
    fn postgres_transaction_begin_still_splits() {
        assert_eq!(postgres("BEGIN;CREATE TABLE t (x int);COMMIT;"), ["BEGIN", "CREATE TABLE t (x int)", "COMMIT"]);
        assert_eq!(postgres("CREATE TABLE \"begin\" (x int);SELECT 2"), ["CREATE TABLE \"begin\" (x int)", "SELECT 2"]);
    }

    #[test]
    fn postgres_semicolon_inside_parentheses_does_not_split() {
        assert_eq!(postgres("SELECT (1;2);SELECT 3"), ["SELECT (1;2)", "SELECT 3"]);
    }

    #[test]
    fn crlf_normalised_text_splits_cleanly() {
        let normalized = crate::source::normalize(b"SELECT 1;\r\n-- c\r\nSELECT 2;\r\n").expect("utf-8");
        assert_eq!(postgres(&normalized), ["SELECT 1", "-- c\nSELECT 2"]);
    }

    #[test]
    fn non_ascii_text_survives_splitting() {
        assert_eq!(
            postgres("COMMENT ON TABLE t IS 'цена;объём';SELECT 'ё'"),
            ["COMMENT ON TABLE t IS 'цена;объём'", "SELECT 'ё'"]
        );
        assert_eq!(postgres("SELECT $тег$;$тег$;SELECT 2"), ["SELECT $тег$;$тег$", "SELECT 2"]);
    }

    #[test]
    fn unterminated_string_reports_where_it_opened() {
        let error = unterminated("SELECT 1;\nSELECT 'it's';\n", Dialect::Postgres);
        assert_eq!(error, Unterminated { construct: Construct::String, line: 2, column: 13 });
        let error = unterminated(r"SELECT 'a\'", Dialect::ClickHouse);
        assert_eq!(error, Unterminated { construct: Construct::String, line: 1, column: 8 });
    }

    #[test]
    fn unterminated_identifiers_report_their_quote() {
        assert_eq!(unterminated("SELECT \"a", Dialect::Postgres).construct, Construct::QuotedIdentifier('"'));
        assert_eq!(unterminated("SELECT `a", Dialect::ClickHouse).construct.closer(), "`");
    }

    #[test]
    fn unterminated_block_comment_reports_the_outermost_opening() {
        let error = unterminated("SELECT 1; /* a /* b */", Dialect::Postgres);
        assert_eq!(error, Unterminated { construct: Construct::BlockComment, line: 1, column: 11 });
        assert_eq!(unterminated("/*", Dialect::ClickHouse).construct, Construct::BlockComment);
    }

    #[test]
    fn unterminated_dollar_quote_names_its_delimiter() {
        let error = unterminated("DO $body$ BEGIN\nEND $bod$;", Dialect::Postgres);
        assert_eq!(
            error,
            Unterminated { construct: Construct::DollarQuoted("$body$".to_string()), line: 1, column: 4 }
        );
        assert_eq!(error.construct.closer(), "$body$");
    }

    #[test]
    fn unterminated_parenthesis_and_begin_block_are_reported() {
        let error = unterminated("SELECT 1;\nCREATE TABLE t (x int;\nSELECT 2;", Dialect::Postgres);
        assert_eq!(error, Unterminated { construct: Construct::Parenthesis, line: 2, column: 16 });
        let error = unterminated("CREATE PROCEDURE p() BEGIN ATOMIC SELECT 1;", Dialect::Postgres);
        assert_eq!((error.construct, error.column), (Construct::Begin, 22));
    }

    #[test]
    fn split_statements_gives_where_each_statement_starts() {
        let sql = "SELECT 1;\n  -- note\n  SELECT 2 ;\n/* c; */;\nSELECT 3";
        let statements = split_statements(sql, Dialect::Postgres).expect("script splits");
        let offsets: Vec<usize> = statements.iter().map(|statement| statement.offset).collect();
        assert_eq!(offsets, [0, 12, sql.len() - "SELECT 3".len()]);
        for statement in &statements {
            assert_eq!(&sql[statement.offset..statement.offset + statement.text.len()], statement.text);
        }
        assert_eq!(statements[1].text, "-- note\n  SELECT 2");
    }

    #[test]
    fn construct_display_reads_as_a_noun() {
        assert_eq!(Construct::DollarQuoted("$$".into()).to_string(), "dollar-quoted string");
        assert_eq!(Construct::Begin.to_string(), "`BEGIN` block");
    }
}
