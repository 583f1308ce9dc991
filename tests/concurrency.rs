//! Several `migrator migrate` processes against the same servers at once, through the real
//! binary and the repository's plan, on a fresh PostgreSQL database and a fresh ClickHouse
//! database of the stack: the run lock lets one of them apply each migration exactly once, the
//! others wait for it (up to `--lock-timeout`) and then find nothing to do; a migrator that may
//! not wait (`--lock-timeout 0s`) exits 5 and changes nothing.

mod common;

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use tradeforge_migrator::cli::exit_code;
use tradeforge_migrator::targets::postgres::RunLock;
use tradeforge_migrator::PLAN;

/// `migrator --log-format json migrate postgres clickhouse --wait 10s --lock-timeout <lock_timeout>`
/// with only the test databases in its environment.
fn migrate(
    postgres: &common::postgres::TestDatabase,
    clickhouse: &common::clickhouse::TestDatabase,
    lock_timeout: &str,
) -> Command {
    let mut command = common::binary::migrator_for(postgres, clickhouse);
    command
        .args(["migrate", "postgres", "clickhouse", "--wait", "10s", "--lock-timeout"])
        .arg(lock_timeout)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// One finished migrator: exit code, stdout and the `event` of every JSON log line.
struct Finished {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    events: Vec<String>,
}

impl Finished {
    fn of(output: Output) -> Finished {
        let stdout = String::from_utf8(output.stdout).expect("UTF-8 stdout");
        let stderr = String::from_utf8(output.stderr).expect("UTF-8 stderr");
        let events = stderr
            .lines()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .filter_map(|line| line["event"].as_str().map(str::to_owned))
            .collect();
        Finished { code: output.status.code(), stdout, stderr, events }
    }

    /// The change lines (`  V1 users_and_auth (12 ms)`) of stdout.
    fn changes(&self) -> Vec<&str> {
        self.stdout.lines().filter(|line| line.starts_with("  ")).collect()
    }

    fn logged(&self, event: &str) -> bool {
        self.events.iter().any(|logged| logged == event)
    }
}

/// How many migrators (`application_name` `tradeforge-migrator`) are in their run-lock loop on
/// `database`: their session's last statement is the lock attempt or the lookup of its holder.
async fn migrators_waiting_for_the_lock(database: &common::postgres::TestDatabase) -> i64 {
    let mut connection = database.connect().await;
    sqlx::query_scalar(
        "SELECT count(*) FROM pg_stat_activity
         WHERE datname = current_database() AND application_name = 'tradeforge-migrator'
             AND query LIKE '%advisory%' AND pid <> pg_backend_pid()",
    )
    .fetch_one(&mut connection)
    .await
    .expect("read pg_stat_activity")
}

async fn postgres_versions(database: &common::postgres::TestDatabase) -> Vec<i64> {
    let mut connection = database.connect().await;
    sqlx::query_scalar("SELECT version FROM migration_history ORDER BY version")
        .fetch_all(&mut connection)
        .await
        .expect("read migration_history")
}

#[tokio::test]
async fn three_migrators_at_once_apply_each_migration_exactly_once() {
    let postgres = common::postgres::TestDatabase::new().await;
    let clickhouse = common::clickhouse::TestDatabase::new();
    // The test holds the lock until all three wait for it, so that they really start together
    // (rather than one finishing before another's process has even started).
    let held = RunLock::acquire(&postgres.config(), Duration::ZERO).await.expect("the test takes the run lock");
    let children: Vec<_> =
        (0..3).map(|_| migrate(&postgres, &clickhouse, "60s").spawn().expect("start migrator")).collect();
    let started = Instant::now();
    while migrators_waiting_for_the_lock(&postgres).await < 3 {
        assert!(started.elapsed() < Duration::from_secs(30), "the three migrators never all waited for the lock");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    held.release().await.expect("release the run lock");

    let runs: Vec<Finished> = tokio::task::spawn_blocking(move || {
        children.into_iter().map(|child| Finished::of(child.wait_with_output().expect("wait for migrator"))).collect()
    })
    .await
    .expect("the waiting thread");

    for run in &runs {
        assert_eq!(run.code, Some(0), "every migrator succeeds: {}", run.stderr);
        assert!(run.logged("postgresql_migrator.lock_waiting"), "each waited for the lock: {:?}", run.events);
        assert!(run.logged("postgresql_migrator.lock_released"), "{:?}", run.events);
    }
    let (appliers, idle): (Vec<&Finished>, Vec<&Finished>) = runs.iter().partition(|run| !run.changes().is_empty());
    assert_eq!(
        appliers.len(),
        1,
        "exactly one migrator applied anything: {:?}",
        runs.iter().map(|r| &r.stdout).collect::<Vec<_>>()
    );
    let plan_size = PLAN.postgres.len() + PLAN.clickhouse.len();
    assert_eq!(appliers[0].changes().len(), plan_size, "it applied every migration once: {}", appliers[0].stdout);
    for run in idle {
        assert!(run.stdout.contains("postgres: up to date"), "{}", run.stdout);
        assert!(run.stdout.contains("clickhouse: up to date"), "{}", run.stdout);
        assert!(run.stdout.contains("migrate: nothing to do"), "{}", run.stdout);
    }
    let planned: Vec<i64> = PLAN.postgres.iter().map(|migration| migration.version as i64).collect();
    assert_eq!(postgres_versions(&postgres).await, planned, "one PostgreSQL history row per migration");
    let history: Vec<(u64, String, u32, u32)> = clickhouse
        .client
        .query("SELECT version, toString(status), statements_done, statements_total FROM migration_history FINAL ORDER BY version")
        .fetch_all()
        .await
        .expect("read ClickHouse's migration_history");
    assert_eq!(
        history.iter().map(|row| row.0).collect::<Vec<_>>(),
        PLAN.clickhouse.iter().map(|migration| migration.version).collect::<Vec<_>>(),
        "one ClickHouse history entry per migration"
    );
    assert!(history.iter().all(|row| row.1 == "applied" && row.2 == row.3), "nothing partial: {history:?}");
}

#[tokio::test]
async fn a_migrator_that_may_not_wait_exits_5_and_changes_nothing() {
    let postgres = common::postgres::TestDatabase::new().await;
    let clickhouse = common::clickhouse::TestDatabase::new();
    let held = RunLock::acquire(&postgres.config(), Duration::ZERO).await.expect("the test takes the run lock");

    let output = tokio::task::spawn_blocking({
        let mut command = migrate(&postgres, &clickhouse, "0s");
        move || command.output().expect("run migrator")
    })
    .await
    .expect("the waiting thread");

    let run = Finished::of(output);
    assert_eq!(run.code, Some(i32::from(exit_code::LOCKED)), "{}", run.stderr);
    assert!(run.stderr.contains("run lock"), "the error names the lock: {}", run.stderr);
    assert!(run.stderr.contains("nothing was changed"), "{}", run.stderr);
    assert!(run.changes().is_empty(), "{}", run.stdout);
    let mut connection = postgres.connect().await;
    let tables: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
        .fetch_one(&mut connection)
        .await
        .expect("read pg_tables");
    assert_eq!(tables, 0, "PostgreSQL was not touched");
    assert!(!clickhouse.exists().await, "ClickHouse was not touched (its database was not even created)");
    held.release().await.expect("release the run lock");
}
