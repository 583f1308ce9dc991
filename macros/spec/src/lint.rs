//! The destructive-change lint: upgrade statements that lose data, or rename what running code
//! still uses, become build warnings, so that a reviewer sees them before they reach a server.
//! Nothing here rejects a plan; build.rs prints each [`Warning`] as a `cargo:warning`.
//!
//! An upgrade statement gets a warning when it (PostgreSQL and ClickHouse alike unless said):
//! - drops a table, a schema or a database (`DROP TABLE`, `DROP SCHEMA`, `DROP DATABASE`;
//!   `IF EXISTS` changes nothing); a temporary table is exempt;
//! - in ClickHouse drops a view (`DROP VIEW`): it may be a materialized view that holds data in
//!   its inner table, or that feeds a table, which then misses every row inserted until the view
//!   is back. A plain view that an earlier upgrade of the plan created (`CREATE VIEW`, not
//!   `MATERIALIZED`) holds nothing, so dropping it is not a warning. A PostgreSQL view or
//!   materialized view holds nothing that its query cannot rebuild, so dropping one is not a
//!   warning either;
//! - in ClickHouse swaps two tables (`EXCHANGE TABLES a AND b`): every query of either name
//!   reads the other's data from then on;
//! - in ClickHouse changes a table's TTL (`ALTER TABLE ... MODIFY TTL`) to a shorter interval
//!   than the one the plan gave it (in its `CREATE TABLE` or last `MODIFY TTL`), or when the plan
//!   does not know the previous one: rows older than the new TTL are deleted at the next merge.
//!   A TTL made longer is not a warning;
//! - in PostgreSQL drops anything else with `CASCADE` (`DROP TYPE mood CASCADE` drops the
//!   columns of that type, `DROP EXTENSION ... CASCADE` those of its types);
//! - drops a column (`ALTER TABLE ... DROP [COLUMN]`), or in ClickHouse clears one
//!   (`CLEAR COLUMN`) or drops a partition or part (`DROP [DETACHED] PARTITION|PART`). Dropping a
//!   constraint, an index or a projection keeps the data and is not a warning;
//! - renames a table or a column (`ALTER TABLE ... RENAME`, ClickHouse `RENAME TABLE|DATABASE`):
//!   no data is lost, but every query still using the old name fails from then on;
//! - empties a table (`TRUNCATE`);
//! - deletes every row: `DELETE FROM` without `WHERE`, or with a `WHERE` that is always true
//!   (`1`, `true`, `1 = 1`), also inside a PostgreSQL `WITH`, and ClickHouse's
//!   `ALTER TABLE ... DELETE WHERE 1`.
//!
//! `ON DELETE CASCADE`, `GRANT DELETE` and trigger events are not statements, so they are not
//! warnings; neither is anything inside a string, a comment or a dollar-quoted body (the body of
//! a `DO` block or function is not inspected), nor the statements of a `CREATE` (a rule or a
//! SQL-standard function body runs later, not during the migration).
//!
//! Downgrades are exempt: undoing an upgrade is what drops things.
//!
//! A statement that is meant to be destructive says so, and why, with a line comment before it,
//! inside it, or after it on the line of its `;`:
//!
//! ```sql
//! -- migrator:allow-destructive the data moved to accounts in V0012
//! DROP TABLE legacy_accounts;
//! ALTER TABLE users DROP COLUMN nickname; -- migrator:allow-destructive unused since 2023
//! ```
//!
//! The reason is required, because the comment is the record a reviewer reads: an opt-out
//! without one does not count, and the warning then says that the reason is missing. It stays a
//! warning rather than an error so that a comment can never block a deploy. A misspelt
//! directive on a line of its own is an error of `migrations` (`check_directives`).

pub(crate) mod tokens;

use std::collections::{HashMap, HashSet};
use std::fmt;

use crate::diag::Location;
use crate::model::{Dialect, Plan, Script};
use crate::source::line_column;
use tokens::{Kind, Token, Tokens};

/// The comment that marks a destructive statement as intended; the reason follows it.
pub const ALLOW_DESTRUCTIVE: &str = "-- migrator:allow-destructive";

/// The longest statement excerpt a warning quotes, in characters.
const EXCERPT_LENGTH: usize = 80;

/// One destructive upgrade statement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning {
    /// The keyword that makes the statement destructive (`DROP`, `TRUNCATE`, `DELETE`, ...).
    pub at: Location,
    pub change: Change,
    /// The statement's first line of code, shortened to [`EXCERPT_LENGTH`] characters.
    pub statement: String,
    /// The line of an [`ALLOW_DESTRUCTIVE`] comment on the statement that gives no reason.
    pub opt_out_without_reason: Option<u32>,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: this upgrade {} (`{}`); ", self.at, self.change, self.statement)?;
        match self.opt_out_without_reason {
            None => write!(f, "if that is intended, add `{ALLOW_DESTRUCTIVE} <reason>` to the statement"),
            Some(line) => {
                write!(f, "the `{ALLOW_DESTRUCTIVE}` on line {line} gives no reason; write it after the directive")
            }
        }
    }
}

