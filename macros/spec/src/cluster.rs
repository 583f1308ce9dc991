//! ClickHouse clusters at build time: one set of migration files for a single server and for a
//! cluster.
//!
//! A statement meant for every replica carries `ON CLUSTER '{cluster}'`, the placeholder
//! [`CLAUSE`], which every server of a cluster expands from its `cluster` macro. The runtime's
//! `targets::clickhouse::cluster::render` fills in the configured cluster (`CLICKHOUSE_CLUSTER`)
//! on a cluster and removes the clause on a single server, where a Replicated engine of such a
//! statement also becomes its plain MergeTree (a single server has no ZooKeeper). Replicated engine paths name
//! the server's macros, which ClickHouse (18.16 too) expands on each replica:
//!
//! ```sql
//! CREATE TABLE ticks ON CLUSTER '{cluster}' (id UInt64, price Float64)
//! ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
//! ORDER BY id;
//! ```
//!
//! [`check`] is the compile-time rule: in a project whose ClickHouse migrations use `ON CLUSTER`
//! anywhere, every DDL statement of them (upgrades and downgrades: `CREATE`, `ALTER`, `DROP`,
//! `RENAME`, `TRUNCATE`, `EXCHANGE`, `ATTACH`, `DETACH`) carries the clause, since one without it
//! would change one replica only, and the clause names the placeholder rather than a cluster, so
//! the file still runs on a single server. A project that never writes `ON CLUSTER` is not
//! affected. [`lint`] gives the warnings: a Replicated engine whose path or replica name lacks the
//! macros that keep replicas (and databases) apart, a plain MergeTree created `ON CLUSTER` (each
//! replica then holds different rows), and a `Distributed` table naming a cluster.
//!
//! [`on_cluster`] and [`engine`] find the clause and the engine in a statement, for these rules
//! and for the runtime, which renders each statement for the server it runs on.

use std::fmt;
use std::ops::Range;

use crate::diag::{Location, Problems};
use crate::lint::tokens::{self, Kind, Token};
use crate::model::{Dialect, Migration, Plan, Script};
use crate::source::line_column;

/// The cluster placeholder, as written inside the clause's quotes.
pub const PLACEHOLDER: &str = "{cluster}";

/// The clause a statement meant for every replica carries.
pub const CLAUSE: &str = "ON CLUSTER '{cluster}'";

/// The recommended Replicated engine arguments.
const REPLICATED_ARGUMENTS: &str = "'/clickhouse/tables/{shard}/{database}/{table}', '{replica}'";

/// A compile error of the cluster rules.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error(
        "{at}: `{statement}` has no `{CLAUSE}`, while `{first_use}` uses it, so on a cluster it would change \
         one replica only; add `{CLAUSE}` {place}"
    )]
    MissingClause { at: Location, statement: &'static str, first_use: Location, place: &'static str },
    #[error(
        "{at}: `ON CLUSTER {name}` names one cluster; write `{CLAUSE}`, which every server of a cluster \
         expands from its `cluster` macro, so the same file serves any cluster"
    )]
    NamedCluster { at: Location, name: String },
}

/// A statement's `ON CLUSTER <name>` clause, as byte ranges of the statement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OnCluster {
    /// From the `ON` to the end of the cluster's name.
    pub span: Range<usize>,
    /// The name as written, quotes included.
    pub name: Range<usize>,
    /// Whether the name is the placeholder (`'{cluster}'`, or quoted as a name).
    pub placeholder: bool,
}

/// The `ON CLUSTER` clause of a ClickHouse statement, if it has one: at the top level, and in a
/// `CREATE` before the query of a view (where `ON cluster` may be a join condition).
pub fn on_cluster(statement: &str) -> Option<OnCluster> {
    clause(&tokens::scan(statement, Dialect::ClickHouse).code)
}

