//! The postgres target against the stack's real PostgreSQL, one fresh database per test.

mod common;

use common::postgres::TestDatabase;
use sqlx::PgConnection;
use tradeforge_migrator::config::Secret;
use tradeforge_migrator::plan::{Catalogue, Migration, Plan};
use tradeforge_migrator::targets::postgres::{PostgresError, PostgresTarget};
use tradeforge_migrator::targets::{ApplyOptions, Target};
use tradeforge_migrator::PLAN;

mod failing {
    tradeforge_migrator_macros::plan!("fixtures/pg_failing");
}

mod no_transaction {
    tradeforge_migrator_macros::plan!("fixtures/pg_no_transaction");
}

/// The tables the repository's PostgreSQL migrations create.
const TABLES: [&str; 14] = [
    "alert_rules",
    "api_keys",
    "audit_logs",
    "email_queue",
    "notifications",
    "strategies",
    "strategy_access",
    "strategy_runs",
    "subscriptions",
    "system_indicators",
    "trading_accounts",
    "user_permissions",
    "user_sessions",
    "users",
];

type HistoryRecord = (i64, String, String, chrono::DateTime<chrono::Utc>, i64, String);

async fn history(connection: &mut PgConnection) -> Vec<HistoryRecord> {
    sqlx::query_as(
        "SELECT version, description, checksum, applied_at, execution_ms, downgrade_sql FROM migration_history ORDER BY version",
    )
    .fetch_all(connection)
    .await
    .expect("read migration_history")
}