/// What a destructive statement does; names are as written in the statement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    DropTable { table: String },
    DropView { view: String },
    ExchangeTables { first: String, second: String },
    ShortenTtl { table: String, ttl: String },
    DropSchema { schema: String },
    DropDatabase { database: String },
    DropCascade,
    DropColumn { table: String, column: String },
    ClearColumn { table: String, column: String },
    DropPartition { table: String },
    RenameTable { from: String, to: String },
    RenameDatabase { from: String, to: String },
    RenameColumn { table: String, from: String, to: String },
    Truncate { table: String },
    TruncateDatabase { database: String },
    DeleteAll { table: String },
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const BREAKS: &str = "which breaks every query still using the old name";
        match self {
            Change::DropTable { table } => write!(f, "drops table `{table}` and its data"),
            Change::DropView { view } => write!(
                f,
                "drops view `{view}`; a ClickHouse materialized view may hold data, or feed a table that then misses rows"
            ),
            Change::ExchangeTables { first, second } => write!(
                f,
                "swaps tables `{first}` and `{second}`, so every query of either name reads the other's data from then on"
            ),
            Change::ShortenTtl { table, ttl } => write!(
                f,
                "sets the TTL of `{table}` to `{ttl}`, shorter than the plan gave it or not known to it; rows older \
                 than that are deleted at the next merge"
            ),
            Change::DropSchema { schema } => write!(f, "drops schema `{schema}`"),
            Change::DropDatabase { database } => write!(f, "drops database `{database}` and every table in it"),
            Change::DropCascade => {
                f.write_str("drops with `CASCADE`, which also drops what depends on it, such as columns of a dropped type")
            }
            Change::DropColumn { table, column } => write!(f, "drops column `{column}` of `{table}` and its data"),
            Change::ClearColumn { table, column } => {
                write!(f, "clears column `{column}` of `{table}`, resetting every value to its default")
            }
            Change::DropPartition { table } => write!(f, "drops a partition of `{table}` and its data"),
            Change::RenameTable { from, to } => write!(f, "renames table `{from}` to `{to}`, {BREAKS}"),
            Change::RenameDatabase { from, to } => write!(f, "renames database `{from}` to `{to}`, {BREAKS}"),
            Change::RenameColumn { table, from, to } => {
                write!(f, "renames column `{from}` of `{table}` to `{to}`, {BREAKS}")
            }
            Change::Truncate { table } => write!(f, "empties table `{table}`"),
            Change::TruncateDatabase { database } => write!(f, "empties every table of database `{database}`"),
            Change::DeleteAll { table } => write!(f, "deletes every row of `{table}`"),
        }
    }
}

/// Every destructive statement of the plan's upgrades, PostgreSQL first, in plan order.
pub fn check(plan: &Plan) -> Vec<Warning> {
    let postgres = plan.postgres.iter().map(|migration| (&migration.upgrade, Dialect::Postgres));
    let clickhouse = plan.clickhouse.iter().map(|migration| (&migration.upgrade, Dialect::ClickHouse));
    let mut created = Created::default();
    postgres.chain(clickhouse).flat_map(|(script, dialect)| check_script_in(script, dialect, &mut created)).collect()
}

/// Every destructive statement of one script that is not opted out.
pub fn check_script(script: &Script, dialect: Dialect) -> Vec<Warning> {
    check_script_in(script, dialect, &mut Created::default())
}

/// [`check_script`], knowing what the plan's earlier ClickHouse upgrades `created`, and
/// learning what this script creates.
fn check_script_in(script: &Script, dialect: Dialect, created: &mut Created) -> Vec<Warning> {
    let mut warnings = Vec::new();
    for (index, (statement, &offset)) in script.statements.iter().zip(&script.statement_offsets).enumerate() {
        let tokens = tokens::scan(statement, dialect);
        let changes = changes(&tokens.code, dialect, created);
        if dialect == Dialect::ClickHouse {
            created.learn(&tokens.code);
        }
        if changes.is_empty() {
            continue;
        }
        let opt_out = match find_opt_out(script, index, &tokens, dialect) {
            OptOut::WithReason => continue,
            OptOut::WithoutReason { line } => Some(line),
            OptOut::None => None,
        };
        let excerpt = excerpt(statement, &tokens);
        for (at, change) in changes {
            let (line, column) = line_column(&script.sql, offset + at);
            warnings.push(Warning {
                at: Location::at(script.path.as_str(), line, column),
                change,
                statement: excerpt.clone(),
                opt_out_without_reason: opt_out,
            });
        }
    }
    warnings
}

/// The reason of an [`ALLOW_DESTRUCTIVE`] comment (`--` to the end of the line), trimmed and
/// possibly empty; `None` when the comment is not that directive.
pub fn opt_out_reason(comment: &str) -> Option<&str> {
    let rest = comment.strip_prefix(ALLOW_DESTRUCTIVE)?;
    (rest.is_empty() || rest.starts_with([' ', '\t'])).then(|| rest.trim_matches([' ', '\t']))
}

/// Whether a statement is opted out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum OptOut {
    WithReason,
    /// The first reason-less directive's line.
    WithoutReason {
        line: u32,
    },
    None,
}

/// The statement's own `--` comments count, except one on the line where the previous
/// statement ends (it trails that one), and so does a comment trailing this statement. A
/// trailing comment sits in the next statement's text, or after the last statement in none,
/// which is why this looks at the script and not only at the statement.
fn find_opt_out(script: &Script, index: usize, tokens: &Tokens, dialect: Dialect) -> OptOut {
    let offset = script.statement_offsets[index];
    let previous_trailing = index.checked_sub(1).and_then(|previous| trailing_comment(script, previous, dialect));
    let own = tokens
        .comments
        .iter()
        .map(|comment| (offset + comment.offset, comment.text))
        .filter(|(at, _)| Some(*at) != previous_trailing.map(|(trailing_at, _)| trailing_at));
    let trailing = trailing_comment(script, index, dialect);
    let mut result = OptOut::None;
    for (at, text) in own.chain(trailing) {
        match opt_out_reason(text) {
            Some("") if result == OptOut::None => {
                result = OptOut::WithoutReason { line: line_column(&script.sql, at).0 };
            }
            Some("") | None => {}
            Some(_) => return OptOut::WithReason,
        }
    }
    result
}

/// The `--` comment after statement `index` on the line of its end, before any other code:
/// its offset in the script and its text.
fn trailing_comment(script: &Script, index: usize, dialect: Dialect) -> Option<(usize, &str)> {
    let end = script.statement_offsets[index] + script.statements[index].len();
    let rest = script.sql.get(end..)?;
    let line = &rest[..rest.find('\n').unwrap_or(rest.len())];
    let tokens = tokens::scan(line, dialect);
    let first_code =
        tokens.code.iter().find(|token| !token.is_punctuation(';')).map_or(line.len(), |token| token.offset);
    tokens
        .comments
        .first()
        .filter(|comment| comment.offset < first_code)
        .map(|comment| (end + comment.offset, comment.text))
}

