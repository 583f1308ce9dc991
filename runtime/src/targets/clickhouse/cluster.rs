//! A migration statement as the server it runs on needs it: the same files serve a single server
//! and a cluster (`tradeforge_migrator_spec::cluster` has the rules the build checks).
//!
//! On a cluster, `ON CLUSTER '{cluster}'` names the configured cluster, and so does a
//! `Distributed('{cluster}', ...)` engine. (ClickHouse, 18.16 too, would also expand `{cluster}`
//! from a server's `<macros>`, but filling it in needs no such macro and makes the statement the
//! same on every node.) Replicated engine paths keep their `{shard}`, `{database}`, `{table}` and
//! `{replica}` macros, which each replica expands itself.
//!
//! On a single server the clause goes, and a Replicated engine of such a statement becomes the
//! engine it replicates (`ReplicatedReplacingMergeTree('/p', '{replica}', ver)` →
//! `ReplacingMergeTree(ver)`), since a single server has no ZooKeeper to replicate through. A
//! statement written without the placeholder runs as written, so a project that never uses
//! `ON CLUSTER` (or one that runs Replicated tables on one server with ZooKeeper) is unchanged.
//!
//! Every result parses on 18.16 and on current releases: the clause is dropped as a whole, and a
//! MergeTree engine keeps its parentheses (`MergeTree()`), which both accept.

use std::borrow::Cow;
use std::ops::Range;

use tradeforge_migrator_spec::cluster::{self as rules, PLACEHOLDER};

/// `statement` for a server of `cluster` (`Some` with the cluster's name), or for a single server.
pub fn render<'a>(statement: &'a str, cluster: Option<&str>) -> Cow<'a, str> {
    let clause = rules::on_cluster(statement).filter(|clause| clause.placeholder);
    let engine = rules::engine(statement);
    let mut edits: Vec<(Range<usize>, String)> = Vec::new();
    match cluster {
        Some(name) => {
            let quoted = string_literal(name);
            if let Some(clause) = &clause {
                edits.push((clause.name.clone(), quoted.clone()));
            }
            let distributed_placeholder = engine.as_ref().and_then(|engine| {
                let argument = engine.arguments.first()?;
                let named = statement[engine.name.clone()].eq_ignore_ascii_case("Distributed");
                (named && is_placeholder(&statement[argument.clone()])).then(|| argument.clone())
            });
            if let Some(argument) = distributed_placeholder {
                edits.push((argument, quoted));
            }
        }
        None => {
            let Some(clause) = &clause else {
                return Cow::Borrowed(statement);
            };
            edits.push((without_clause(statement, clause.span.clone()), String::new()));
            if let Some(engine) = &engine {
                edits.extend(unreplicated(statement, engine));
            }
        }
    }
    apply(statement, edits)
}

/// The clause's range, widened by the blank space before it when blank space or the end follows
/// it, so that one separator stays (a newline before it is kept: it may end a `--` comment).
fn without_clause(statement: &str, span: Range<usize>) -> Range<usize> {
    let after = &statement[span.end..];
    if !(after.is_empty() || after.starts_with(char::is_whitespace)) {
        return span;
    }
    let before = &statement[..span.start];
    let start = before.trim_end_matches([' ', '\t']).len();
    start..span.end
}

/// The edits that turn a `Replicated*` engine into the one it replicates: the name loses its
/// prefix, the arguments their first two (the ZooKeeper path and the replica name).
fn unreplicated(statement: &str, engine: &rules::Engine) -> Vec<(Range<usize>, String)> {
    let name = &statement[engine.name.clone()];
    let Some(plain) = rules::strip_prefix_ignore_case(name, "Replicated") else {
        return Vec::new();
    };
    let mut edits = vec![(engine.name.clone(), plain.to_owned())];
    match engine.arguments.as_slice() {
        [path, _, next, ..] => edits.push((path.start..next.start, String::new())),
        [path, replica] => edits.push((path.start..replica.end, String::new())),
        _ => {}
    }
    edits
}

fn is_placeholder(text: &str) -> bool {
    let quoted = ['\'', '"', '`']
        .iter()
        .any(|&quote| text.strip_prefix(quote).and_then(|rest| rest.strip_suffix(quote)) == Some(PLACEHOLDER));
    quoted && text.len() == PLACEHOLDER.len() + 2
}

/// A ClickHouse string literal: backslash and quote escaped, as both 18.16 and current releases read it.
fn string_literal(value: &str) -> String {
    let mut literal = String::with_capacity(value.len() + 2);
    literal.push('\'');
    for character in value.chars() {
        if matches!(character, '\\' | '\'') {
            literal.push('\\');
        }
        literal.push(character);
    }
    literal.push('\'');
    literal
}

