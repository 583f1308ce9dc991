//! What a statement leaves in the server's catalog, so that a statement whose outcome was never
//! recorded can be settled by looking: a `CREATE TABLE x` ran if `x` exists, a `DROP COLUMN c` ran
//! if `c` is gone. Only single-effect DDL is read; anything else (an `INSERT`, an `ALTER` with
//! several actions, a `CREATE … AS SELECT` whose data may be half copied) cannot be told from the
//! catalog and is [`Unreadable`].
//!
//! The reading is by tokens, not a full parser: comments and string literals are skipped,
//! identifiers may be quoted (`"x"`, `` `x` ``), and an `ON CLUSTER name` clause is passed over.

/// An object whose presence in the catalog shows whether the statement ran.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Object {
    /// A table, view or materialized view; `schema` is the database (ClickHouse) or schema
    /// (PostgreSQL) when the statement names one.
    Relation {
        schema: Option<String>,
        name: String,
    },
    Column {
        schema: Option<String>,
        table: String,
        column: String,
    },
    Database {
        name: String,
    },
    /// A PostgreSQL index; it counts as present only when valid (`pg_index.indisvalid`): an
    /// interrupted `CREATE INDEX CONCURRENTLY` leaves an invalid one behind.
    Index {
        schema: Option<String>,
        name: String,
    },
}

/// The statement's effect: `object` is present after it ran (`present`), or absent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Effect {
    pub object: Object,
    pub present: bool,
}

/// What the catalog shows about an [`Effect`]'s object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seen {
    Present,
    Absent,
    /// (PostgreSQL indexes) present but invalid: neither ran nor cleanly not run.
    Invalid,
}

/// The statement's outcome, as the catalog settles it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Settled {
    Ran,
    NotRun,
}

/// Why a statement's outcome cannot be read from the catalog.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Unreadable {
    #[error("its effect cannot be read from the server's catalog (only CREATE/DROP of a table, view, database or index and a single ADD/DROP COLUMN can)")]
    NotDdl,
    #[error("it also copies data (`AS SELECT`/`POPULATE`), which the catalog cannot show as complete")]
    CopiesData,
    #[error("`{0}` exists but is invalid (an interrupted `CREATE INDEX CONCURRENTLY`): drop it (`DROP INDEX CONCURRENTLY {0}`), then run migrate again, which runs the statement again")]
    InvalidIndex(String),
}

/// The decision: the statement ran when the catalog shows its effect. A statement without effect
/// (`None` from [`effect_of`]) counts as not run: running it again changes nothing.
pub fn settle(effect: &Effect, seen: Seen) -> Result<Settled, Unreadable> {
    match (seen, effect.present) {
        (Seen::Invalid, _) => Err(Unreadable::InvalidIndex(object_name(&effect.object))),
        (Seen::Present, true) | (Seen::Absent, false) => Ok(Settled::Ran),
        (Seen::Present, false) | (Seen::Absent, true) => Ok(Settled::NotRun),
    }
}

fn object_name(object: &Object) -> String {
    match object {
        Object::Relation { schema, name } | Object::Index { schema, name } => match schema {
            Some(schema) => format!("{schema}.{name}"),
            None => name.clone(),
        },
        Object::Column { table, column, .. } => format!("{table}.{column}"),
        Object::Database { name } => name.clone(),
    }
}

/// Which server runs the statement: their names and their `SELECT`s differ.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Server {
    /// Folds bare identifiers to lower case; a `SELECT` may call a function that writes.
    Postgres,
    /// Keeps identifiers as written; a `SELECT` only reads.
    ClickHouse,
}