/// The statement from its first code token to the end of that line, shortened.
fn excerpt(statement: &str, tokens: &Tokens) -> String {
    let start = tokens.code.first().map_or(0, |token| token.offset);
    let line = statement[start..].split('\n').next().unwrap_or_default().trim_end();
    let mut excerpt: String = line.chars().take(EXCERPT_LENGTH).collect();
    if excerpt.len() < line.len() {
        excerpt.push('…');
    }
    excerpt
}

/// What a statement destroys, each with the byte offset (in the statement) of its keyword.
fn changes(code: &[Token], dialect: Dialect, created: &Created) -> Vec<(usize, Change)> {
    let Some(first) = code.first() else {
        return Vec::new();
    };
    if first.is("create") {
        // A rule, trigger or function body holds statements that do not run now.
        return Vec::new();
    }
    let mut changes = if first.is("drop") {
        let mut changes = drop_statement(code, dialect);
        changes.retain(|(_, change)| !matches!(change, Change::DropView { view } if created.plain_views.contains(&plain_name(view))));
        changes
    } else if first.is("alter") && code.get(1).is_some_and(|token| token.is("table")) {
        alter_table(code, dialect, created)
    } else if first.is("exchange") && dialect == Dialect::ClickHouse {
        exchange_tables(code)
    } else if first.is("truncate") {
        truncate(code)
    } else if first.is("rename") && dialect == Dialect::ClickHouse {
        rename_statement(code)
    } else {
        Vec::new()
    };
    changes.extend(deletes_of_every_row(code));
    changes
}

/// `DROP [TEMPORARY] kind [IF EXISTS] name, ...`.
fn drop_statement(code: &[Token], dialect: Dialect) -> Vec<(usize, Change)> {
    let at = code[0].offset;
    let mut cursor = Cursor { code, index: 1 };
    if cursor.eat("temporary") {
        return Vec::new();
    }
    let change: fn(String) -> Change = if cursor.eat("table") {
        |table| Change::DropTable { table }
    } else if cursor.eat("schema") {
        |schema| Change::DropSchema { schema }
    } else if cursor.eat("database") {
        |database| Change::DropDatabase { database }
    } else if dialect == Dialect::ClickHouse && (cursor.eat("view") || cursor.eat_all(&["materialized", "view"])) {
        |view| Change::DropView { view }
    } else if dialect == Dialect::Postgres && !cursor.is("view") && !cursor.is("materialized") {
        return drop_cascade(code);
    } else {
        return Vec::new();
    };
    cursor.eat_all(&["if", "exists"]);
    cursor.names().into_iter().map(|name| (at, change(name))).collect()
}

/// PostgreSQL's `CASCADE` drops dependent objects, columns of a dropped type or domain included.
fn drop_cascade(code: &[Token]) -> Vec<(usize, Change)> {
    code.iter()
        .find(|token| token.depth == 0 && token.is("cascade"))
        .map(|_| (code[0].offset, Change::DropCascade))
        .into_iter()
        .collect()
}

/// `ALTER TABLE [IF EXISTS] [ONLY] name [*] [ON CLUSTER c] action, action, ...`.
fn alter_table(code: &[Token], dialect: Dialect, created: &Created) -> Vec<(usize, Change)> {
    let mut cursor = Cursor { code, index: 2 };
    cursor.eat_all(&["if", "exists"]);
    cursor.eat("only");
    let Some(table) = cursor.name() else {
        return Vec::new();
    };
    cursor.eat_punctuation('*');
    if cursor.eat_all(&["on", "cluster"]) {
        cursor.name();
    }
    let actions = code[cursor.index..].split(|token| token.depth == 0 && token.is_punctuation(','));
    actions.filter_map(|action| alter_action(action, &table, dialect, created)).collect()
}

fn alter_action(action: &[Token], table: &str, dialect: Dialect, created: &Created) -> Option<(usize, Change)> {
    let at = action.first()?.offset;
    let mut cursor = Cursor { code: action, index: 1 };
    let table = table.to_string();
    let postgres = dialect == Dialect::Postgres;
    if action[0].is("modify") && !postgres && cursor.eat("ttl") {
        let new = ttl_seconds(&action[cursor.index..]);
        let known = created.ttls.get(&plain_name(&table)).copied().flatten();
        let shorter = match (known, new) {
            (Some(old), Some(new)) => new < old,
            _ => true,
        };
        let ttl = action[cursor.index..].iter().map(|token| token.text).collect::<Vec<_>>().join(" ");
        return shorter.then_some((at, Change::ShortenTtl { table, ttl }));
    }
    if action[0].is("drop") {
        if !postgres && (cursor.eat("partition") || cursor.eat("part") || cursor.eat("detached")) {
            return Some((at, Change::DropPartition { table }));
        }
        if !cursor.eat("column") && (!postgres || cursor.is("constraint")) {
            // ClickHouse's other drops (index, projection, constraint, statistics) and
            // PostgreSQL's `DROP CONSTRAINT` keep the data.
            return None;
        }
        cursor.eat_all(&["if", "exists"]);
        return Some((at, Change::DropColumn { table, column: cursor.name()? }));
    }
    if action[0].is("rename") {
        if cursor.eat("to") {
            return Some((at, Change::RenameTable { from: table, to: cursor.name()? }));
        }
        if !cursor.eat("column") && (!postgres || cursor.is("constraint")) {
            return None;
        }
        cursor.eat_all(&["if", "exists"]);
        let from = cursor.name()?;
        cursor.eat("to").then_some(())?;
        return Some((at, Change::RenameColumn { table, from, to: cursor.name()? }));
    }
    if action[0].is("clear") && !postgres && cursor.eat("column") {
        cursor.eat_all(&["if", "exists"]);
        return Some((at, Change::ClearColumn { table, column: cursor.name()? }));
    }
    if action[0].is("delete") && !postgres {
        let condition = after_where(&action[1..], 0)?;
        if is_always_true(condition) {
            let whole_table = !action.iter().any(|token| token.is("partition"));
            let change = if whole_table { Change::DeleteAll { table } } else { Change::DropPartition { table } };
            return Some((at, change));
        }
    }
    None
}