async fn tables(connection: &mut PgConnection) -> Vec<String> {
    sqlx::query_scalar("SELECT tablename::text FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
        .fetch_all(connection)
        .await
        .expect("list tables")
}

/// A plan of only these PostgreSQL migrations.
fn postgres_plan(migrations: &'static [Migration]) -> Plan {
    Plan {
        fingerprint: "sha256:test",
        postgres: migrations,
        clickhouse: &[],
        mongodb: &[],
        topics: &[],
        indicators: Catalogue::default(),
    }
}

async fn apply(database: &TestDatabase, plan: &Plan) -> Result<Vec<String>, (PostgresError, Vec<String>)> {
    let mut target = PostgresTarget::new(&database.config());
    target.health_check().await.map_err(|error| (error, Vec::new()))?;
    match target.apply(plan, &ApplyOptions::default()).await {
        Ok(changes) => Ok(changes.0),
        Err(failure) => Err((failure.error, failure.done.0)),
    }
}

#[tokio::test]
async fn applies_the_repository_plan_to_a_fresh_database() {
    let database = TestDatabase::new().await;

    let changes = apply(&database, &PLAN).await.expect("apply the repository's plan");

    assert_eq!(changes.len(), PLAN.postgres.len(), "{changes:?}");
    for (change, migration) in changes.iter().zip(PLAN.postgres) {
        let expected = format!("V{} {} (", migration.version, migration.description);
        assert!(change.starts_with(&expected) && change.ends_with(" ms)"), "{change}");
    }
    let mut connection = database.connect().await;
    let tables = tables(&mut connection).await;
    for table in TABLES {
        assert!(tables.iter().any(|name| name == table), "`{table}` missing from {tables:?}");
    }
    assert!(tables.iter().any(|name| name == "migration_history"), "{tables:?}");
    let history = history(&mut connection).await;
    assert_eq!(history.len(), PLAN.postgres.len());
    for (row, migration) in history.iter().zip(PLAN.postgres) {
        assert_eq!(row.0, migration.version as i64);
        assert_eq!(row.1, migration.description);
        assert_eq!(row.2, migration.checksum);
        assert!(row.4 >= 0);
        assert_eq!(row.5, migration.downgrade.sql, "downgrade of V{}", migration.version);
    }
}

#[tokio::test]
async fn second_run_changes_nothing() {
    let database = TestDatabase::new().await;
    apply(&database, &PLAN).await.expect("first run");
    let mut connection = database.connect().await;
    let before = history(&mut connection).await;

    let changes = apply(&database, &PLAN).await.expect("second run");

    assert_eq!(changes, Vec::<String>::new());
    assert_eq!(history(&mut connection).await, before, "history, applied_at included, is unchanged");
}

#[tokio::test]
async fn status_reports_pending_then_current() {
    let database = TestDatabase::new().await;
    let mut target = PostgresTarget::new(&database.config());

    let fresh = target.status(&PLAN).await.expect("status of a fresh database");
    assert_eq!(fresh.current, None);
    assert_eq!(fresh.pending.len(), PLAN.postgres.len(), "{:?}", fresh.pending);
    assert!(tables(&mut database.connect().await).await.is_empty(), "status creates nothing");

    target.apply(&PLAN, &ApplyOptions::default()).await.expect("apply");
    let applied = target.status(&PLAN).await.expect("status after apply");
    let head = PLAN.postgres.last().expect("the repository has PostgreSQL migrations");
    assert_eq!(applied.current, Some(format!("V{} {}", head.version, head.description)));
    assert!(applied.is_at_plan(), "{applied:?}");
    assert_eq!(target.history().await.expect("history").len(), PLAN.postgres.len());
}

#[tokio::test]
async fn failing_migration_rolls_back_and_stops() {
    let database = TestDatabase::new().await;

    let (error, done) = apply(&database, &failing::PLAN).await.expect_err("V2 is broken");

    assert_eq!(done.len(), 1, "{done:?}");
    assert!(done[0].starts_with("V1 ok ("), "{done:?}");
    let message = error.to_string();
    assert!(message.contains("V2 broken"), "{message}");
    assert!(message.contains("V0002-broken.sql:4:1"), "names the file and the line: {message}");
    assert!(message.contains("syntax error at or near \"SELEC\""), "{message}");
    let mut connection = database.connect().await;
    let tables = tables(&mut connection).await;
    assert_eq!(tables, ["first_table", "migration_history"], "V2's table was rolled back, V3 never ran");
    let versions: Vec<i64> = history(&mut connection).await.iter().map(|row| row.0).collect();
    assert_eq!(versions, [1]);
}

#[tokio::test]
async fn no_transaction_migration_creates_an_index_concurrently() {
    let database = TestDatabase::new().await;
    assert!(!no_transaction::PLAN.postgres[1].upgrade.transactional);

    let changes = apply(&database, &no_transaction::PLAN).await.expect("apply");

    assert_eq!(changes.len(), 2, "{changes:?}");
    let mut connection = database.connect().await;
    let valid: Vec<bool> = sqlx::query_scalar(
        "SELECT index.indisvalid FROM pg_index index JOIN pg_class class ON class.oid = index.indexrelid
         WHERE class.relname = 'orders_account_id_idx'",
    )
    .fetch_all(&mut connection)
    .await
    .expect("look up the index");
    assert_eq!(valid, [true]);
    let versions: Vec<i64> = history(&mut connection).await.iter().map(|row| row.0).collect();
    assert_eq!(versions, [1, 2]);
}

#[tokio::test]
async fn database_ahead_of_the_plan_is_refused() {
    let database = TestDatabase::new().await;
    apply(&database, &PLAN).await.expect("the newer release migrates");
    let mut connection = database.connect().await;
    let before = history(&mut connection).await;
    let older = postgres_plan(&PLAN.postgres[..3]);

    let (error, done) = apply(&database, &older).await.expect_err("an older binary must refuse");

    let head = PLAN.postgres.last().expect("migrations");
    let expected = format!("database is at V{}, newer than this binary's plan (head V3): ", head.version);
    assert!(error.to_string().starts_with(&expected), "{error}");
    assert!(error.to_string().contains("downgrade_sql"), "says how to undo: {error}");
    assert!(done.is_empty());
    assert_eq!(history(&mut connection).await, before);
    let status = PostgresTarget::new(&database.config()).status(&older).await.expect("status still works");
    assert_eq!(status.problems.len(), PLAN.postgres.len() - 3, "{:?}", status.problems);
}

#[tokio::test]
async fn edited_migration_is_refused_with_both_checksums() {
    let database = TestDatabase::new().await;
    apply(&database, &postgres_plan(&PLAN.postgres[..1])).await.expect("apply V1");
    let original = &PLAN.postgres[0];
    let edited: &'static [Migration] = Box::leak(Box::new([with_checksum(original, "sha256:edited")]));

    let (error, _) = apply(&database, &postgres_plan(edited)).await.expect_err("edited V1 must be refused");

    let message = error.to_string();
    assert!(message.starts_with(original.upgrade.path), "{message}");
    assert!(message.contains(original.checksum) && message.contains("sha256:edited"), "{message}");
}

fn with_checksum(migration: &'static Migration, checksum: &'static str) -> Migration {
    Migration { checksum, ..*migration }
}

#[tokio::test]
async fn wrong_password_is_named_without_the_password() {
    let database = TestDatabase::new().await;
    let mut config = database.config();
    config.password = Secret::new("not-the-password-4f1c");

    let error = PostgresTarget::new(&config).health_check().await.expect_err("wrong password");

    let message = error.to_string();
    assert!(message.contains(&config.describe()), "names the server: {message}");
    assert!(message.contains("password authentication failed"), "{message}");
    assert!(message.contains("POSTGRES_PASSWORD / DATABASE_URL"), "says what to check: {message}");
    assert!(!message.contains("not-the-password-4f1c"), "{message}");
}

#[tokio::test]
async fn missing_database_is_named_with_how_to_create_it() {
    let database = TestDatabase::new().await;
    let mut config = database.config();
    config.database = format!("{}_missing", database.name);

    let error = PostgresTarget::new(&config).health_check().await.expect_err("no such database");

    let message = error.to_string();
    assert!(message.contains(&format!("database `{}` does not exist", config.database)), "{message}");
    assert!(message.contains(&format!("CREATE DATABASE \"{}\"", config.database)), "{message}");
}

/// TLS is configured through the URL's `sslmode`; a server that does not offer it (the stack's
/// runs without TLS) is refused with a message that names the setting, not silently downgraded.
#[tokio::test]
async fn sslmode_require_against_a_server_without_tls_is_refused_naming_the_setting() {
    let database = TestDatabase::new().await;
    let mut config = database.config();
    config.params.push(("sslmode".to_owned(), "require".to_owned()));

    let error = PostgresTarget::new(&config).health_check().await.expect_err("the stack's server has no TLS");

    let message = error.to_string();
    assert!(message.contains(&config.describe()), "names the server: {message}");
    assert!(message.contains("sslmode"), "names the setting to check: {message}");
}
