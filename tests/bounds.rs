//! Nothing waits forever, and a failure says what happened: against the stack's servers (which
//! keep running; the faults come from a proxy of the test's own and from sessions it opens).
//!
//! - another session holds a table lock: the migration fails within `--migration-lock-timeout`
//!   naming the blocking pid and its statement, records nothing, and the next run converges;
//! - a connection stalls mid-run (PostgreSQL, ClickHouse): the run ends within `--io-timeout`
//!   with a message naming the server, the bound and the setting;
//! - a wrong password or a missing database fails at once, not after `--wait`.
//!
//! The bounds asserted on elapsed time are generous (several times the configured ones), so the
//! tests do not depend on a fast machine; without the bounds these runs would hang for good.

mod common;

use std::time::{Duration, Instant};

use tradeforge_migrator::cli::exit_code;
use tradeforge_migrator::config::{Config, Environment, Overrides};
use tradeforge_migrator::plan::Plan;
use tradeforge_migrator::run::{self, Request, RunError};
use tradeforge_migrator::targets::postgres::PostgresTarget;
use tradeforge_migrator::targets::{ApplyOptions, Target, TargetName, VersionedTarget};

mod pg {
    tradeforge_migrator_macros::plan!("fixtures/bounds_pg");
}

mod ch {
    tradeforge_migrator_macros::plan!("fixtures/bounds_ch");
}

mod pg_slow {
    tradeforge_migrator_macros::plan!("fixtures/bounds_pg_slow");
}

use common::postgres::{database_url, history_versions, TestDatabase};

/// The configuration the binary would load from these variables, with `--wait 60s`.
fn config(pairs: &[(&str, &str)]) -> Config {
    let overrides = Overrides { wait: Some("60s".to_owned()), ..Overrides::default() };
    Config::load(&Environment::from_pairs(pairs.iter().copied()), &overrides).expect("a valid configuration")
}

async fn migrate(plan: &Plan, config: &Config, target: TargetName) -> Result<run::Applied, RunError> {
    let request = Request { plan, config, targets: vec![target], options: ApplyOptions::default() };
    run::migrate(&request, &mut std::io::sink()).await
}

/// `host:port` of a URL, for the proxy's upstream.
fn upstream(url: &str) -> String {
    let url = url::Url::parse(url).expect("a URL");
    format!("{}:{}", url.host_str().expect("a host"), url.port_or_known_default().expect("a port"))
}

// PostgreSQL: a table lock held by another session -------------------------------------------

#[tokio::test]
async fn a_migration_blocked_by_a_table_lock_names_the_blocker_records_nothing_and_converges_later() {
    let database = TestDatabase::new().await;
    let url = database_url(&database.config());
    let config = config(&[("DATABASE_URL", &url), ("MIGRATOR_MIGRATION_LOCK_TIMEOUT", "3s")]);
    PostgresTarget::new(&config.postgres).upgrade_to(&pg::PLAN, Some(1)).await.expect("V1 applies");
    let mut holder = database.connect().await;
    let holder_pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()").fetch_one(&mut holder).await.expect("pid");
    sqlx::raw_sql("BEGIN; LOCK TABLE orders IN ACCESS EXCLUSIVE MODE").execute(&mut holder).await.expect("lock");

    let started = Instant::now();
    let error = migrate(&pg::PLAN, &config, TargetName::Postgres).await.expect_err("V2 waits for the lock");

    assert!(started.elapsed() < Duration::from_secs(30), "bounded by the lock timeout: {:?}", started.elapsed());
    assert_eq!(error.exit_code(), exit_code::FAILED, "{error}");
    let message = run::error_chain(&error);
    eprintln!("the run failed: {message}");
    assert!(message.contains("V2 order_note"), "names the migration: {message}");
    assert!(message.contains("SQLSTATE 55P03"), "{message}");
    assert!(message.contains("3s (--migration-lock-timeout)"), "names the bound and the setting: {message}");
    assert!(message.contains(&format!("pid {holder_pid}")), "names the blocking session: {message}");
    assert!(message.contains("LOCK TABLE orders IN ACCESS EXCLUSIVE MODE"), "and its statement: {message}");
    assert!(message.contains(&format!("pg_terminate_backend({holder_pid})")), "{message}");
    assert!(message.contains("re-running is safe"), "{message}");
    assert!(!message.contains("fix the file"), "the file is not at fault: {message}");
    let mut check = database.connect().await;
    assert_eq!(history_versions(&mut check).await, [1], "V2 is not recorded");

    sqlx::raw_sql("ROLLBACK").execute(&mut holder).await.expect("release the lock");
    let applied = migrate(&pg::PLAN, &config, TargetName::Postgres).await.expect("the next run converges");
    assert_eq!(applied.change_count(), 1, "{applied}");
    assert_eq!(history_versions(&mut check).await, [1, 2]);
    let columns: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM information_schema.columns WHERE table_name = 'orders' AND column_name = 'note'",
    )
    .fetch_one(&mut check)
    .await
    .expect("read the columns");
    assert_eq!(columns, 1, "V2 ran once");
}

