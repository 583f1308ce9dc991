//! The tokens of one SQL statement, as the lint reads them: words, quoted names, strings and
//! punctuation, each with its parenthesis depth, plus the statement's `--` comments.
//!
//! The quoting and comment rules are those of `sql`'s splitter (see its module doc), so a
//! keyword inside a string, a quoted name, a dollar-quoted body or a comment is never taken for
//! code. The splitter only has to find `;`; this scanner has to say what each piece of code is,
//! so it is a separate, simpler loop rather than a mode of the splitter's hot path. It never
//! fails: an unclosed construct (which the splitter has already rejected) runs to the end.

use crate::model::Dialect;

/// What a token is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A keyword, a bare name or a number.
    Word,
    /// A name in `"..."`, or in ClickHouse `` `...` ``, kept with its quotes.
    QuotedName,
    /// A string literal (`'...'`, `E'...'`, `$$...$$`, a ClickHouse heredoc), kept as written.
    String,
    /// Any other single character of code: `(`, `)`, `,`, `.`, `=`, `*`, `;`, …
    Punctuation,
}

/// One token of code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token<'a> {
    pub kind: Kind,
    pub text: &'a str,
    /// Byte offset in the scanned text.
    pub offset: usize,
    /// How many parentheses enclose it; a parenthesis itself counts as outside.
    pub depth: usize,
}

impl Token<'_> {
    /// Whether this is the word `keyword` (ASCII case-insensitive).
    pub fn is(&self, keyword: &str) -> bool {
        self.kind == Kind::Word && self.text.eq_ignore_ascii_case(keyword)
    }

    pub fn is_punctuation(&self, character: char) -> bool {
        self.kind == Kind::Punctuation && self.text.len() == 1 && self.text.starts_with(character)
    }
}

/// A `--` line comment: its text from the `--` to the end of the line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Comment<'a> {
    pub text: &'a str,
    pub offset: usize,
}

/// The code tokens and `--` comments of a text, each in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tokens<'a> {
    pub code: Vec<Token<'a>>,
    pub comments: Vec<Comment<'a>>,
}

/// Scans `text` (one statement, or any piece of a script) in the given dialect.
pub fn scan(text: &str, dialect: Dialect) -> Tokens<'_> {
    let mut scanner = Scanner { text, bytes: text.as_bytes(), dialect, pos: 0, depth: 0, tokens: Tokens::default() };
    scanner.run();
    scanner.tokens
}

struct Scanner<'a> {
    text: &'a str,
    bytes: &'a [u8],
    dialect: Dialect,
    pos: usize,
    depth: usize,
    tokens: Tokens<'a>,
}

impl<'a> Scanner<'a> {
    fn run(&mut self) {
        let postgres = self.dialect == Dialect::Postgres;
        while self.pos < self.bytes.len() {
            let byte = self.bytes[self.pos];
            let next = self.bytes.get(self.pos + 1).copied().unwrap_or(0);
            match byte {
                b' ' | b'\t' | b'\n' | b'\r' | b'\x0b' | b'\x0c' => self.pos += 1,
                b'-' if next == b'-' => self.line_comment(true),
                b'/' if next == b'/' && !postgres => self.line_comment(false),
                b'#' if matches!(next, b' ' | b'!') && !postgres => self.line_comment(false),
                b'/' if next == b'*' => self.block_comment(),
                b'\'' => self.quoted(Kind::String, b'\'', !postgres),
                b'"' => self.quoted(Kind::QuotedName, b'"', !postgres),
                b'`' if !postgres => self.quoted(Kind::QuotedName, b'`', true),
                b'$' => self.dollar(),
                b'(' => {
                    self.punctuation();
                    self.depth += 1;
                }
                b')' => {
                    self.depth = self.depth.saturating_sub(1);
                    self.punctuation();
                }
                _ if is_word_start(byte) => self.word(),
                _ => self.punctuation(),
            }
        }
    }

    fn push(&mut self, kind: Kind, start: usize) {
        let token = Token { kind, text: &self.text[start..self.pos], offset: start, depth: self.depth };
        self.tokens.code.push(token);
    }

    fn punctuation(&mut self) {
        let start = self.pos;
        self.pos += 1;
        self.push(Kind::Punctuation, start);
    }

    fn line_comment(&mut self, keep: bool) {
        let start = self.pos;
        let end = self.text[start..].find('\n').map_or(self.text.len(), |length| start + length);
        self.pos = end;
        if keep {
            self.tokens.comments.push(Comment { text: &self.text[start..end], offset: start });
        }
    }

    /// Both targets nest block comments.
    fn block_comment(&mut self) {
        let mut depth = 0usize;
        while self.pos + 1 < self.bytes.len() {
            match (self.bytes[self.pos], self.bytes[self.pos + 1]) {
                (b'/', b'*') => {
                    depth += 1;
                    self.pos += 2;
                }
                (b'*', b'/') => {
                    depth -= 1;
                    self.pos += 2;
                    if depth == 0 {
                        return;
                    }
                }
                _ => self.pos += 1,
            }
        }
        self.pos = self.bytes.len();
    }

    /// A quoted string or name from the quote at `pos`: a doubled quote stands for itself, and
    /// with `backslash_escapes` a backslash escapes the next byte.
    fn quoted(&mut self, kind: Kind, quote: u8, backslash_escapes: bool) {
        let start = self.pos;
        self.pos = quoted_end(self.bytes, start, quote, backslash_escapes);
        self.push(kind, start);
    }

