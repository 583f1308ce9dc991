//! `plan --sql`: the whole plan as it would run on empty servers, offline, for review (the
//! `alembic upgrade head --sql` of this tool). Migration SQL is printed as written, statement by
//! statement with `;`; topics and indicators are not SQL (admin requests, and an upsert whose
//! values are bound parameters), so they are described in `--` comments, one line each. Nothing
//! here splices a value into SQL. ClickHouse statements are printed as they run: on a single
//! server (`ON CLUSTER '{cluster}'` dropped, Replicated engines plain), or, given a cluster, with
//! its name filled in (`targets::clickhouse::cluster`).

use std::fmt::Write as _;

use crate::plan::{Indicator, Migration, Plan, SqlTarget, Topic};
use crate::targets::{clickhouse, TargetName};

/// The printout for `targets` (in run order).
pub fn render(plan: &Plan, targets: &[TargetName], cluster: Option<&str>) -> String {
    let mut out = String::new();
    write_preamble(&mut out, plan);
    for &target in targets {
        match target {
            TargetName::Postgres => write_migrations(&mut out, SqlTarget::Postgres, plan.postgres, None),
            TargetName::Clickhouse => write_migrations(&mut out, SqlTarget::ClickHouse, plan.clickhouse, cluster),
            TargetName::Mongodb => write_migrations(&mut out, SqlTarget::MongoDb, plan.mongodb, None),
            TargetName::Kafka => write_topics(&mut out, plan.topics),
            TargetName::Indicators => write_indicators(&mut out, &plan.indicators),
        }
    }
    out
}

/// Writing to a `String` cannot fail, so the `fmt::Result`s below are dropped.
fn write_preamble(out: &mut String, plan: &Plan) {
    let _ = writeln!(out, "-- migrator plan --sql: plan {}", plan.fingerprint);
    let _ = writeln!(out, "-- Every upgrade statement, in the order `migrate` runs them on empty servers.");
    let _ = writeln!(out, "-- History rows are not included: after running this SQL by hand, record it with");
    let _ = writeln!(out, "-- `migrator baseline --target <postgres|clickhouse|mongodb> <version>`.");
}

fn write_migrations(out: &mut String, target: SqlTarget, migrations: &[Migration], cluster: Option<&str>) {
    let _ = writeln!(out, "\n-- {}: {} migrations", target.name(), migrations.len());
    if let Some(cluster) = cluster {
        let _ = writeln!(out, "-- (on the cluster `{cluster}`)");
    }
    for migration in migrations {
        let _ = writeln!(out, "\n-- V{} {} ({})", migration.version, migration.description, migration.upgrade.path);
        if migration.is_data() {
            let _ = writeln!(out, "-- (Rust data migration: runs in one transaction; its SQL is decided as it runs)");
            continue;
        }
        if target == SqlTarget::Postgres && !migration.upgrade.transactional {
            let _ = writeln!(out, "-- (runs statement by statement, outside a transaction)");
        }
        if target == SqlTarget::MongoDb {
            let _ = writeln!(out, "-- (database commands, not SQL: one JSON document per line, run in order)");
            for command in migration.upgrade.statements {
                let _ = writeln!(out, "{command}");
            }
            continue;
        }
        for statement in migration.upgrade.statements {
            let statement = match target {
                SqlTarget::ClickHouse => clickhouse::cluster::render(statement, cluster),
                SqlTarget::Postgres | SqlTarget::MongoDb => (*statement).into(),
            };
            let _ = writeln!(out, "{}", terminated(&statement));
        }
    }
}

/// The statement with its `;`. A statement whose last line holds a line comment gets the `;` on
/// a line of its own, where the comment cannot swallow it.
pub fn terminated(statement: &str) -> String {
    let last_line = statement.rsplit('\n').next().unwrap_or(statement);
    if ["--", "#", "//"].iter().any(|marker| last_line.contains(marker)) {
        format!("{statement}\n;")
    } else {
        format!("{statement};")
    }
}

fn write_topics(out: &mut String, topics: &[Topic]) {
    let _ = writeln!(
        out,
        "\n-- kafka: {} topics (admin requests, not SQL; `migrate` creates the missing ones in one",
        topics.len()
    );
    let _ = writeln!(out, "-- CreateTopics request and never deletes one without --allow-delete)");
    for topic in topics {
        let _ = writeln!(out, "--   {}", describe_topic(topic));
    }
}

/// `create topic market.ticks partitions=3 replication_factor=1 retention.ms=604800000`, or the
/// tombstone's delete.
pub fn describe_topic(topic: &Topic) -> String {
    if topic.deleted {
        return format!("delete topic {} (tombstone: only with --allow-delete, if it exists)", topic.name);
    }
    let mut line = format!(
        "create topic {} partitions={} replication_factor={}",
        topic.name, topic.partitions, topic.replication_factor
    );
    for (key, value) in topic.config {
        let _ = write!(line, " {key}={value}");
    }
    line
}

fn write_indicators(out: &mut String, indicators: &[Indicator]) {
    let _ = writeln!(
        out,
        "\n-- indicators: {} definitions, upserted into system_indicators by one statement whose values are",
        indicators.len()
    );
    let _ =
        writeln!(out, "-- bound parameters; one line per indicator: name, category, display name, definition hash,");
    let _ = writeln!(out, "-- parameters, outputs. Rows no longer declared are marked inactive, never deleted.");
    for indicator in indicators {
        let _ = writeln!(out, "--   {}", describe_indicator(indicator));
    }
}

fn describe_indicator(indicator: &Indicator) -> String {
    format!(
        "upsert {} category={} display_name={:?} {} parameters={} outputs={}",
        indicator.name,
        indicator.category.as_str(),
        indicator.display_name,
        indicator.definition_hash,
        indicator.parameters_json,
        indicator.outputs_json
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trailing_line_comment_cannot_swallow_the_semicolon() {
        assert_eq!(terminated("SELECT 1"), "SELECT 1;");
        assert_eq!(terminated("SELECT 1 -- one"), "SELECT 1 -- one\n;");
        assert_eq!(terminated("-- header\nSELECT 1"), "-- header\nSELECT 1;");
    }

    #[test]
    fn topics_spell_out_every_setting() {
        let topic = Topic {
            name: "market.ticks",
            partitions: 3,
            replication_factor: 1,
            config: &[("cleanup.policy", "delete"), ("retention.ms", "86400000")],
            deleted: false,
        };
        assert_eq!(
            describe_topic(&topic),
            "create topic market.ticks partitions=3 replication_factor=1 cleanup.policy=delete retention.ms=86400000"
        );
        let tombstone = Topic { deleted: true, ..topic };
        assert!(describe_topic(&tombstone).starts_with("delete topic market.ticks (tombstone"));
    }
}