/// `statement` with each range replaced; the ranges do not overlap.
fn apply(statement: &str, mut edits: Vec<(Range<usize>, String)>) -> Cow<'_, str> {
    if edits.is_empty() {
        return Cow::Borrowed(statement);
    }
    edits.sort_by_key(|(range, _)| range.start);
    let mut rendered = String::with_capacity(statement.len() + 16);
    let mut copied = 0;
    for (range, replacement) in edits {
        rendered.push_str(&statement[copied..range.start]);
        rendered.push_str(&replacement);
        copied = range.end;
    }
    rendered.push_str(&statement[copied..]);
    Cow::Owned(rendered)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CREATE: &str = "CREATE TABLE ticks ON CLUSTER '{cluster}' (id UInt64, price Float64)\n\
                          ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')\n\
                          ORDER BY id";

    #[test]
    fn on_a_cluster_the_placeholder_becomes_the_cluster_and_the_engine_stays() {
        assert_eq!(
            render(CREATE, Some("tfm_cluster")),
            "CREATE TABLE ticks ON CLUSTER 'tfm_cluster' (id UInt64, price Float64)\n\
             ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')\n\
             ORDER BY id"
        );
        assert_eq!(
            render("ALTER TABLE ticks ON CLUSTER `{cluster}` ADD COLUMN venue String", Some("prod")),
            "ALTER TABLE ticks ON CLUSTER 'prod' ADD COLUMN venue String"
        );
    }

    #[test]
    fn on_a_single_server_the_clause_goes_and_replicated_engines_become_plain() {
        assert_eq!(
            render(CREATE, None),
            "CREATE TABLE ticks (id UInt64, price Float64)\nENGINE = MergeTree()\nORDER BY id"
        );
        assert_eq!(
            render(
                "CREATE TABLE s ON CLUSTER '{cluster}' (k UInt8, v UInt64, ver UInt32) \
                 ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', ver) \
                 ORDER BY k",
                None
            ),
            "CREATE TABLE s (k UInt8, v UInt64, ver UInt32) ENGINE = ReplacingMergeTree(ver) ORDER BY k"
        );
        // The old syntax's date column, key and granularity stay.
        assert_eq!(
            render(
                "CREATE TABLE o ON CLUSTER '{cluster}' (d Date, k UInt8) \
                 ENGINE = ReplicatedMergeTree('/t/{shard}/{database}/o', '{replica}', d, (k), 8192)",
                None
            ),
            "CREATE TABLE o (d Date, k UInt8) ENGINE = MergeTree(d, (k), 8192)"
        );
    }

    #[test]
    fn the_clause_goes_with_the_blank_space_before_it_but_never_a_newline() {
        for (statement, single) in [
            ("DROP TABLE IF EXISTS ticks ON CLUSTER '{cluster}'", "DROP TABLE IF EXISTS ticks"),
            ("RENAME TABLE a TO b, c TO d ON CLUSTER '{cluster}'", "RENAME TABLE a TO b, c TO d"),
            ("CREATE DATABASE d ON CLUSTER '{cluster}'\tENGINE = Ordinary", "CREATE DATABASE d\tENGINE = Ordinary"),
            ("TRUNCATE TABLE t ON CLUSTER '{cluster}'", "TRUNCATE TABLE t"),
            (
                "CREATE TABLE t -- ticks\nON CLUSTER '{cluster}'\n(x UInt8) ENGINE = Memory",
                "CREATE TABLE t -- ticks\n\n(x UInt8) ENGINE = Memory",
            ),
            ("CREATE VIEW v ON CLUSTER '{cluster}'AS SELECT 1", "CREATE VIEW v AS SELECT 1"),
        ] {
            assert_eq!(render(statement, None), single, "{statement}");
        }
    }

    #[test]
    fn a_distributed_engine_names_the_cluster_on_a_cluster_only() {
        let statement = "CREATE TABLE d ON CLUSTER '{cluster}' AS ticks ENGINE = Distributed('{cluster}', currentDatabase(), ticks, rand())";
        assert_eq!(
            render(statement, Some("tfm_cluster")),
            "CREATE TABLE d ON CLUSTER 'tfm_cluster' AS ticks ENGINE = Distributed('tfm_cluster', currentDatabase(), ticks, rand())"
        );
        assert_eq!(
            render(statement, None),
            "CREATE TABLE d AS ticks ENGINE = Distributed('{cluster}', currentDatabase(), ticks, rand())"
        );
    }

    #[test]
    fn statements_without_the_placeholder_are_left_as_written() {
        for statement in [
            "CREATE TABLE r (x UInt8) ENGINE = ReplicatedMergeTree('/p/{shard}', '{replica}') ORDER BY x",
            "INSERT INTO t VALUES ('ON CLUSTER ''{cluster}''')",
            "SELECT * FROM a JOIN b ON cluster = '{cluster}'",
            "ALTER TABLE t ON CLUSTER prod ADD COLUMN y UInt8",
        ] {
            for cluster in [None, Some("tfm_cluster")] {
                assert!(matches!(render(statement, cluster), Cow::Borrowed(_)), "{statement} for {cluster:?}");
            }
        }
    }

    #[test]
    fn the_cluster_name_is_quoted_as_a_string_literal() {
        assert_eq!(
            render("DROP DATABASE d ON CLUSTER '{cluster}'", Some(r"it's\odd")),
            r"DROP DATABASE d ON CLUSTER 'it\'s\\odd'"
        );
    }
}