/// A server restart or failover ends the migrator's session (SQLSTATE 57P01, as
/// `pg_terminate_backend` does); that is not the file's fault, and the message says so.
#[tokio::test]
async fn a_session_ended_by_the_server_is_not_the_files_fault_and_re_running_is_safe() {
    let database = TestDatabase::new().await;
    let config = config(&[("DATABASE_URL", &database_url(&database.config()))]);
    PostgresTarget::new(&config.postgres).upgrade_to(&pg::PLAN, Some(1)).await.expect("V1 applies");
    let mut holder = database.connect().await;
    sqlx::raw_sql("BEGIN; LOCK TABLE orders IN ACCESS EXCLUSIVE MODE").execute(&mut holder).await.expect("lock");

    let (result, ()) = tokio::join!(migrate(&pg::PLAN, &config, TargetName::Postgres), async {
        // The migrator's session, once it waits for the lock, is ended as a restart would end it.
        let mut admin = database.connect().await;
        for _ in 0..200 {
            let ended: Option<bool> = sqlx::query_scalar(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                 WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%ALTER TABLE orders%'",
            )
            .fetch_optional(&mut admin)
            .await
            .expect("look for the waiting session");
            if ended == Some(true) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        sqlx::raw_sql("ROLLBACK").execute(&mut holder).await.expect("release the lock");
    });

    let error = result.expect_err("the session was ended");
    let message = run::error_chain(&error);
    eprintln!("the run failed: {message}");
    assert!(message.contains("SQLSTATE 57P01"), "{message}");
    assert!(message.contains("the server ended the session"), "says what happened: {message}");
    assert!(message.contains("re-running is safe"), "{message}");
    assert!(!message.contains("fix the file"), "{message}");
    let applied = migrate(&pg::PLAN, &config, TargetName::Postgres).await.expect("the next run converges");
    assert_eq!(applied.change_count(), 1, "{applied}");
}

/// Another migrator (one run without the run lock) records the same version while this one runs
/// it: the duplicate history row (SQLSTATE 23505) rolls this run's transaction back, so the
/// migration ran once, and the message says so instead of "fix the file".
#[tokio::test]
async fn a_version_recorded_at_the_same_time_by_another_migrator_is_reported_as_such() {
    let database = TestDatabase::new().await;
    let config = config(&[("DATABASE_URL", &database_url(&database.config()))]);
    PostgresTarget::new(&config.postgres).upgrade_to(&pg::PLAN, Some(1)).await.expect("V1 applies");
    let mut other = database.connect().await;
    // The other migrator is inside V2: it holds the table and is about to commit its row.
    sqlx::raw_sql(
        "BEGIN; LOCK TABLE orders IN ACCESS EXCLUSIVE MODE;
         INSERT INTO migration_history (version, description, checksum, execution_ms, downgrade_sql)
         VALUES (2, 'order_note', 'sha256:other', 1, '')",
    )
    .execute(&mut other)
    .await
    .expect("the other migrator's transaction");

    let (result, ()) = tokio::join!(migrate(&pg::PLAN, &config, TargetName::Postgres), async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        sqlx::raw_sql("COMMIT").execute(&mut other).await.expect("the other migrator commits");
    });

    let error = result.expect_err("the duplicate row is refused");
    let message = run::error_chain(&error);
    eprintln!("the run failed: {message}");
    assert!(message.contains("another migrator applied and recorded V2"), "{message}");
    assert!(message.contains("re-running is safe"), "{message}");
    let mut check = database.connect().await;
    let columns: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM information_schema.columns WHERE table_name = 'orders' AND column_name = 'note'",
    )
    .fetch_one(&mut check)
    .await
    .expect("read the columns");
    assert_eq!(columns, 0, "this run's ALTER was rolled back");
    assert_eq!(history_versions(&mut check).await, [1, 2], "the other migrator's row stays");
}