fn clause(code: &[Token]) -> Option<OnCluster> {
    let create = code.first().is_some_and(|token| token.is("create"));
    let top: Vec<&Token> = code
        .iter()
        .filter(|token| token.depth == 0)
        .take_while(|token| !(create && (token.is("select") || token.is("with"))))
        .collect();
    top.windows(3).find_map(|window| {
        let [on, cluster, name] = window else {
            return None;
        };
        if !(on.is("on") && cluster.is("cluster")) || name.kind == Kind::Punctuation {
            return None;
        }
        Some(OnCluster {
            span: on.offset..end(name),
            name: name.offset..end(name),
            placeholder: name.kind != Kind::Word && unquoted(name.text) == Some(PLACEHOLDER),
        })
    })
}

fn end(token: &Token) -> usize {
    token.offset + token.text.len()
}

/// The text inside a quoted token (`'x'`, `"x"`, `` `x` ``); `None` for a heredoc.
fn unquoted(text: &str) -> Option<&str> {
    let quote = text.chars().next().filter(|quote| matches!(quote, '\'' | '"' | '`'))?;
    text.strip_prefix(quote)?.strip_suffix(quote)
}

/// The statements that change one server's schema, so that on a cluster each needs
/// `ON CLUSTER`: (first keyword, the words naming the object, the kind as errors name it). The
/// first entry that matches wins; one without object words is the keyword's default object.
const DDL_KINDS: &[(&str, &[&str], &str)] = &[
    ("create", &["table"], "CREATE TABLE"),
    ("create", &["database"], "CREATE DATABASE"),
    ("create", &["view"], "CREATE VIEW"),
    ("create", &["materialized", "view"], "CREATE MATERIALIZED VIEW"),
    ("create", &["live", "view"], "CREATE LIVE VIEW"),
    ("create", &["window", "view"], "CREATE WINDOW VIEW"),
    ("create", &["dictionary"], "CREATE DICTIONARY"),
    ("create", &["function"], "CREATE FUNCTION"),
    ("alter", &["table"], "ALTER TABLE"),
    ("drop", &["table"], "DROP TABLE"),
    ("drop", &["database"], "DROP DATABASE"),
    ("drop", &["view"], "DROP VIEW"),
    ("drop", &["dictionary"], "DROP DICTIONARY"),
    ("drop", &["function"], "DROP FUNCTION"),
    ("rename", &["database"], "RENAME DATABASE"),
    ("rename", &["dictionary"], "RENAME DICTIONARY"),
    ("rename", &[], "RENAME TABLE"),
    ("truncate", &["database"], "TRUNCATE DATABASE"),
    ("truncate", &[], "TRUNCATE TABLE"),
    ("exchange", &["dictionaries"], "EXCHANGE DICTIONARIES"),
    ("exchange", &[], "EXCHANGE TABLES"),
    ("attach", &["database"], "ATTACH DATABASE"),
    ("attach", &["dictionary"], "ATTACH DICTIONARY"),
    ("attach", &["view"], "ATTACH VIEW"),
    ("attach", &[], "ATTACH TABLE"),
    ("detach", &["database"], "DETACH DATABASE"),
    ("detach", &["dictionary"], "DETACH DICTIONARY"),
    ("detach", &["view"], "DETACH VIEW"),
    ("detach", &[], "DETACH TABLE"),
];

/// The [`DDL_KINDS`] kind of a statement; `None` for anything else (queries, inserts,
/// `OPTIMIZE`, `SYSTEM`), and for temporary tables, which live in one session.
fn ddl_kind(code: &[Token]) -> Option<&'static str> {
    let first = code.first()?;
    let or_replace = first.is("create") && code.get(1).is_some_and(|token| token.is("or"));
    let object = &code[if or_replace { 3 } else { 1 }.min(code.len())..];
    if object.first().is_some_and(|token| token.is("temporary")) {
        return None;
    }
    DDL_KINDS.iter().find_map(|(keyword, words, kind)| {
        let names = words.len() <= object.len() && words.iter().zip(object).all(|(word, token)| token.is(word));
        (first.is(keyword) && names).then_some(*kind)
    })
}