    /// A word, or in PostgreSQL the `E` of an escape string `E'...'`, whose string then follows.
    fn word(&mut self) {
        let start = self.pos;
        while self.pos < self.bytes.len() && is_word_continue(self.bytes[self.pos]) {
            self.pos += 1;
        }
        let escape_string = self.dialect == Dialect::Postgres
            && self.pos - start == 1
            && matches!(self.bytes[start], b'E' | b'e')
            && self.bytes.get(self.pos) == Some(&b'\'');
        if escape_string {
            self.pos = quoted_end(self.bytes, self.pos, b'\'', true);
            self.push(Kind::String, start);
        } else {
            self.push(Kind::Word, start);
        }
    }

    /// PostgreSQL `$tag$...$tag$` or ClickHouse `$name$...$name$`, found as the splitter finds
    /// them; any other `$` (a `$1` parameter) is punctuation.
    fn dollar(&mut self) {
        let start = self.pos;
        let delimiter_end = match self.dialect {
            Dialect::Postgres => {
                let tag_length = self.bytes[start + 1..].iter().take_while(|&&byte| is_tag_continue(byte)).count();
                let starts_well = self.bytes.get(start + 1).is_some_and(|&byte| byte == b'$' || !byte.is_ascii_digit());
                let end = start + 1 + tag_length;
                (starts_well && self.bytes.get(end) == Some(&b'$')).then_some(end + 1)
            }
            Dialect::ClickHouse => self.text[start + 1..].find('$').map(|offset| start + offset + 2),
        };
        let body_end = delimiter_end.and_then(|delimiter_end| {
            let delimiter = &self.text[start..delimiter_end];
            self.text[delimiter_end..].find(delimiter).map(|offset| delimiter_end + offset + delimiter.len())
        });
        match body_end {
            Some(end) => {
                self.pos = end;
                self.push(Kind::String, start);
            }
            None if self.dialect == Dialect::Postgres && delimiter_end.is_some() => {
                // An unclosed dollar quote runs to the end, as an unclosed string does.
                self.pos = self.bytes.len();
                self.push(Kind::String, start);
            }
            None => self.punctuation(),
        }
    }
}

/// The offset just past the closing quote of the quoted text opening at `start`, or the end.
fn quoted_end(bytes: &[u8], start: usize, quote: u8, backslash_escapes: bool) -> usize {
    let mut index = start + 1;
    while index < bytes.len() {
        let byte = bytes[index];
        if backslash_escapes && byte == b'\\' {
            index += 2;
        } else if byte != quote {
            index += 1;
        } else if bytes.get(index + 1) == Some(&quote) {
            index += 2;
        } else {
            return index + 1;
        }
    }
    bytes.len()
}

/// Letters, `_`, digits (numbers are words too) and any byte of a non-ASCII character.
fn is_word_start(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_' || byte >= 0x80
}

/// PostgreSQL's `ident_cont`: a `$` continues a word (`a$b`).
fn is_word_continue(byte: u8) -> bool {
    is_tag_continue(byte) || byte == b'$'
}

fn is_tag_continue(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_' || byte >= 0x80
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str, dialect: Dialect) -> Vec<(Kind, &str, usize)> {
        scan(text, dialect).code.into_iter().map(|token| (token.kind, token.text, token.depth)).collect()
    }

    #[test]
    fn scan_gives_words_punctuation_and_depth() {
        assert_eq!(
            words("DROP TABLE a.b(x, 1);", Dialect::Postgres),
            [
                (Kind::Word, "DROP", 0),
                (Kind::Word, "TABLE", 0),
                (Kind::Word, "a", 0),
                (Kind::Punctuation, ".", 0),
                (Kind::Word, "b", 0),
                (Kind::Punctuation, "(", 0),
                (Kind::Word, "x", 1),
                (Kind::Punctuation, ",", 1),
                (Kind::Word, "1", 1),
                (Kind::Punctuation, ")", 0),
                (Kind::Punctuation, ";", 0),
            ]
        );
    }

    #[test]
    fn strings_names_and_comments_hide_keywords() {
        let sql = "SELECT 'drop table x', \"drop\", $$ DROP $$, E'\\' drop', /* drop /* nested */ drop */ 1 -- drop\n";
        let kinds: Vec<Kind> = scan(sql, Dialect::Postgres).code.iter().map(|token| token.kind).collect();
        assert!(!scan(sql, Dialect::Postgres).code.iter().any(|token| token.is("drop")), "{kinds:?}");
        let comments = scan(sql, Dialect::Postgres).comments;
        assert_eq!(comments, [Comment { text: "-- drop", offset: sql.len() - "-- drop\n".len() }]);
    }

    #[test]
    fn clickhouse_quotes_and_comments_hide_keywords() {
        let sql = "SELECT `drop`, 'it\\'s drop', $doc$ drop $doc$ // drop\n# drop\n#! drop\n";
        let tokens = scan(sql, Dialect::ClickHouse);
        assert!(!tokens.code.iter().any(|token| token.is("drop")), "{:?}", tokens.code);
        assert!(tokens.comments.is_empty(), "only `--` comments are kept");
    }

    #[test]
    fn dollar_parameters_are_punctuation() {
        assert_eq!(
            words("SELECT $1, a$b", Dialect::Postgres),
            [
                (Kind::Word, "SELECT", 0),
                (Kind::Punctuation, "$", 0),
                (Kind::Word, "1", 0),
                (Kind::Punctuation, ",", 0),
                (Kind::Word, "a$b", 0),
            ]
        );
    }

    #[test]
    fn unclosed_constructs_run_to_the_end() {
        for (sql, dialect) in [
            ("SELECT 'drop", Dialect::Postgres),
            ("SELECT \"drop", Dialect::ClickHouse),
            ("SELECT $x$ drop", Dialect::Postgres),
            ("SELECT /* drop", Dialect::ClickHouse),
            ("SELECT E'\\", Dialect::Postgres),
        ] {
            assert!(!scan(sql, dialect).code.iter().any(|token| token.is("drop")), "{sql}");
        }
    }
}