/// The effect of `sql`, one statement as the build split it; `None` for a statement that changes
/// nothing (a ClickHouse `SELECT`), which may simply run again.
pub fn effect_of(sql: &str, server: Server) -> Result<Option<Effect>, Unreadable> {
    let tokens = tokens(sql);
    let mut words = Words { tokens: &tokens, at: 0, fold: server == Server::Postgres };
    if server == Server::ClickHouse && ["SELECT", "SHOW", "DESCRIBE", "EXISTS"].iter().any(|word| words.eat(word)) {
        return Ok(None);
    }
    let effect = if words.eat("CREATE") {
        words.eat_all(&["OR", "REPLACE"]);
        words.eat("TEMPORARY");
        words.eat("UNIQUE");
        if words.eat("DATABASE") {
            words.eat_all(&["IF", "NOT", "EXISTS"]);
            Effect { object: Object::Database { name: words.ident()? }, present: true }
        } else if words.eat("INDEX") {
            words.eat("CONCURRENTLY");
            words.eat_all(&["IF", "NOT", "EXISTS"]);
            let (schema, name) = words.qualified()?;
            Effect { object: Object::Index { schema, name }, present: true }
        } else {
            let materialized = words.eat("MATERIALIZED");
            let table = words.eat("TABLE");
            if !(table || words.eat("VIEW")) {
                return Err(Unreadable::NotDdl);
            }
            words.eat_all(&["IF", "NOT", "EXISTS"]);
            let (schema, name) = words.qualified()?;
            // A view's SELECT is its definition; a table's `AS SELECT` and a materialized view's
            // `POPULATE` copy rows.
            if (table && words.rest_has_sequence(&["AS", "SELECT"])) || (materialized && words.rest_has("POPULATE")) {
                return Err(Unreadable::CopiesData);
            }
            Effect { object: Object::Relation { schema, name }, present: true }
        }
    } else if words.eat("DROP") {
        if words.eat("DATABASE") {
            words.eat_all(&["IF", "EXISTS"]);
            Effect { object: Object::Database { name: words.ident()? }, present: false }
        } else if words.eat("INDEX") {
            words.eat("CONCURRENTLY");
            words.eat_all(&["IF", "EXISTS"]);
            let (schema, name) = words.qualified()?;
            Effect { object: Object::Index { schema, name }, present: false }
        } else {
            words.eat("MATERIALIZED");
            if !(words.eat("TABLE") || words.eat("VIEW")) {
                return Err(Unreadable::NotDdl);
            }
            words.eat_all(&["IF", "EXISTS"]);
            let (schema, name) = words.qualified()?;
            Effect { object: Object::Relation { schema, name }, present: false }
        }
    } else if words.eat_all(&["ALTER", "TABLE"]) {
        words.eat_all(&["IF", "EXISTS"]);
        words.eat("ONLY");
        let (schema, table) = words.qualified()?;
        words.skip_on_cluster();
        let present = if words.eat("ADD") {
            true
        } else if words.eat("DROP") {
            false
        } else {
            return Err(Unreadable::NotDdl);
        };
        if !words.eat("COLUMN") {
            // `ADD CONSTRAINT`, `DROP INDEX`…, or PostgreSQL's `ADD c type` without COLUMN, which
            // is read as not settleable rather than guessed.
            return Err(Unreadable::NotDdl);
        }
        if present {
            words.eat_all(&["IF", "NOT", "EXISTS"]);
        } else {
            words.eat_all(&["IF", "EXISTS"]);
        }
        let column = words.ident()?;
        if words.has_top_level_comma() {
            return Err(Unreadable::NotDdl);
        }
        Effect { object: Object::Column { schema, table, column }, present }
    } else {
        return Err(Unreadable::NotDdl);
    };
    Ok(Some(effect))
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Token {
    /// A bare word, kept as written.
    Word(String),
    /// A quoted identifier, unquoted.
    Quoted(String),
    /// A string literal (its text does not matter here).
    Literal,
    Punct(char),
}

impl Token {
    fn is(&self, keyword: &str) -> bool {
        matches!(self, Token::Word(word) if word.eq_ignore_ascii_case(keyword))
    }
}

fn tokens(sql: &str) -> Vec<Token> {
    let chars: Vec<char> = sql.chars().collect();
    let mut tokens = Vec::new();
    let mut at = 0;
    while at < chars.len() {
        let c = chars[at];
        let next = chars.get(at + 1).copied();
        if c.is_whitespace() {
            at += 1;
        } else if c == '-' && next == Some('-') {
            while at < chars.len() && chars[at] != '\n' {
                at += 1;
            }
        } else if c == '/' && next == Some('*') {
            at += 2;
            while at < chars.len() && !(chars[at] == '*' && chars.get(at + 1) == Some(&'/')) {
                at += 1;
            }
            at += 2;
        } else if c == '"' || c == '`' || c == '\'' {
            let mut text = String::new();
            at += 1;
            while at < chars.len() {
                if chars[at] == '\\' && c != '"' {
                    at += 1;
                    if let Some(escaped) = chars.get(at) {
                        text.push(*escaped);
                    }
                } else if chars[at] == c {
                    if chars.get(at + 1) == Some(&c) {
                        text.push(c);
                        at += 1;
                    } else {
                        break;
                    }
                } else {
                    text.push(chars[at]);
                }
                at += 1;
            }
            at += 1;
            tokens.push(if c == '\'' { Token::Literal } else { Token::Quoted(text) });
        } else if c.is_alphanumeric() || c == '_' || c == '$' {
            let start = at;
            while at < chars.len() && (chars[at].is_alphanumeric() || chars[at] == '_' || chars[at] == '$') {
                at += 1;
            }
            tokens.push(Token::Word(chars[start..at].iter().collect()));
        } else {
            tokens.push(Token::Punct(c));
            at += 1;
        }
    }
    tokens
}

struct Words<'a> {
    tokens: &'a [Token],
    at: usize,
    fold: bool,
}