/// Where the clause goes in a statement of `kind`, for the error's fix.
fn clause_place(kind: &str) -> &'static str {
    if kind.starts_with("RENAME") {
        "after the last `TO <name>`"
    } else if kind.starts_with("EXCHANGE") {
        "after `AND <name>`"
    } else if kind.starts_with("CREATE") {
        "right after the name, before the column list or `AS`"
    } else {
        "right after the name"
    }
}

/// A statement of a script, scanned once for both rules.
struct Scanned<'a> {
    script: &'a Script,
    text: &'a str,
    offset: usize,
    kind: Option<&'static str>,
    first: usize,
    clause: Option<OnCluster>,
    engine: Option<Engine>,
}

impl Scanned<'_> {
    fn at(&self, offset_in_statement: usize) -> Location {
        let (line, column) = line_column(&self.script.sql, self.offset + offset_in_statement);
        Location::at(self.script.path.as_str(), line, column)
    }
}

fn scan_scripts(clickhouse: &[Migration]) -> Vec<Scanned<'_>> {
    let scripts = clickhouse.iter().flat_map(|migration| [&migration.upgrade, &migration.downgrade]);
    scripts
        .flat_map(|script| {
            script.statements.iter().zip(&script.statement_offsets).map(move |(statement, &offset)| {
                let code = tokens::scan(statement, Dialect::ClickHouse).code;
                Scanned {
                    script,
                    text: statement,
                    offset,
                    kind: ddl_kind(&code),
                    first: code.first().map_or(0, |token| token.offset),
                    clause: clause(&code),
                    engine: find_engine(&code),
                }
            })
        })
        .collect()
}

/// The compile-time rule: once any ClickHouse statement says `ON CLUSTER`, every DDL statement
/// says `ON CLUSTER '{cluster}'`. Without it the statement would run on the node the migrator
/// talks to and nowhere else, and the next run through another node would find a different
/// schema; a named cluster would make the file fail on a single server.
pub fn check(clickhouse: &[Migration], problems: &mut Problems) {
    let statements = scan_scripts(clickhouse);
    let Some(first_use) = statements.iter().find_map(|statement| {
        let clause = statement.clause.as_ref()?;
        Some(statement.at(clause.span.start))
    }) else {
        return;
    };
    for statement in &statements {
        match (&statement.clause, statement.kind) {
            (Some(clause), _) if !clause.placeholder => {
                let name = &statement.text[clause.name.clone()];
                problems
                    .push(ClusterError::NamedCluster { at: statement.at(clause.span.start), name: name.to_owned() });
            }
            (None, Some(kind)) => problems.push(ClusterError::MissingClause {
                at: statement.at(statement.first),
                statement: kind,
                first_use: first_use.clone(),
                place: clause_place(kind),
            }),
            _ => {}
        }
    }
}

/// A table engine as written in a `CREATE`: `ENGINE = Name(arguments)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Engine {
    /// The engine's name.
    pub name: Range<usize>,
    /// Each top-level argument, from its first token to the end of its last.
    pub arguments: Vec<Range<usize>>,
}

/// The table engine of a `CREATE` statement (of a table or a materialized view), if it names one.
pub fn engine(statement: &str) -> Option<Engine> {
    find_engine(&tokens::scan(statement, Dialect::ClickHouse).code)
}

fn find_engine(code: &[Token]) -> Option<Engine> {
    if !code.first().is_some_and(|token| token.is("create")) {
        return None;
    }
    let at = code.iter().position(|token| token.depth == 0 && token.is("engine"))?;
    let mut index = at + 1;
    if code.get(index).is_some_and(|token| token.is_punctuation('=')) {
        index += 1;
    }
    let name = code.get(index).filter(|token| token.kind == Kind::Word)?;
    let mut arguments = Vec::new();
    if code.get(index + 1).is_some_and(|token| token.is_punctuation('(')) {
        let mut current: Option<Range<usize>> = None;
        for token in &code[index + 2..] {
            if token.depth == 0 {
                break; // the closing parenthesis
            }
            if token.depth == 1 && token.is_punctuation(',') {
                arguments.extend(current.take());
                continue;
            }
            let range = current.get_or_insert(token.offset..end(token));
            range.end = end(token);
        }
        arguments.extend(current);
    }
    Some(Engine { name: name.offset..end(name), arguments })
}

