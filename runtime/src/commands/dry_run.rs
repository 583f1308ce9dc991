//! `migrate --dry-run`: what `migrate` would send to the servers as they are now, in order, and
//! nothing changed. PostgreSQL and ClickHouse print the exact SQL of `pending_sql`; Kafka the
//! admin operations of its change set; the indicator catalogue the rows its sync would write.
//! Everything that is not SQL is a `--` comment, so the SQL parts can be copied as they are.

use std::io::Write;
use std::time::Instant;

use super::plan_sql::{describe_topic, terminated};
use super::CommandError;
use crate::plan::{Migration, Plan, SqlTarget};
use crate::run::{self, plan_position, Applied, Request};
use crate::targets::clickhouse::ClickHouseTarget;
use crate::targets::indicators::IndicatorsTarget;
use crate::targets::kafka::{ChangeSet, KafkaTarget};
use crate::targets::postgres::PostgresTarget;
use crate::targets::{PlannedStatement, Target, TargetName, VersionedTarget};

/// Prints what `migrate` with `request` would do, target by target in run order.
pub async fn dry_run(request: &Request<'_>, out: &mut dyn Write) -> Result<(), CommandError> {
    let config = request.config;
    let _ = writeln!(out, "-- migrate --dry-run: plan {}; nothing below has been run", request.plan.fingerprint);
    for &name in &request.targets {
        match name {
            TargetName::Postgres => {
                let target = PostgresTarget::new(&config.postgres);
                sql_section(target, config.postgres.describe(), request, SqlTarget::Postgres, out).await?
            }
            TargetName::Clickhouse => {
                let target = ClickHouseTarget::new(&config.clickhouse);
                sql_section(target, config.clickhouse.describe(), request, SqlTarget::ClickHouse, out).await?
            }
            TargetName::Mongodb => {
                let target = crate::targets::mongodb::MongoTarget::new(&config.mongodb);
                sql_section(target, config.mongodb.describe(), request, SqlTarget::MongoDb, out).await?
            }
            TargetName::Kafka => {
                kafka_section(KafkaTarget::new(&config.kafka), config.kafka.describe(), request, out).await?
            }
            TargetName::Indicators => {
                let target = IndicatorsTarget::new(&config.postgres);
                indicators_section(target, config.postgres.describe(), request, out).await?
            }
        }
    }
    let _ = writeln!(out, "\n-- dry run finished; nothing was changed");
    Ok(())
}

async fn connect<T: Target>(target: &mut T, address: &str, request: &Request<'_>) -> Result<(), CommandError> {
    run::log_started(target.name(), address);
    run::wait_for(target, address, request.config.wait, Instant::now(), &Applied::default()).await?;
    Ok(())
}

async fn sql_section<T: VersionedTarget>(
    mut target: T,
    address: String,
    request: &Request<'_>,
    sql_target: SqlTarget,
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    let name = target.name();
    connect(&mut target, &address, request).await?;
    let statements = target
        .pending_sql(request.plan, None)
        .await
        .map_err(|error| CommandError::read(name, "compute the pending SQL", &error))?;
    let _ = write_sql(out, name, &address, request.plan, sql_target, &statements);
    Ok(())
}

/// A header per target and per migration, then each statement as it would be sent, with `;`.
fn write_sql(
    out: &mut dyn Write,
    name: TargetName,
    address: &str,
    plan: &Plan,
    sql_target: SqlTarget,
    statements: &[PlannedStatement],
) -> std::io::Result<()> {
    let mut versions: Vec<u64> = statements.iter().map(|statement| statement.version).collect();
    versions.dedup();
    if versions.is_empty() {
        return writeln!(out, "\n-- {name} at `{address}`: nothing pending ({})", plan_position(plan, name));
    }
    writeln!(out, "\n-- {name} at `{address}`: {} migrations pending", versions.len())?;
    let mut current = None;
    for statement in statements {
        if current != Some(statement.version) {
            current = Some(statement.version);
            writeln!(
                out,
                "\n-- V{} {} ({}){}",
                statement.version,
                statement.description,
                statement.path,
                how_it_runs(plan, sql_target, statement.version)
            )?;
        }
        if sql_target == SqlTarget::MongoDb {
            writeln!(out, "{}", statement.sql)?;
        } else if !statement.sql.is_empty() {
            writeln!(out, "{}", as_sent(&statement.sql))?;
        }
    }
    Ok(())
}