#[tokio::test]
async fn a_statement_longer_than_the_statement_timeout_is_cancelled_naming_the_setting() {
    let database = TestDatabase::new().await;
    let config = config(&[("DATABASE_URL", &database_url(&database.config())), ("MIGRATOR_STATEMENT_TIMEOUT", "1s")]);

    let error = migrate(&pg_slow::PLAN, &config, TargetName::Postgres).await.expect_err("cancelled");

    let message = run::error_chain(&error);
    eprintln!("the run failed: {message}");
    assert!(message.contains("SQLSTATE 57014"), "{message}");
    assert!(message.contains("longer than 1s (--statement-timeout"), "{message}");
    assert!(message.contains("re-running is safe"), "{message}");
    let mut check = database.connect().await;
    let table: Option<String> =
        sqlx::query_scalar("SELECT to_regclass('slow_marker')::text").fetch_one(&mut check).await.expect("look");
    assert_eq!(table, None, "rolled back");
}

// PostgreSQL: stalled connections ------------------------------------------------------------

/// The configuration of `database` through `proxy`, with `--io-timeout 2s`; the run lock goes
/// straight to the server, as `MIGRATOR_LOCK_DATABASE_URL` allows, so that only the migrating
/// connection stalls.
fn through_proxy(database: &TestDatabase, proxy: &common::proxy::Proxy) -> Config {
    let direct = database_url(&database.config());
    let mut proxied = url::Url::parse(&direct).expect("a URL");
    let proxy_address = url::Url::parse(&proxy.http_url()).expect("the proxy's URL");
    proxied.set_port(proxy_address.port()).expect("a port");
    proxied.set_host(proxy_address.host_str()).expect("a host");
    config(&[
        ("DATABASE_URL", proxied.as_str()),
        ("MIGRATOR_LOCK_DATABASE_URL", &direct),
        ("MIGRATOR_IO_TIMEOUT", "2s"),
    ])
}

#[tokio::test]
async fn a_postgres_connection_stalled_mid_migration_ends_within_the_io_timeout_and_converges_later() {
    let database = TestDatabase::new().await;
    let proxy = common::proxy::Proxy::start(&format!("{}:{}", database.config().host, database.config().port)).await;
    let config = through_proxy(&database, &proxy);
    proxy.stall_after("bounds_stall_point");

    let started = Instant::now();
    let error = migrate(&pg::PLAN, &config, TargetName::Postgres).await.expect_err("the connection stalls");

    assert!(proxy.fired(), "the proxy saw V2");
    assert!(started.elapsed() < Duration::from_secs(40), "bounded: {:?}", started.elapsed());
    let message = run::error_chain(&error);
    eprintln!("the run failed: {message}");
    assert!(message.contains("V2 order_note"), "names the migration: {message}");
    assert!(message.contains("within 2s (--io-timeout)"), "names the bound: {message}");
    assert!(message.contains("MIGRATOR_IO_TIMEOUT"), "names the setting: {message}");
    assert!(message.contains(&config.postgres.describe()), "names the server: {message}");
    assert!(message.contains("already applied: postgres V1 orders"), "{message}");

    proxy.restore();
    let direct = config_direct(&database);
    let applied = migrate(&pg::PLAN, &direct, TargetName::Postgres).await.expect("the next run converges");
    assert!(applied.change_count() <= 1, "V2 at most once more: {applied}");
    let mut check = database.connect().await;
    assert_eq!(history_versions(&mut check).await, [1, 2]);
}