/// `TRUNCATE [TEMPORARY] [TABLE] [IF EXISTS] [ONLY] name [*], ...`, ClickHouse's
/// `TRUNCATE DATABASE name` and `TRUNCATE [ALL] TABLES FROM name`.
fn truncate(code: &[Token]) -> Vec<(usize, Change)> {
    let at = code[0].offset;
    let mut cursor = Cursor { code, index: 1 };
    if cursor.eat("temporary") {
        return Vec::new();
    }
    if cursor.eat("database") || cursor.eat_all(&["tables", "from"]) || cursor.eat_all(&["all", "tables", "from"]) {
        cursor.eat_all(&["if", "exists"]);
        return cursor.name().map(|database| (at, Change::TruncateDatabase { database })).into_iter().collect();
    }
    cursor.eat("table");
    cursor.eat_all(&["if", "exists"]);
    cursor.names().into_iter().map(|table| (at, Change::Truncate { table })).collect()
}

/// ClickHouse `EXCHANGE TABLES a AND b`.
fn exchange_tables(code: &[Token]) -> Vec<(usize, Change)> {
    let mut cursor = Cursor { code, index: 1 };
    if !cursor.eat("tables") {
        return Vec::new();
    }
    let Some(first) = cursor.name() else {
        return Vec::new();
    };
    cursor.eat("and");
    cursor.name().map(|second| (code[0].offset, Change::ExchangeTables { first, second })).into_iter().collect()
}

/// What the plan's ClickHouse upgrades created so far, as far as the lint needs it.
#[derive(Debug, Default)]
struct Created {
    /// Plain views (not materialized): they hold no data, so dropping one loses nothing.
    plain_views: HashSet<String>,
    /// Each table's TTL in seconds (`None`: no TTL, or one the lint cannot read), from its
    /// `CREATE TABLE` or its last `MODIFY TTL`.
    ttls: HashMap<String, Option<u64>>,
}

impl Created {
    fn learn(&mut self, code: &[Token]) {
        let mut cursor = Cursor { code, index: 0 };
        if !cursor.eat("create") && !cursor.eat("attach") {
            if let Some((table, ttl)) = modified_ttl(code) {
                self.ttls.insert(table, ttl);
            }
            return;
        }
        cursor.eat_all(&["or", "replace"]);
        let plain_view = if cursor.eat("view") {
            true
        } else if cursor.eat_all(&["materialized", "view"]) || cursor.eat_all(&["live", "view"]) {
            false
        } else {
            cursor.eat("temporary");
            if !cursor.eat("table") {
                return;
            }
            cursor.eat_all(&["if", "not", "exists"]);
            if let Some(table) = cursor.name() {
                let ttl = code.iter().position(|token| token.depth == 0 && token.is("ttl"));
                self.ttls.insert(plain_name(&table), ttl.and_then(|start| ttl_seconds(&code[start + 1..])));
            }
            return;
        };
        cursor.eat_all(&["if", "not", "exists"]);
        if let Some(view) = cursor.name().map(|view| plain_name(&view)) {
            if plain_view {
                self.plain_views.insert(view);
            } else {
                self.plain_views.remove(&view);
            }
        }
    }
}

/// `ALTER TABLE t MODIFY TTL expr`: the table and the new TTL in seconds.
fn modified_ttl(code: &[Token]) -> Option<(String, Option<u64>)> {
    let mut cursor = Cursor { code, index: 0 };
    cursor.eat_all(&["alter", "table"]).then_some(())?;
    let table = cursor.name()?;
    let start = code.iter().position(|token| token.depth == 0 && token.is("ttl"))?;
    code[start - 1].is("modify").then(|| (plain_name(&table), ttl_seconds(&code[start + 1..])))
}

/// The shortest `INTERVAL <n> <unit>` (or `toInterval<Unit>(<n>)`) of a TTL expression, in
/// seconds; `None` when it has none the lint can read.
fn ttl_seconds(expression: &[Token]) -> Option<u64> {
    let unit_seconds = |unit: &str| -> Option<u64> {
        let unit = unit.to_ascii_lowercase();
        let unit = unit.trim_start_matches("tointerval").trim_end_matches('s');
        Some(match unit {
            "second" => 1,
            "minute" => 60,
            "hour" => 3_600,
            "day" => 86_400,
            "week" => 7 * 86_400,
            "month" => 30 * 86_400,
            "quarter" => 91 * 86_400,
            "year" => 365 * 86_400,
            _ => return None,
        })
    };
    let mut shortest: Option<u64> = None;
    for (index, token) in expression.iter().enumerate() {
        let (count, unit) = if token.is("interval") {
            (expression.get(index + 1), expression.get(index + 2))
        } else if token.kind == Kind::Word && token.text.to_ascii_lowercase().starts_with("tointerval") {
            (expression.get(index + 2), Some(token))
        } else {
            continue;
        };
        let (Some(count), Some(unit)) = (count, unit) else { continue };
        let seconds = count.text.parse::<u64>().ok().zip(unit_seconds(unit.text)).map(|(count, unit)| count * unit);
        if let Some(seconds) = seconds {
            shortest = Some(shortest.map_or(seconds, |shortest| shortest.min(seconds)));
        }
    }
    shortest
}

/// A name as ClickHouse resolves it: without its quotes.
fn plain_name(name: &str) -> String {
    name.replace(['`', '"'], "")
}