/// How a migration's SQL is sent, as `migrate` does it.
fn how_it_runs(plan: &Plan, sql_target: SqlTarget, version: u64) -> &'static str {
    let migration = plan.migrations(sql_target).iter().find(|migration| migration.version == version);
    if migration.is_some_and(Migration::is_data) {
        return ": Rust data migration, run in one transaction with its history row; its SQL is decided as it runs";
    }
    let transactional = migration.is_some_and(|migration| migration.upgrade.transactional);
    match (sql_target, transactional) {
        (SqlTarget::Postgres, true) => ": sent whole, in one transaction with its history row",
        (SqlTarget::Postgres, false) => ": statement by statement, outside a transaction",
        (SqlTarget::ClickHouse, _) => ": statement by statement, each recorded as it succeeds",
        (SqlTarget::MongoDb, _) => ": database commands (JSON), one by one, each recorded as it succeeds",
    }
}

/// The SQL as sent, ending in `;` (a whole script usually has its own).
fn as_sent(sql: &str) -> String {
    let sql = sql.trim();
    if sql.ends_with(';') {
        sql.to_owned()
    } else {
        terminated(sql)
    }
}

async fn kafka_section(
    mut target: KafkaTarget,
    address: String,
    request: &Request<'_>,
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    connect(&mut target, &address, request).await?;
    let changes = target
        .change_set(request.plan, &request.options)
        .await
        .map_err(|error| CommandError::read(TargetName::Kafka, "read the topics", &error))?;
    let _ = write_kafka(out, &address, request.plan, &changes);
    // The broker judges the creations, so a config it would reject fails here, not in the deploy.
    let validation = target
        .validate(&changes)
        .await
        .map_err(|error| CommandError::read(TargetName::Kafka, "dry-run the topic creations", &error))?;
    if !validation.created_despite_validate_only.is_empty() {
        let _ = writeln!(
            out,
            "--   the broker ignored validate_only and created {}; deleted again, so the creations are not validated",
            validation.created_despite_validate_only.join(", ")
        );
    } else if !validation.accepted.is_empty() {
        let _ = writeln!(out, "--   the broker validated the {} creations (validate_only)", validation.accepted.len());
    }
    Ok(())
}

/// The admin operations in the order `migrate` sends them, then what it would refuse or leave.
fn write_kafka(out: &mut dyn Write, address: &str, plan: &Plan, changes: &ChangeSet<'_>) -> std::io::Result<()> {
    let mut operations: Vec<String> = Vec::new();
    operations.extend(changes.partition_increases.iter().map(|increase| format!("raise {increase}")));
    operations.extend(changes.creates.iter().map(|topic| describe_topic(topic)));
    operations.extend(changes.alters.iter().map(|alter| format!("alter {alter}")));
    operations.extend(changes.deletes.iter().map(|topic| format!("delete topic {topic}")));
    if operations.is_empty() && changes.refusals.is_empty() {
        writeln!(out, "\n-- kafka at `{address}`: nothing pending ({})", plan_position(plan, TargetName::Kafka))?;
    } else {
        writeln!(out, "\n-- kafka at `{address}`: {} admin operations (not SQL)", operations.len())?;
    }
    for operation in &operations {
        writeln!(out, "--   {operation}")?;
    }
    for refusal in &changes.refusals {
        writeln!(out, "--   refused, so migrate would stop before changing any topic: {refusal}")?;
    }
    for topic in &changes.kept_tombstones {
        writeln!(out, "--   would not delete topic {topic} (tombstone): pass --allow-delete")?;
    }
    for topic in &changes.undeclared {
        writeln!(out, "--   left untouched: topic {topic} is not in kafka_topics.yml")?;
    }
    Ok(())
}

async fn indicators_section(
    mut target: IndicatorsTarget,
    address: String,
    request: &Request<'_>,
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    connect(&mut target, &address, request).await?;
    let status = target
        .status(request.plan)
        .await
        .map_err(|error| CommandError::read(TargetName::Indicators, "read the catalogue", &error))?;
    let _ = if status.pending.is_empty() {
        writeln!(
            out,
            "\n-- indicators at `{address}`: nothing pending ({})",
            plan_position(request.plan, TargetName::Indicators)
        )
    } else {
        writeln!(
            out,
            "\n-- indicators at `{address}`: {} rows of system_indicators to write, in one transaction (values bound, \
             not spliced)",
            status.pending.len()
        )
    };
    for line in &status.pending {
        let _ = writeln!(out, "--   {line}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sql_is_printed_as_sent_with_one_terminator() {
        assert_eq!(as_sent("CREATE TABLE a (x int);\n"), "CREATE TABLE a (x int);");
        assert_eq!(as_sent("CREATE TABLE a (x int)"), "CREATE TABLE a (x int);");
        assert_eq!(as_sent("SELECT 1 -- note"), "SELECT 1 -- note\n;");
    }
}