/// The value of an argument that is one plain string literal.
fn string_argument<'a>(statement: &'a str, argument: &Range<usize>) -> Option<&'a str> {
    let text = &statement[argument.clone()];
    let scanned = tokens::scan(text, Dialect::ClickHouse).code;
    match scanned.as_slice() {
        [only] if only.kind == Kind::String && text.starts_with('\'') => unquoted(text),
        _ => None,
    }
}

/// A cluster lint warning: a statement that runs, but not as a cluster needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning {
    pub at: Location,
    pub finding: Finding,
}

/// What a [`Warning`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Finding {
    /// A Replicated engine whose ZooKeeper path or replica name lacks these macros.
    ReplicatedWithoutMacros { engine: String, missing: Vec<&'static str> },
    /// A MergeTree engine that is not replicated, in a statement run `ON CLUSTER`.
    NotReplicatedOnCluster { engine: String },
    /// A `Distributed` engine naming this cluster instead of the placeholder.
    DistributedNamesCluster { name: String },
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = &self.at;
        match &self.finding {
            Finding::ReplicatedWithoutMacros { engine, missing } => {
                let missing: Vec<String> = missing.iter().map(|name| format!("`{name}`")).collect();
                write!(
                    f,
                    "{at}: the ZooKeeper path and replica name of `{engine}` lack {}, so replicas of a cluster (or \
                     a second database, such as `verify-downgrades`' scratch one) would claim the same ones; write \
                     `{engine}({REPLICATED_ARGUMENTS})`",
                    missing.join(" and ")
                )
            }
            Finding::NotReplicatedOnCluster { engine } => write!(
                f,
                "{at}: `{engine}` created `ON CLUSTER` is a separate table on each replica, so rows inserted through \
                 one node are missing on the others; write `Replicated{engine}({REPLICATED_ARGUMENTS})`, unless each \
                 shard has one replica"
            ),
            Finding::DistributedNamesCluster { name } => write!(
                f,
                "{at}: `Distributed` names cluster `{name}`; write `'{PLACEHOLDER}'`, so that the same file \
                 serves any cluster"
            ),
        }
    }
}

/// The macros a Replicated engine's (path, replica name) must hold: shard and database keep
/// tables apart in ZooKeeper, the replica macro keeps each server's name its own.
const PATH_MACROS: [&str; 2] = ["{shard}", "{database}"];
const REPLICA_MACRO: &str = "{replica}";

/// Every cluster warning of the plan's ClickHouse scripts, upgrades and downgrades, in plan order.
pub fn lint(plan: &Plan) -> Vec<Warning> {
    let mut warnings = Vec::new();
    for statement in scan_scripts(&plan.clickhouse) {
        let text = statement.text;
        let Some(engine) = &statement.engine else {
            continue;
        };
        let name = &text[engine.name.clone()];
        let at = statement.at(engine.name.start);
        let finding = if strip_prefix_ignore_case(name, "Replicated").is_some() {
            let (Some(path), Some(replica)) = (
                engine.arguments.first().and_then(|argument| string_argument(text, argument)),
                engine.arguments.get(1).and_then(|argument| string_argument(text, argument)),
            ) else {
                continue; // no arguments (the server's defaults), or computed ones
            };
            let mut missing: Vec<&'static str> = PATH_MACROS.into_iter().filter(|&name| !path.contains(name)).collect();
            if !replica.contains(REPLICA_MACRO) {
                missing.push(REPLICA_MACRO);
            }
            if missing.is_empty() {
                continue;
            }
            Finding::ReplicatedWithoutMacros { engine: name.to_owned(), missing }
        } else if ends_with_ignore_case(name, "MergeTree") && statement.clause.is_some() {
            Finding::NotReplicatedOnCluster { engine: name.to_owned() }
        } else if name.eq_ignore_ascii_case("Distributed") {
            let Some(cluster) = engine.arguments.first() else {
                continue;
            };
            let cluster = &text[cluster.clone()];
            if unquoted(cluster) == Some(PLACEHOLDER) {
                continue;
            }
            Finding::DistributedNamesCluster { name: cluster.to_owned() }
        } else {
            continue;
        };
        warnings.push(Warning { at, finding });
    }
    warnings
}

