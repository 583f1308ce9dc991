//! `migrator migrate postgres clickhouse indicators` end to end, through the real binary, against
//! a fresh PostgreSQL database and a fresh ClickHouse database of the stack: the first run applies
//! the repository's plan, the second changes nothing and says so, and `status` reports both states. (Kafka is left out: the plan's
//! topic names are fixed, so a test of them could not run beside the others on one broker.)

mod common;

use std::process::Output;

use chrono::{DateTime, Utc};
use serde_json::Value;
use tradeforge_migrator::PLAN;

use common::binary::migrator_for;

/// `status postgres clickhouse indicators`: the exit code and stdout.
fn status(
    postgres: &common::postgres::TestDatabase,
    clickhouse: &common::clickhouse::TestDatabase,
) -> (Option<i32>, String) {
    let output = migrator_for(postgres, clickhouse)
        .args(["status", "postgres", "clickhouse", "indicators", "--wait", "10s"])
        .output()
        .expect("run migrator status");
    (output.status.code(), String::from_utf8(output.stdout).expect("UTF-8 stdout"))
}

fn migrate(
    postgres: &common::postgres::TestDatabase,
    clickhouse: &common::clickhouse::TestDatabase,
) -> (Output, String, Vec<Value>) {
    let output = migrator_for(postgres, clickhouse)
        .args(["migrate", "postgres", "clickhouse", "indicators", "--wait", "10s"])
        .output()
        .expect("run migrator");
    let stdout = String::from_utf8(output.stdout.clone()).expect("UTF-8 stdout");
    let stderr = String::from_utf8(output.stderr.clone()).expect("UTF-8 stderr");
    assert!(output.status.success(), "migrate failed: {stderr}");
    let logs = stderr
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|error| panic!("not JSON ({error}): {line}")))
        .collect();
    (output, stdout, logs)
}

/// `(version, applied_at)` of PostgreSQL's history, and the active indicators.
async fn postgres_state(database: &common::postgres::TestDatabase) -> (Vec<(i64, DateTime<Utc>)>, Vec<String>) {
    let mut connection = database.connect().await;
    let history = sqlx::query_as("SELECT version, applied_at FROM migration_history ORDER BY version")
        .fetch_all(&mut connection)
        .await
        .expect("read migration_history");
    let indicators = sqlx::query_scalar("SELECT name FROM system_indicators WHERE is_active ORDER BY name")
        .fetch_all(&mut connection)
        .await
        .expect("read system_indicators");
    (history, indicators)
}

async fn clickhouse_versions(database: &common::clickhouse::TestDatabase) -> Vec<u64> {
    database
        .client
        .query("SELECT version FROM migration_history FINAL WHERE status = 'applied' ORDER BY version")
        .fetch_all()
        .await
        .expect("read ClickHouse migration_history")
}

fn finished_events(logs: &[Value]) -> Vec<(&str, u64)> {
    logs.iter()
        .filter(|line| line["event"].as_str().is_some_and(|event| event.ends_with(".finished")))
        .map(|line| (line["event"].as_str().unwrap_or_default(), line["changes"].as_u64().unwrap_or(u64::MAX)))
        .collect()
}

#[tokio::test]
async fn migrate_applies_the_plan_once_and_then_has_nothing_to_do() {
    let postgres = common::postgres::TestDatabase::new().await;
    let clickhouse = common::clickhouse::TestDatabase::new();
    let postgres_versions: Vec<i64> = PLAN.postgres.iter().map(|migration| migration.version as i64).collect();
    let clickhouse_versions_planned: Vec<u64> = PLAN.clickhouse.iter().map(|migration| migration.version).collect();
    let mut indicator_names: Vec<String> = PLAN.indicators.iter().map(|indicator| indicator.name.clone()).collect();
    indicator_names.sort();

    let (code, stdout) = status(&postgres, &clickhouse);
    assert_eq!(code, Some(4), "a fresh database is not at the plan: {stdout}");
    assert!(
        stdout.contains(&format!("postgres: nothing applied yet; {} pending, 0 problems", PLAN.postgres.len())),
        "{stdout}"
    );

    let (_, stdout, logs) = migrate(&postgres, &clickhouse);
    let (history, indicators) = postgres_state(&postgres).await;
    assert_eq!(history.iter().map(|(version, _)| *version).collect::<Vec<_>>(), postgres_versions);
    assert_eq!(indicators, indicator_names);
    assert_eq!(clickhouse_versions(&clickhouse).await, clickhouse_versions_planned);
    assert!(stdout.contains(&format!("postgres: applied {} changes\n", PLAN.postgres.len())), "{stdout}");
    assert!(stdout.contains(&format!("clickhouse: applied {} changes\n", PLAN.clickhouse.len())), "{stdout}");
    let total = PLAN.postgres.len() + PLAN.clickhouse.len() + PLAN.indicators.len();
    assert!(
        stdout.ends_with(&format!(
            "migrate: applied {total} changes; postgres, clickhouse, indicators at the plan {}\n",
            PLAN.fingerprint
        )),
        "{stdout}"
    );
    assert_eq!(logs[0]["event"], "migrator.started");
    assert_eq!(logs[0]["plan_fingerprint"], PLAN.fingerprint);
    assert_eq!(
        finished_events(&logs),
        [
            ("postgresql_migrator.finished", PLAN.postgres.len() as u64),
            ("clickhouse_migrator.finished", PLAN.clickhouse.len() as u64),
            ("indicators_migrator.finished", PLAN.indicators.len() as u64),
            ("migrator.finished", total as u64),
        ]
    );
    let clickhouse_rows_written = clickhouse.history_rows_written().await;

    let (_, stdout, logs) = migrate(&postgres, &clickhouse);
    let last = |migrations: &[tradeforge_migrator::plan::Migration]| {
        migrations.last().map_or(0, |migration| migration.version)
    };
    assert_eq!(
        stdout,
        format!(
            "postgres: up to date (V{})\nclickhouse: up to date (V{})\nindicators: up to date ({} indicators)\n\
             migrate: nothing to do; postgres, clickhouse, indicators at the plan {}\n",
            last(PLAN.postgres),
            last(PLAN.clickhouse),
            PLAN.indicators.len(),
            PLAN.fingerprint
        )
    );
    assert!(finished_events(&logs).iter().all(|(_, changes)| *changes == 0), "{logs:?}");
    // Nothing was touched: the same history rows with the same timestamps, no new ClickHouse rows.
    assert_eq!(postgres_state(&postgres).await, (history, indicator_names));
    assert_eq!(clickhouse.history_rows_written().await, clickhouse_rows_written);

    let (code, stdout) = status(&postgres, &clickhouse);
    assert_eq!(code, Some(0), "{stdout}");
    let last_postgres =
        PLAN.postgres.last().map(|migration| format!("V{} {}", migration.version, migration.description));
    assert!(
        stdout.starts_with(&format!("postgres: at the plan ({})\n", last_postgres.unwrap_or_default())),
        "{stdout}"
    );
    assert!(
        stdout.ends_with(&format!("status: postgres, clickhouse, indicators at the plan {}\n", PLAN.fingerprint)),
        "{stdout}"
    );
}