fn config_direct(database: &TestDatabase) -> Config {
    config(&[("DATABASE_URL", &database_url(&database.config()))])
}

#[tokio::test]
async fn a_postgres_connection_stalled_between_requests_ends_within_the_io_timeout() {
    let database = TestDatabase::new().await;
    let proxy = common::proxy::Proxy::start(&format!("{}:{}", database.config().host, database.config().port)).await;
    let config = through_proxy(&database, &proxy);
    let mut target = PostgresTarget::new(&config.postgres);
    target.health_check().await.expect("reachable through the proxy");
    proxy.stall();

    let started = Instant::now();
    let error = target.apply(&pg::PLAN, &ApplyOptions::default()).await.expect_err("the connection stalls").error;

    assert!(started.elapsed() < Duration::from_secs(20), "bounded: {:?}", started.elapsed());
    let message = error.to_string();
    eprintln!("the run failed: {message}");
    assert!(message.contains("did not answer within 2s (--io-timeout)"), "{message}");
    assert!(message.contains("reading `migration_history`"), "says what it was doing: {message}");
    proxy.restore();
    let mut check = database.connect().await;
    let tables: Option<String> = sqlx::query_scalar("SELECT to_regclass('orders')::text")
        .fetch_one(&mut check)
        .await
        .expect("look for the table");
    assert_eq!(tables, None, "nothing ran");
}

// ClickHouse: a stalled connection -----------------------------------------------------------

#[tokio::test]
async fn a_clickhouse_connection_stalled_mid_migration_ends_within_the_io_timeout() {
    let database = common::clickhouse::TestDatabase::new();
    let proxy = common::proxy::Proxy::start(&upstream(&database.config.url)).await;
    let config = config(&[
        ("CLICKHOUSE_URL", &proxy.http_url()),
        ("CLICKHOUSE_USER", &database.config.user),
        ("CLICKHOUSE_PASSWORD", database.config.password.expose()),
        ("CLICKHOUSE_DB", database.name()),
        ("MIGRATOR_IO_TIMEOUT", "2s"),
    ]);
    proxy.stall_after("bounds_stall_point");

    let started = Instant::now();
    let error = migrate(&ch::PLAN, &config, TargetName::Clickhouse).await.expect_err("the connection stalls");

    assert!(proxy.fired(), "the proxy saw statement 2 of V2");
    assert!(started.elapsed() < Duration::from_secs(40), "bounded: {:?}", started.elapsed());
    let message = run::error_chain(&error);
    eprintln!("the run failed: {message}");
    assert!(message.contains("V2 event_notes"), "names the migration: {message}");
    assert!(message.contains("--io-timeout"), "names the setting: {message}");
    assert!(message.contains(&config.clickhouse.describe()), "names the server: {message}");
    proxy.restore();
}

// Permanent errors fail at once --------------------------------------------------------------

#[tokio::test]
async fn a_wrong_password_or_a_missing_database_fails_at_once_with_its_own_message() {
    let database = TestDatabase::new().await;
    let mut wrong_password = database.config();
    wrong_password.password = tradeforge_migrator::config::Secret::new("not-the-password-5e2d");
    let mut missing = database.config();
    missing.database = format!("{}_missing", database.name);
    for (config, expected) in [
        (&wrong_password, "password authentication failed".to_owned()),
        (&missing, format!("CREATE DATABASE \"{}\"", missing.database)),
    ] {
        let config = self::config(&[("DATABASE_URL", &database_url(config))]);
        let started = Instant::now();
        let error = migrate(&pg::PLAN, &config, TargetName::Postgres).await.expect_err("refused");
        assert!(started.elapsed() < Duration::from_secs(30), "not retried for --wait 60s: {:?}", started.elapsed());
        assert!(matches!(error, RunError::Refused { .. }), "{error}");
        assert_eq!(error.exit_code(), exit_code::UNREACHABLE);
        let message = run::error_chain(&error);
        eprintln!("the run failed: {message}");
        assert!(message.contains(&expected), "{message}");
        assert!(message.contains("not retried"), "{message}");
        assert!(!message.contains("raise `--wait`"), "{message}");
        assert!(!message.contains("not-the-password-5e2d"), "{message}");
    }
}