/// `text` without `prefix`, compared ASCII case-insensitively.
pub fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then(|| &text[prefix.len()..])
}

fn ends_with_ignore_case(text: &str, suffix: &str) -> bool {
    text.len() >= suffix.len()
        && text.get(text.len() - suffix.len()..).is_some_and(|tail| tail.eq_ignore_ascii_case(suffix))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Reversal;
    use crate::sql::split_statements;

    fn script(path: &str, sql: &str) -> Script {
        let statements = split_statements(sql, Dialect::ClickHouse).expect("test SQL is closed");
        Script {
            path: path.to_owned(),
            sql: sql.to_owned(),
            statement_offsets: statements.iter().map(|statement| statement.offset).collect(),
            statements: statements.into_iter().map(|statement| statement.text).collect(),
            transactional: true,
        }
    }

    /// ClickHouse migrations `V1`, `V2`, ... from (upgrade, downgrade) texts.
    fn migrations(pairs: &[(&str, &str)]) -> Vec<Migration> {
        pairs
            .iter()
            .enumerate()
            .map(|(index, (upgrade, downgrade))| {
                let name = format!("V{}-m.sql", index + 1);
                Migration {
                    version: index as u64 + 1,
                    description: "m".into(),
                    upgrade: script(&format!("migrations/clickhouse/upgrade/{name}"), upgrade),
                    downgrade: script(&format!("migrations/clickhouse/downgrade/{name}"), downgrade),
                    checksum: String::new(),
                    data: None,
                    reversal: Reversal::Script,
                }
            })
            .collect()
    }

    fn errors(pairs: &[(&str, &str)]) -> Vec<String> {
        let mut problems = Problems::default();
        check(&migrations(pairs), &mut problems);
        problems.iter().map(ToString::to_string).collect()
    }

    fn warnings(pairs: &[(&str, &str)]) -> Vec<String> {
        let plan = Plan { clickhouse: migrations(pairs), ..Plan::default() };
        lint(&plan).iter().map(ToString::to_string).collect()
    }

    #[test]
    fn on_cluster_finds_the_clause_and_whether_it_is_the_placeholder() {
        let statement = "CREATE TABLE t ON CLUSTER '{cluster}' (x UInt8) ENGINE = Memory";
        let clause = on_cluster(statement).expect("a clause");
        assert_eq!(&statement[clause.span.clone()], "ON CLUSTER '{cluster}'");
        assert!(clause.placeholder);
        for quoted in ["`{cluster}`", "\"{cluster}\""] {
            let statement = format!("DROP TABLE t ON CLUSTER {quoted}");
            assert!(on_cluster(&statement).is_some_and(|clause| clause.placeholder), "{statement}");
        }
        let named = on_cluster("ALTER TABLE t on cluster prod ADD COLUMN y UInt8").expect("a clause");
        assert!(!named.placeholder);
        assert_eq!(named.name, 25..29);
    }

    #[test]
    fn on_cluster_ignores_joins_strings_comments_and_parentheses() {
        for statement in [
            "CREATE MATERIALIZED VIEW v TO t AS SELECT * FROM a JOIN b ON cluster = b.cluster",
            "CREATE TABLE t ENGINE = Memory AS SELECT 1 FROM a JOIN b ON cluster = 1",
            "CREATE TABLE t (s String DEFAULT 'ON CLUSTER x') ENGINE = Memory -- ON CLUSTER y",
            "ALTER TABLE t DELETE WHERE x IN (SELECT x FROM a JOIN b ON cluster = 1)",
            "SELECT 1",
        ] {
            assert_eq!(on_cluster(statement), None, "{statement}");
        }
    }

    #[test]
    fn a_project_without_on_cluster_is_not_checked() {
        assert_eq!(
            errors(&[("CREATE TABLE t (x UInt8) ENGINE = MergeTree() ORDER BY x;", "DROP TABLE t;")]),
            Vec::<String>::new()
        );
    }

    #[test]
    fn ddl_without_the_clause_is_an_error_once_any_statement_has_it() {
        let errors = errors(&[
            ("CREATE DATABASE d ON CLUSTER '{cluster}';", "DROP DATABASE d ON CLUSTER '{cluster}';"),
            (
                "SELECT 1;\nCREATE TABLE d.t (x UInt8) ENGINE = Memory;\nINSERT INTO d.t VALUES (1);\n\
                 ALTER TABLE d.t ADD COLUMN y UInt8;\nOPTIMIZE TABLE d.t;",
                "  DROP TABLE IF EXISTS d.t;\nTRUNCATE TABLE d.u;\nRENAME TABLE d.a TO d.b;\nEXCHANGE TABLES d.a AND d.b;",
            ),
        ]);
        let first = "while `migrations/clickhouse/upgrade/V1-m.sql:1:19` uses it, so on a cluster it would change one \
                     replica only; add `ON CLUSTER '{cluster}'`";
        assert_eq!(
            errors,
            [
                format!(
                    "migrations/clickhouse/upgrade/V2-m.sql:2:1: `CREATE TABLE` has no `ON CLUSTER '{{cluster}}'`, \
                     {first} right after the name, before the column list or `AS`"
                ),
                format!(
                    "migrations/clickhouse/upgrade/V2-m.sql:4:1: `ALTER TABLE` has no `ON CLUSTER '{{cluster}}'`, \
                     {first} right after the name"
                ),
                format!(
                    "migrations/clickhouse/downgrade/V2-m.sql:1:3: `DROP TABLE` has no `ON CLUSTER '{{cluster}}'`, \
                     {first} right after the name"
                ),
                format!(
                    "migrations/clickhouse/downgrade/V2-m.sql:2:1: `TRUNCATE TABLE` has no `ON CLUSTER '{{cluster}}'`, \
                     {first} right after the name"
                ),
                format!(
                    "migrations/clickhouse/downgrade/V2-m.sql:3:1: `RENAME TABLE` has no `ON CLUSTER '{{cluster}}'`, \
                     {first} after the last `TO <name>`"
                ),
                format!(
                    "migrations/clickhouse/downgrade/V2-m.sql:4:1: `EXCHANGE TABLES` has no `ON CLUSTER '{{cluster}}'`, \
                     {first} after `AND <name>`"
                ),
            ]
        );
    }

    #[test]
    fn statements_with_the_placeholder_and_temporary_tables_pass() {
        assert_eq!(
            errors(&[(
                "CREATE TABLE IF NOT EXISTS t ON CLUSTER '{cluster}' (x UInt8) ENGINE = Memory;\n\
                 CREATE MATERIALIZED VIEW v ON CLUSTER '{cluster}' TO t AS SELECT x FROM a JOIN b ON cluster = 1;\n\
                 ALTER TABLE t ON CLUSTER '{cluster}' ADD COLUMN y UInt8;\n\
                 RENAME TABLE a TO b, c TO d ON CLUSTER '{cluster}';\n\
                 CREATE TEMPORARY TABLE tmp (x UInt8);\nDROP TEMPORARY TABLE tmp;\nINSERT INTO t VALUES (1);",
                "DROP TABLE t ON CLUSTER `{cluster}` SYNC;\nDETACH TABLE v ON CLUSTER \"{cluster}\";",
            )]),
            Vec::<String>::new()
        );
    }

    #[test]
    fn a_named_cluster_is_an_error_naming_the_placeholder() {
        assert_eq!(
            errors(&[(
                "CREATE TABLE t ON CLUSTER prod (x UInt8) ENGINE = Memory;",
                "DROP TABLE t ON CLUSTER '{cluster}';"
            )]),
            ["migrations/clickhouse/upgrade/V1-m.sql:1:16: `ON CLUSTER prod` names one cluster; write \
              `ON CLUSTER '{cluster}'`, which every server of a cluster expands from its `cluster` macro, so the \
              same file serves any cluster"]
        );
    }

    #[test]
    fn engine_gives_the_name_and_each_top_level_argument() {
        let statement = "CREATE TABLE t (x UInt8) ENGINE = ReplicatedReplacingMergeTree('/p/{shard}', '{replica}', \
                         ver) PARTITION BY toYYYYMM(d) ORDER BY (x, y)";
        let engine = engine(statement).expect("an engine");
        assert_eq!(&statement[engine.name.clone()], "ReplicatedReplacingMergeTree");
        let arguments: Vec<&str> = engine.arguments.iter().map(|argument| &statement[argument.clone()]).collect();
        assert_eq!(arguments, ["'/p/{shard}'", "'{replica}'", "ver"]);
        let nested = "CREATE TABLE d AS t ENGINE = Distributed('{cluster}', db, t, cityHash64(a, b))";
        let engine = super::engine(nested).expect("an engine");
        let arguments: Vec<&str> = engine.arguments.iter().map(|argument| &nested[argument.clone()]).collect();
        assert_eq!(arguments, ["'{cluster}'", "db", "t", "cityHash64(a, b)"]);
        assert_eq!(
            super::engine("CREATE TABLE t (x UInt8) ENGINE Memory").map(|engine| engine.arguments),
            Some(vec![])
        );
        assert_eq!(super::engine("ALTER TABLE t MODIFY SETTING engine = 1"), None);
    }

    #[test]
    fn replicated_engines_need_shard_database_and_replica_macros() {
        let warnings = warnings(&[(
            "CREATE TABLE a ON CLUSTER '{cluster}' (x UInt8)\n\
             ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}') ORDER BY x;\n\
             CREATE TABLE b ON CLUSTER '{cluster}' (x UInt8)\n\
             ENGINE = ReplicatedSummingMergeTree('/clickhouse/tables/01/b', 'replica_1') ORDER BY x;\n\
             CREATE TABLE c ON CLUSTER '{cluster}' (x UInt8) ENGINE = ReplicatedMergeTree ORDER BY x;",
            "DROP TABLE a ON CLUSTER '{cluster}';",
        )]);
        assert_eq!(
            warnings,
            ["migrations/clickhouse/upgrade/V1-m.sql:4:10: the ZooKeeper path and replica name of \
              `ReplicatedSummingMergeTree` lack `{shard}` and `{database}` and `{replica}`, so replicas of a cluster \
              (or a second database, such as `verify-downgrades`' scratch one) would claim the same ones; write \
              `ReplicatedSummingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')`"]
        );
    }

    #[test]
    fn a_plain_merge_tree_on_cluster_is_a_warning_but_not_on_a_single_server() {
        let warnings = warnings(&[(
            "CREATE TABLE a ON CLUSTER '{cluster}' (x UInt8) ENGINE = ReplacingMergeTree() ORDER BY x;\n\
             CREATE TABLE b ON CLUSTER '{cluster}' (x UInt8) ENGINE = Memory;\n\
             CREATE TABLE c (x UInt8) ENGINE = MergeTree() ORDER BY x;",
            "SELECT 1;",
        )]);
        assert_eq!(
            warnings,
            ["migrations/clickhouse/upgrade/V1-m.sql:1:58: `ReplacingMergeTree` created `ON CLUSTER` is a separate \
              table on each replica, so rows inserted through one node are missing on the others; write \
              `ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')`, unless \
              each shard has one replica"]
        );
    }

    #[test]
    fn a_distributed_table_names_the_placeholder_not_a_cluster() {
        let warnings = warnings(&[(
            "CREATE TABLE d ON CLUSTER '{cluster}' AS t ENGINE = Distributed('{cluster}', currentDatabase(), t);\n\
             CREATE TABLE e ON CLUSTER '{cluster}' AS t ENGINE = Distributed(prod, db, t, rand());",
            "SELECT 1;",
        )]);
        assert_eq!(
            warnings,
            ["migrations/clickhouse/upgrade/V1-m.sql:2:53: `Distributed` names cluster `prod`; write `'{cluster}'`, \
              so that the same file serves any cluster"]
        );
    }
}