impl Words<'_> {
    fn eat(&mut self, keyword: &str) -> bool {
        let found = self.tokens.get(self.at).is_some_and(|token| token.is(keyword));
        if found {
            self.at += 1;
        }
        found
    }

    /// Eats the keywords only if all of them come next.
    fn eat_all(&mut self, keywords: &[&str]) -> bool {
        let found = keywords
            .iter()
            .enumerate()
            .all(|(offset, keyword)| self.tokens.get(self.at + offset).is_some_and(|token| token.is(keyword)));
        if found {
            self.at += keywords.len();
        }
        found
    }

    /// A bare identifier is folded to lower case where the server folds it (PostgreSQL) and
    /// kept as written where it does not (ClickHouse); a quoted one is kept.
    fn ident(&mut self) -> Result<String, Unreadable> {
        let name = match self.tokens.get(self.at) {
            Some(Token::Word(word)) if self.fold => word.to_lowercase(),
            Some(Token::Word(word)) => word.clone(),
            Some(Token::Quoted(name)) => name.clone(),
            _ => return Err(Unreadable::NotDdl),
        };
        self.at += 1;
        Ok(name)
    }

    /// `name` or `schema.name`.
    fn qualified(&mut self) -> Result<(Option<String>, String), Unreadable> {
        let first = self.ident()?;
        if self.tokens.get(self.at) == Some(&Token::Punct('.')) {
            self.at += 1;
            let second = self.ident()?;
            Ok((Some(first), second))
        } else {
            Ok((None, first))
        }
    }

    fn skip_on_cluster(&mut self) {
        if self.eat_all(&["ON", "CLUSTER"]) {
            self.at += 1;
        }
    }

    fn rest_has(&self, keyword: &str) -> bool {
        self.tokens[self.at..].iter().any(|token| token.is(keyword))
    }

    fn rest_has_sequence(&self, keywords: &[&str]) -> bool {
        self.tokens[self.at..]
            .windows(keywords.len())
            .any(|window| window.iter().zip(keywords).all(|(token, keyword)| token.is(keyword)))
    }

    fn has_top_level_comma(&self) -> bool {
        let mut depth = 0i32;
        for token in &self.tokens[self.at..] {
            match token {
                Token::Punct('(') => depth += 1,
                Token::Punct(')') => depth -= 1,
                Token::Punct(',') if depth == 0 => return true,
                _ => {}
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(sql: &str) -> Result<Option<Effect>, Unreadable> {
        effect_of(sql, Server::ClickHouse)
    }

    fn relation(name: &str, present: bool) -> Result<Option<Effect>, Unreadable> {
        Ok(Some(Effect { object: Object::Relation { schema: None, name: name.to_owned() }, present }))
    }

    fn column(column: &str, present: bool) -> Result<Option<Effect>, Unreadable> {
        let object = Object::Column { schema: None, table: "trades".to_owned(), column: column.to_owned() };
        Ok(Some(Effect { object, present }))
    }

    #[test]
    fn table_view_and_database_statements_are_read() {
        assert_eq!(
            read("-- a table\nCREATE TABLE IF NOT EXISTS trades (x UInt8) ENGINE = Memory"),
            relation("trades", true)
        );
        assert_eq!(read("create materialized view `daily` to totals as select 1"), relation("daily", true));
        assert_eq!(read("CREATE VIEW v AS SELECT * FROM t"), relation("v", true));
        assert_eq!(read("DROP TABLE IF EXISTS trades"), relation("trades", false));
        let qualified = Object::Relation { schema: Some("analytics".to_owned()), name: "trades".to_owned() };
        assert_eq!(read("DROP TABLE analytics.trades"), Ok(Some(Effect { object: qualified, present: false })));
        let database = Object::Database { name: "scratch".to_owned() };
        assert_eq!(read("CREATE DATABASE IF NOT EXISTS scratch"), Ok(Some(Effect { object: database, present: true })));
    }

    #[test]
    fn postgres_names_fold_to_lower_case_unless_quoted() {
        let read = |sql| effect_of(sql, Server::Postgres);
        assert_eq!(read("CREATE TABLE Orders (x int)"), relation("orders", true));
        assert_eq!(read("CREATE TABLE \"Orders\" (x int)"), relation("Orders", true));
        assert_eq!(read("SELECT setval('s', 1)"), Err(Unreadable::NotDdl), "a PostgreSQL SELECT may write");
        assert_eq!(effect_of("SELECT sleep(2)", Server::ClickHouse), Ok(None), "a ClickHouse SELECT only reads");
    }

    #[test]
    fn one_column_change_is_read_but_several_are_not() {
        assert_eq!(
            read("ALTER TABLE trades ADD COLUMN fee Decimal(10, 2) DEFAULT toDecimal32(0, 2)"),
            column("fee", true)
        );
        assert_eq!(read("ALTER TABLE trades ON CLUSTER c DROP COLUMN IF EXISTS fee"), column("fee", false));
        assert_eq!(read("ALTER TABLE trades ADD COLUMN a UInt8, ADD COLUMN b UInt8"), Err(Unreadable::NotDdl));
        assert_eq!(read("ALTER TABLE trades ADD CONSTRAINT c CHECK (x > 0)"), Err(Unreadable::NotDdl));
    }

    #[test]
    fn indexes_are_read_and_an_invalid_one_is_not_settled() {
        let effect =
            effect_of("CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_by_day ON orders (day)", Server::Postgres)
                .expect("read")
                .expect("an effect");
        assert_eq!(effect.object, Object::Index { schema: None, name: "orders_by_day".to_owned() });
        assert_eq!(settle(&effect, Seen::Present), Ok(Settled::Ran));
        assert_eq!(settle(&effect, Seen::Absent), Ok(Settled::NotRun));
        assert!(
            matches!(settle(&effect, Seen::Invalid), Err(Unreadable::InvalidIndex(name)) if name == "orders_by_day")
        );
    }

    #[test]
    fn data_changes_and_copies_are_not_settled() {
        assert_eq!(read("INSERT INTO trades VALUES (1)"), Err(Unreadable::NotDdl));
        assert_eq!(read("ALTER TABLE t UPDATE x = 1 WHERE 1"), Err(Unreadable::NotDdl));
        assert_eq!(read("CREATE TABLE b ENGINE = Memory AS SELECT * FROM a"), Err(Unreadable::CopiesData));
        assert_eq!(
            read("CREATE MATERIALIZED VIEW m ENGINE = Memory POPULATE AS SELECT 1"),
            Err(Unreadable::CopiesData)
        );
        assert_eq!(read("INSERT INTO t SELECT 'CREATE TABLE x'"), Err(Unreadable::NotDdl));
    }

    #[test]
    fn a_drop_ran_when_the_object_is_gone() {
        let drop = Effect { object: Object::Relation { schema: None, name: "t".to_owned() }, present: false };
        assert_eq!(settle(&drop, Seen::Absent), Ok(Settled::Ran));
        assert_eq!(settle(&drop, Seen::Present), Ok(Settled::NotRun));
    }
}