/// ClickHouse `RENAME TABLE a TO b, c TO d` and `RENAME DATABASE a TO b`.
fn rename_statement(code: &[Token]) -> Vec<(usize, Change)> {
    let at = code[0].offset;
    let mut cursor = Cursor { code, index: 1 };
    let database = if cursor.eat("table") {
        false
    } else if cursor.eat("database") {
        true
    } else {
        return Vec::new();
    };
    let mut changes = Vec::new();
    while let Some(from) = cursor.name() {
        if !cursor.eat("to") {
            break;
        }
        let Some(to) = cursor.name() else {
            break;
        };
        let change = if database { Change::RenameDatabase { from, to } } else { Change::RenameTable { from, to } };
        changes.push((at, change));
        if !cursor.eat_punctuation(',') {
            break;
        }
    }
    changes
}

/// Each `DELETE FROM name` whose `WHERE` is missing or always true, at any depth (a PostgreSQL
/// `WITH` holds deletes in parentheses). `ON DELETE CASCADE`, `GRANT DELETE` and `AFTER DELETE`
/// are not followed by `FROM`, so they are not deletes.
fn deletes_of_every_row(code: &[Token]) -> Vec<(usize, Change)> {
    let mut changes = Vec::new();
    for (index, token) in code.iter().enumerate() {
        if !token.is("delete") || !code.get(index + 1).is_some_and(|next| next.is("from")) {
            continue;
        }
        // The delete ends where its parenthesis closes, or with the statement.
        let depth = token.depth;
        let rest = &code[index + 2..];
        let scope = &rest[..rest.iter().position(|token| token.depth < depth).unwrap_or(rest.len())];
        let mut cursor = Cursor { code: scope, index: 0 };
        cursor.eat("only");
        let Some(table) = cursor.name() else {
            continue;
        };
        if after_where(scope, depth).is_none_or(is_always_true) {
            changes.push((token.offset, Change::DeleteAll { table }));
        }
    }
    changes
}

/// The tokens of the `WHERE` condition at `depth` in `code`, up to `RETURNING` or `SETTINGS`;
/// `None` without a `WHERE`.
fn after_where<'c, 'a>(code: &'c [Token<'a>], depth: usize) -> Option<&'c [Token<'a>]> {
    let start = code.iter().position(|token| token.depth == depth && token.is("where"))? + 1;
    let condition = &code[start..];
    let end = condition
        .iter()
        .position(|token| token.depth == depth && (token.is("returning") || token.is("settings")))
        .unwrap_or(condition.len());
    Some(&condition[..end])
}

/// `1`, `true` and `1 = 1`: the conditions written to mean "every row".
fn is_always_true(condition: &[Token]) -> bool {
    let texts: Vec<String> = condition.iter().map(|token| token.text.to_ascii_lowercase()).collect();
    matches!(texts.iter().map(String::as_str).collect::<Vec<_>>().as_slice(), ["1"] | ["true"] | ["1", "=", "1"])
}

/// Reads keywords and names from a run of tokens.
struct Cursor<'c, 'a> {
    code: &'c [Token<'a>],
    index: usize,
}

impl Cursor<'_, '_> {
    fn is(&self, keyword: &str) -> bool {
        self.code.get(self.index).is_some_and(|token| token.is(keyword))
    }

    /// Consumes `keyword` if it comes next.
    fn eat(&mut self, keyword: &str) -> bool {
        let found = self.is(keyword);
        self.index += usize::from(found);
        found
    }

    /// Consumes `keywords` if they all come next, in order; otherwise nothing.
    fn eat_all(&mut self, keywords: &[&str]) -> bool {
        let found = keywords
            .iter()
            .enumerate()
            .all(|(offset, keyword)| self.code.get(self.index + offset).is_some_and(|token| token.is(keyword)));
        if found {
            self.index += keywords.len();
        }
        found
    }

    fn eat_punctuation(&mut self, character: char) -> bool {
        let found = self.code.get(self.index).is_some_and(|token| token.is_punctuation(character));
        self.index += usize::from(found);
        found
    }

    /// A possibly qualified name, `a`, `a.b`, `"A".b`, as written.
    fn name(&mut self) -> Option<String> {
        let mut name = self.name_part()?.to_string();
        while self.code.get(self.index).is_some_and(|token| token.is_punctuation('.')) {
            self.index += 1;
            let Some(part) = self.name_part() else {
                break;
            };
            name.push('.');
            name.push_str(part);
        }
        Some(name)
    }

    fn name_part(&mut self) -> Option<&str> {
        let token = self.code.get(self.index).filter(|token| matches!(token.kind, Kind::Word | Kind::QuotedName))?;
        self.index += 1;
        Some(token.text)
    }

    /// A comma-separated list of names, each optionally preceded by `ONLY` and followed by `*`
    /// (PostgreSQL's "without" and "with its descendants").
    fn names(&mut self) -> Vec<String> {
        let mut names = Vec::new();
        self.eat("only");
        while let Some(name) = self.name() {
            names.push(name);
            self.eat_punctuation('*');
            if !self.eat_punctuation(',') {
                break;
            }
            self.eat("only");
        }
        names
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Migration;
    use crate::sql;

    const PATH: &str = "migrations/postgres/upgrade/V0002-x.sql";

    fn script(sql_text: &str, dialect: Dialect) -> Script {
        let statements = sql::split_statements(sql_text, dialect).expect("script splits");
        Script {
            path: PATH.to_string(),
            sql: sql_text.to_string(),
            statement_offsets: statements.iter().map(|statement| statement.offset).collect(),
            statements: statements.into_iter().map(|statement| statement.text).collect(),
            transactional: true,
        }
    }

    fn postgres(sql_text: &str) -> Vec<Change> {
        check_script(&script(sql_text, Dialect::Postgres), Dialect::Postgres).into_iter().map(|w| w.change).collect()
    }

    fn clickhouse(sql_text: &str) -> Vec<Change> {
        check_script(&script(sql_text, Dialect::ClickHouse), Dialect::ClickHouse)
            .into_iter()
            .map(|w| w.change)
            .collect()
    }

    fn messages(sql_text: &str) -> Vec<String> {
        check_script(&script(sql_text, Dialect::Postgres), Dialect::Postgres).iter().map(ToString::to_string).collect()
    }

    fn table(name: &str) -> Change {
        Change::DropTable { table: name.to_string() }
    }

    fn column(table: &str, column: &str) -> Change {
        Change::DropColumn { table: table.to_string(), column: column.to_string() }
    }

    fn delete_all(table: &str) -> Change {
        Change::DeleteAll { table: table.to_string() }
    }

    #[test]
    fn warning_names_the_place_the_change_the_statement_and_the_fix() {
        assert_eq!(
            messages("CREATE TABLE accounts (id int);\n\n  DROP TABLE IF EXISTS users CASCADE;\n"),
            ["migrations/postgres/upgrade/V0002-x.sql:3:3: this upgrade drops table `users` and its data \
              (`DROP TABLE IF EXISTS users CASCADE`); if that is intended, \
              add `-- migrator:allow-destructive <reason>` to the statement"]
        );
    }

    #[test]
    fn drop_table_is_a_warning_per_table_with_or_without_if_exists() {
        assert_eq!(postgres("DROP TABLE a, public.b, \"C\" CASCADE"), [table("a"), table("public.b"), table("\"C\"")]);
        assert_eq!(postgres("drop table if exists a"), [table("a")]);
        assert_eq!(clickhouse("DROP TABLE IF EXISTS `db`.t ON CLUSTER main SYNC"), [table("`db`.t")]);
        assert_eq!(clickhouse("DROP TEMPORARY TABLE scratch"), []);
    }

    #[test]
    fn drop_schema_and_database_are_warnings() {
        assert_eq!(
            postgres("DROP SCHEMA IF EXISTS archive CASCADE"),
            [Change::DropSchema { schema: "archive".into() }]
        );
        assert_eq!(clickhouse("DROP DATABASE old"), [Change::DropDatabase { database: "old".into() }]);
    }

    #[test]
    fn views_warn_only_in_clickhouse() {
        assert_eq!(postgres("DROP VIEW v; DROP MATERIALIZED VIEW IF EXISTS m CASCADE"), []);
        assert_eq!(
            clickhouse("DROP VIEW IF EXISTS ohlcv_daily_mv"),
            [Change::DropView { view: "ohlcv_daily_mv".into() }]
        );
    }

    #[test]
    fn other_postgres_drops_warn_only_with_cascade() {
        assert_eq!(postgres("DROP TYPE mood CASCADE"), [Change::DropCascade]);
        assert_eq!(postgres("DROP INDEX CONCURRENTLY i; DROP FUNCTION f(int); DROP TYPE mood RESTRICT"), []);
        assert_eq!(clickhouse("DROP DICTIONARY d"), []);
    }

    #[test]
    fn dropping_a_column_warns_but_dropping_a_constraint_or_index_does_not() {
        assert_eq!(
            postgres("ALTER TABLE IF EXISTS ONLY users DROP COLUMN IF EXISTS nickname CASCADE, DROP legacy"),
            [column("users", "nickname"), column("users", "legacy")]
        );
        assert_eq!(
            postgres("ALTER TABLE users DROP CONSTRAINT users_email_key, ALTER COLUMN name DROP DEFAULT, ADD x int"),
            []
        );
        assert_eq!(clickhouse("ALTER TABLE t ON CLUSTER c DROP COLUMN IF EXISTS price"), [column("t", "price")]);
        assert_eq!(clickhouse("ALTER TABLE t DROP INDEX i, DROP PROJECTION p, DROP CONSTRAINT c"), []);
    }

    #[test]
    fn a_plain_clickhouse_view_the_plan_created_may_be_dropped_but_not_a_materialized_one() {
        let sql = "CREATE VIEW daily AS SELECT 1;\nCREATE MATERIALIZED VIEW `feed` TO t AS SELECT 1;\n\
                   DROP VIEW daily;\nDROP VIEW feed;\nDROP VIEW unknown;";
        assert_eq!(
            clickhouse(sql),
            [Change::DropView { view: "feed".into() }, Change::DropView { view: "unknown".into() }]
        );
    }

    #[test]
    fn exchanging_tables_is_a_warning() {
        assert_eq!(
            clickhouse("EXCHANGE TABLES ticks AND ticks_new"),
            [Change::ExchangeTables { first: "ticks".into(), second: "ticks_new".into() }]
        );
        assert_eq!(postgres("EXCHANGE TABLES a AND b"), []);
    }

    #[test]
    fn a_shorter_or_unknown_ttl_is_a_warning_and_a_longer_one_is_not() {
        let created = "CREATE TABLE ticks (ts DateTime) ENGINE = MergeTree ORDER BY ts TTL ts + INTERVAL 30 DAY;\n";
        assert_eq!(clickhouse(&format!("{created}ALTER TABLE ticks MODIFY TTL ts + INTERVAL 1 YEAR;")), []);
        assert_eq!(
            clickhouse(&format!("{created}ALTER TABLE ticks MODIFY TTL ts + toIntervalDay(7);")),
            [Change::ShortenTtl { table: "ticks".into(), ttl: "ts + toIntervalDay ( 7 )".into() }]
        );
        // Shortened after it was made longer: compared with the last TTL.
        let twice = format!(
            "{created}ALTER TABLE ticks MODIFY TTL ts + INTERVAL 90 DAY;\nALTER TABLE ticks MODIFY TTL ts + INTERVAL 60 DAY;"
        );
        assert_eq!(clickhouse(&twice).len(), 1);
        // A table the plan did not create, or created without a TTL: rows may go.
        assert_eq!(clickhouse("ALTER TABLE other MODIFY TTL ts + INTERVAL 1 YEAR").len(), 1);
    }

    #[test]
    fn clickhouse_partitions_and_cleared_columns_are_warnings() {
        let partition = || [Change::DropPartition { table: "ticks".into() }];
        assert_eq!(clickhouse("ALTER TABLE ticks DROP PARTITION '2024-01'"), partition());
        assert_eq!(clickhouse("ALTER TABLE ticks DROP DETACHED PARTITION ID 'all'"), partition());
        assert_eq!(clickhouse("ALTER TABLE ticks DROP PART 'all_1_1_0'"), partition());
        assert_eq!(
            clickhouse("ALTER TABLE ticks CLEAR COLUMN price IN PARTITION 202401"),
            [Change::ClearColumn { table: "ticks".into(), column: "price".into() }]
        );
        assert_eq!(clickhouse("ALTER TABLE ticks CLEAR INDEX i, DETACH PARTITION 1"), []);
    }

    #[test]
    fn renames_are_warnings() {
        assert_eq!(
            postgres("ALTER TABLE users RENAME COLUMN name TO full_name; ALTER TABLE users RENAME nick TO handle"),
            [
                Change::RenameColumn { table: "users".into(), from: "name".into(), to: "full_name".into() },
                Change::RenameColumn { table: "users".into(), from: "nick".into(), to: "handle".into() },
            ]
        );
        assert_eq!(
            postgres("ALTER TABLE users RENAME TO accounts; ALTER TABLE users RENAME CONSTRAINT a TO b"),
            [Change::RenameTable { from: "users".into(), to: "accounts".into() }]
        );
        assert_eq!(
            clickhouse("RENAME TABLE a TO b, db.c TO db.d; RENAME DATABASE x TO y"),
            [
                Change::RenameTable { from: "a".into(), to: "b".into() },
                Change::RenameTable { from: "db.c".into(), to: "db.d".into() },
                Change::RenameDatabase { from: "x".into(), to: "y".into() },
            ]
        );
        assert_eq!(
            clickhouse("ALTER TABLE t RENAME COLUMN IF EXISTS a TO b"),
            [Change::RenameColumn { table: "t".into(), from: "a".into(), to: "b".into() }]
        );
    }

    #[test]
    fn truncate_is_a_warning_per_table() {
        let truncate = |name: &str| Change::Truncate { table: name.to_string() };
        assert_eq!(postgres("TRUNCATE a, ONLY b"), [truncate("a"), truncate("b")]);
        assert_eq!(postgres("TRUNCATE TABLE ONLY a, b * RESTART IDENTITY CASCADE"), [truncate("a"), truncate("b")]);
        assert_eq!(clickhouse("TRUNCATE TABLE IF EXISTS db.t ON CLUSTER c"), [truncate("db.t")]);
        assert_eq!(clickhouse("TRUNCATE TEMPORARY TABLE scratch"), []);
        assert_eq!(
            clickhouse("TRUNCATE DATABASE IF EXISTS old; TRUNCATE ALL TABLES FROM older"),
            [
                Change::TruncateDatabase { database: "old".into() },
                Change::TruncateDatabase { database: "older".into() },
            ]
        );
    }

    #[test]
    fn delete_without_where_or_with_an_always_true_where_is_a_warning() {
        assert_eq!(postgres("DELETE FROM sessions"), [delete_all("sessions")]);
        assert_eq!(postgres("DELETE FROM ONLY s RETURNING id"), [delete_all("s")]);
        assert_eq!(postgres("delete from s where TRUE; DELETE FROM t WHERE 1 = 1"), [delete_all("s"), delete_all("t")]);
        assert_eq!(postgres("DELETE FROM s WHERE expires_at < now() RETURNING id"), []);
        assert_eq!(postgres("DELETE FROM s USING u WHERE s.user_id = u.id"), []);
        assert_eq!(clickhouse("DELETE FROM ticks WHERE 1"), [delete_all("ticks")]);
        assert_eq!(clickhouse("DELETE FROM ticks WHERE symbol = 'X'"), []);
    }

    #[test]
    fn delete_inside_with_is_found_by_its_own_where() {
        assert_eq!(
            postgres("WITH moved AS (DELETE FROM old RETURNING *) INSERT INTO archive SELECT * FROM moved"),
            [delete_all("old")]
        );
        assert_eq!(
            postgres(
                "WITH moved AS (DELETE FROM old WHERE at < now() RETURNING *) INSERT INTO archive SELECT * FROM moved"
            ),
            []
        );
        assert_eq!(
            postgres("WITH stale AS (SELECT id FROM s WHERE x) DELETE FROM s WHERE id IN (SELECT id FROM stale)"),
            []
        );
    }

    #[test]
    fn clickhouse_mutation_deleting_every_row_is_a_warning() {
        assert_eq!(clickhouse("ALTER TABLE ticks DELETE WHERE 1"), [delete_all("ticks")]);
        assert_eq!(
            clickhouse("ALTER TABLE ticks DELETE WHERE true SETTINGS mutations_sync = 2"),
            [delete_all("ticks")]
        );
        assert_eq!(
            clickhouse("ALTER TABLE ticks DELETE IN PARTITION 202401 WHERE 1"),
            [Change::DropPartition { table: "ticks".into() }]
        );
        assert_eq!(clickhouse("ALTER TABLE ticks DELETE WHERE ts < '2020-01-01'"), []);
        assert_eq!(clickhouse("ALTER TABLE ticks UPDATE price = 0 WHERE 1"), []);
    }

    #[test]
    fn on_delete_grant_delete_and_trigger_events_are_not_deletes() {
        let sql = "CREATE TABLE sessions (user_id uuid REFERENCES users (id) ON DELETE CASCADE);\n\
                   ALTER TABLE s ADD CONSTRAINT f FOREIGN KEY (u) REFERENCES users (id) ON DELETE SET NULL;\n\
                   GRANT SELECT, DELETE ON sessions TO app;\n\
                   CREATE TRIGGER t AFTER INSERT OR DELETE ON s FOR EACH ROW EXECUTE FUNCTION f();\n\
                   CREATE POLICY p ON s FOR DELETE USING (true);\n\
                   CREATE RULE r AS ON UPDATE TO s DO INSTEAD DELETE FROM s;";
        assert_eq!(postgres(sql), []);
    }

    #[test]
    fn keywords_in_strings_comments_and_bodies_are_not_statements() {
        let sql = "-- DROP TABLE users;\n\
                   /* TRUNCATE users; */\n\
                   COMMENT ON TABLE users IS 'DROP TABLE users; DELETE FROM users';\n\
                   CREATE FUNCTION purge() RETURNS void AS $$ DELETE FROM sessions $$ LANGUAGE sql;\n\
                   SELECT \"drop\" FROM \"truncate\";\n\
                   INSERT INTO log (note) VALUES (E'it\\'s DROP TABLE x');";
        assert_eq!(postgres(sql), []);
        assert_eq!(clickhouse("SELECT `drop table`, 'delete from t' // DROP TABLE t\n# TRUNCATE t\n"), []);
    }

    #[test]
    fn opt_out_with_a_reason_silences_the_statement_before_inside_or_after_it() {
        let sql = "-- migrator:allow-destructive replaced by accounts in V0003\n\
                   DROP TABLE users;\n\
                   ALTER TABLE a\n  -- migrator:allow-destructive never read\n  DROP COLUMN x, DROP COLUMN y;\n\
                   TRUNCATE t; -- migrator:allow-destructive rebuilt below\n\
                   DELETE FROM cache;\t-- migrator:allow-destructive\tcache only";
        assert_eq!(postgres(sql), []);
    }

    #[test]
    fn opt_out_on_one_statement_does_not_silence_the_next() {
        let sql = "CREATE TABLE b (x int); -- migrator:allow-destructive meant for the next line\nDROP TABLE a;\n\
                   TRUNCATE c;\n-- migrator:allow-destructive only for d\nTRUNCATE d; SELECT 1; -- migrator:allow-destructive late\n\
                   DROP TABLE e;";
        assert_eq!(postgres(sql), [table("a"), Change::Truncate { table: "c".into() }, table("e")]);
    }

    #[test]
    fn opt_out_without_a_reason_does_not_count_and_says_so() {
        let warnings = messages("SELECT 1;\n-- migrator:allow-destructive\nDROP TABLE users;\n");
        assert_eq!(
            warnings,
            ["migrations/postgres/upgrade/V0002-x.sql:3:1: this upgrade drops table `users` and its data \
              (`DROP TABLE users`); the `-- migrator:allow-destructive` on line 2 gives no reason; \
              write it after the directive"]
        );
        assert_eq!(postgres("TRUNCATE t; -- migrator:allow-destructive   "), [Change::Truncate { table: "t".into() }]);
    }

    #[test]
    fn opt_out_must_be_the_exact_directive() {
        for comment in [
            "-- migrator:allow-destructiveness x",
            "--migrator:allow-destructive x",
            "/* migrator:allow-destructive x */",
        ] {
            assert_eq!(postgres(&format!("{comment}\nDROP TABLE t")), [table("t")], "{comment}");
        }
        assert_eq!(opt_out_reason("-- migrator:allow-destructive  why "), Some("why"));
        assert_eq!(opt_out_reason("-- migrator:allow-destructive"), Some(""));
        assert_eq!(opt_out_reason("-- migrator:allow-destructively"), None);
    }

    #[test]
    fn an_opt_out_inside_a_string_does_not_count() {
        assert_eq!(postgres("DROP TABLE t; SELECT '-- migrator:allow-destructive no'"), [table("t")]);
        assert_eq!(postgres("DROP TABLE t\n;SELECT 1 -- migrator:allow-destructive for the select"), [table("t")]);
    }

    #[test]
    fn location_points_at_the_keyword_and_the_excerpt_at_the_first_code_line() {
        let sql = "SELECT 1;\n-- why not\nALTER TABLE ticks\n    DROP COLUMN price;";
        let warnings = check_script(&script(sql, Dialect::ClickHouse), Dialect::ClickHouse);
        assert_eq!(warnings.len(), 1);
        assert_eq!(warnings[0].at, Location::at(PATH, 4, 5));
        assert_eq!(warnings[0].statement, "ALTER TABLE ticks");
        let long = format!("DROP TABLE {}", "x".repeat(100));
        let warnings = check_script(&script(&long, Dialect::Postgres), Dialect::Postgres);
        assert_eq!(warnings[0].statement.chars().count(), EXCERPT_LENGTH + 1);
        assert!(warnings[0].statement.ends_with('…'));
    }

    #[test]
    fn check_reads_upgrades_of_both_targets_and_exempts_downgrades() {
        let migration = |upgrade: &str, downgrade: &str, dialect: Dialect| Migration {
            version: 1,
            description: "x".into(),
            upgrade: script(upgrade, dialect),
            downgrade: script(downgrade, dialect),
            checksum: String::new(),
            data: None,
            reversal: Default::default(),
        };
        let plan = Plan {
            fingerprint: String::new(),
            postgres: vec![migration("CREATE TABLE a (x int)", "DROP TABLE a", Dialect::Postgres)],
            clickhouse: vec![
                migration("TRUNCATE ticks", "DROP TABLE ticks", Dialect::ClickHouse),
                migration("SELECT 1", "DROP DATABASE d", Dialect::ClickHouse),
            ],
            mongodb: Vec::new(),
            topics: Vec::new(),
            indicators: Vec::new(),
            rejected_data_files: Vec::new(),
        };
        let changes: Vec<Change> = check(&plan).into_iter().map(|warning| warning.change).collect();
        assert_eq!(changes, [Change::Truncate { table: "ticks".into() }]);
    }

    #[test]
    fn the_repository_upgrades_have_no_destructive_statement() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let plan = crate::compile(&root).expect("the repository's sources compile");
        assert!(!plan.postgres.is_empty() && !plan.clickhouse.is_empty());
        assert_eq!(check(&plan), []);
    }
}
