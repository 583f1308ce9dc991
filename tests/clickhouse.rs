//! The ClickHouse target against the stack's real server (`scripts/stack up`,
//! `eval "$(scripts/stack env)"`): each test migrates a database of its own and checks what the
//! server holds afterwards.

mod common;

use std::time::Duration;

use common::clickhouse::TestDatabase;
use common::plan::{leak, plan_of};
use tradeforge_migrator::config::{ClickHouseConfig, Secret};
use tradeforge_migrator::plan::{Migration, Plan, SqlTarget};
use tradeforge_migrator::targets::clickhouse::{ClickHouseError, ClickHouseTarget, HistoryRow, MigrationState};
use tradeforge_migrator::targets::versioned::VersionedError;
use tradeforge_migrator::targets::{ApplyOptions, Changes, Failure, Target};

/// V1 applies; V2's second statement reads a table no migration creates; V3 comes after.
mod partial {
    tradeforge_migrator_macros::plan!("fixtures/ch_partial");
}

/// One script whose strings and comments hold `;`, `--`, `/*` and `?`.
mod strings {
    tradeforge_migrator_macros::plan!("fixtures/ch_strings");
}

const REPOSITORY_TABLES: [&str; 12] = [
    "backtest_results",
    "genetic_population",
    "indicators",
    "monte_carlo_simulations",
    "ohlcv_data",
    "optimization_results",
    "portfolio_snapshots",
    "signals",
    "strategy_metrics",
    "tick_data",
    "trades",
    "walk_forward_results",
];

/// `migrations` with the upgrade of `version` given another checksum, as if its file was
/// edited after it was applied.
fn edited(migrations: &'static [Migration], version: u64) -> &'static [Migration] {
    let migrations: Vec<Migration> = migrations
        .iter()
        .map(|migration| Migration {
            checksum: if migration.version == version { "sha256:edited" } else { migration.checksum },
            ..*migration
        })
        .collect();
    leak(migrations)
}

async fn apply(target: &mut ClickHouseTarget, plan: &Plan) -> Result<Changes, Failure<ClickHouseError>> {
    target.apply(plan, &ApplyOptions::default()).await
}

fn row(history: &[HistoryRow], version: u64) -> &HistoryRow {
    history.iter().find(|row| row.version == version).unwrap_or_else(|| panic!("V{version} in {history:#?}"))
}

/// The version and statement number a failed statement names.
fn stopped_at(error: &ClickHouseError) -> Option<(u64, usize)> {
    match error {
        ClickHouseError::Statement { migration, number, .. } => Some((migration.version, *number)),
        _ => None,
    }
}

#[tokio::test]
async fn applies_the_repository_plan_into_a_database_it_creates() {
    let database = TestDatabase::new();
    assert!(!database.exists().await);
    let mut target = ClickHouseTarget::new(&database.config);
    target.health_check().await.expect("health check");

    let changes = apply(&mut target, &tradeforge_migrator::PLAN).await.expect("apply");

    assert!(database.exists().await);
    let plan = tradeforge_migrator::PLAN.clickhouse;
    assert_eq!(changes.0.len(), plan.len(), "{changes:?}");
    assert!(changes.0[1].starts_with("V2 indicators_and_signals (2 statements, "), "{changes:?}");
    let tables = database.tables().await;
    for table in REPOSITORY_TABLES {
        assert!(
            tables.iter().any(|(name, engine)| name == table && engine.ends_with("MergeTree")),
            "{table} in {tables:?}"
        );
    }
    assert!(tables.contains(&("ohlcv_daily_mv".to_owned(), "MaterializedView".to_owned())), "{tables:?}");
    let history = target.history().await.expect("history");
    assert_eq!(history.len(), plan.len());
    for (row, migration) in history.iter().zip(plan) {
        assert_eq!(row.version, migration.version);
        assert_eq!(row.description, migration.description);
        assert_eq!(row.state, MigrationState::Applied);
        assert_eq!(row.checksum, migration.checksum);
        assert_eq!(row.downgrade_sql, migration.downgrade.sql);
        assert_eq!(row.statements_done as usize, migration.upgrade.statements.len());
        assert_eq!(row.statements_total, row.statements_done);
        assert!(row.error.is_empty(), "{row:?}");
    }
}

#[tokio::test]
async fn a_second_run_changes_nothing() {
    let database = TestDatabase::new();
    let mut target = ClickHouseTarget::new(&database.config);
    apply(&mut target, &tradeforge_migrator::PLAN).await.expect("first apply");
    let history = target.history().await.expect("history");
    let rows_written = database.history_rows_written().await;

    let changes = apply(&mut target, &tradeforge_migrator::PLAN).await.expect("second apply");

    assert!(changes.is_empty(), "{changes:?}");
    assert_eq!(target.history().await.expect("history"), history);
    assert_eq!(database.history_rows_written().await, rows_written);
    let status = target.status(&tradeforge_migrator::PLAN).await.expect("status");
    assert!(status.is_at_plan(), "{status:?}");
    assert_eq!(status.current.as_deref(), Some("V5 ohlcv_daily_mv"));
}

#[tokio::test]
async fn status_before_the_first_run_lists_everything_pending_and_creates_nothing() {
    let database = TestDatabase::new();
    let mut target = ClickHouseTarget::new(&database.config);

    let status = target.status(&tradeforge_migrator::PLAN).await.expect("status");

    assert_eq!(status.current, None);
    assert_eq!(status.pending.len(), tradeforge_migrator::PLAN.clickhouse.len(), "{status:?}");
    assert!(status.problems.is_empty(), "{status:?}");
    assert!(!database.exists().await);
    assert!(target.history().await.expect("history").is_empty());
}

#[tokio::test]
async fn a_failure_half_way_is_recorded_and_the_next_run_resumes_at_the_failed_statement() {
    let database = TestDatabase::new();
    let mut target = ClickHouseTarget::new(&database.config);

    // V2's statement 2 reads `source`, which does not exist: V1 and V2's statement 1 stay.
    let failure = apply(&mut target, &partial::PLAN).await.expect_err("V2 fails");
    assert_eq!(failure.done.0.len(), 1, "{failure:?}");
    assert!(failure.done.0[0].starts_with("V1 base (1 statement, "), "{failure:?}");
    let message = failure.error.to_string();
    assert_eq!(stopped_at(&failure.error), Some((2, 2)), "{message}");
    let expected = format!(
        "{}:7: V2 copies stopped at statement 2/3 \
         (`CREATE TABLE second_copy ENGINE = Memory AS SELECT id, note FROM source`) on `{}`: ",
        partial::PLAN.clickhouse[1].upgrade.path,
        database.config.describe()
    );
    assert!(message.starts_with(&expected), "{message}");
    assert!(message.contains("source") && message.contains("resumes at statement 2/3"), "{message}");
    assert_eq!(database.table_names().await, ["base", "first_copy", "migration_history"]);
    let history = target.history().await.expect("history");
    assert_eq!(history.len(), 2, "{history:#?}");
    let v2 = row(&history, 2);
    assert_eq!((v2.state, v2.statements_done, v2.statements_total), (MigrationState::Partial, 1, 3));
    assert!(v2.error.contains("source"), "{v2:?}");
    assert_eq!(v2.checksum, partial::PLAN.clickhouse[1].checksum);
    let status = target.status(&partial::PLAN).await.expect("status");
    assert_eq!(status.current.as_deref(), Some("V1 base"));
    assert!(status.problems[0].starts_with("V2 copies stopped at statement 2/3 ("), "{status:?}");
    assert!(status.pending[0].ends_with("V2-copies.sql): resume at statement 2/3"), "{status:?}");

    // Not fixed yet: the run starts at statement 2 again (statement 1 would fail with "already
    // exists" if it ran twice) and stops there again, before V3.
    let failure = apply(&mut target, &partial::PLAN).await.expect_err("V2 still fails");
    let message = failure.error.to_string();
    assert!(failure.done.is_empty(), "{failure:?}");
    assert_eq!(stopped_at(&failure.error), Some((2, 2)), "{message}");
    assert!(message.contains("V2 copies stopped again at statement 2/3"), "{message}");
    assert_eq!(database.table_names().await, ["base", "first_copy", "migration_history"]);
    let v2 = row(&target.history().await.expect("history"), 2).clone();
    assert_eq!((v2.state, v2.statements_done), (MigrationState::Partial, 1));

    // The operator creates the missing table; the run resumes at statement 2 and finishes.
    database.execute("CREATE TABLE source (id UInt32, note String) ENGINE = Memory").await;
    database.execute("INSERT INTO source VALUES (7, 'by hand')").await;
    let changes = apply(&mut target, &partial::PLAN).await.expect("resumed apply");

    assert_eq!(changes.0.len(), 2, "{changes:?}");
    assert!(changes.0[0].starts_with("V2 copies (resumed at statement 2/3, "), "{changes:?}");
    assert!(changes.0[1].starts_with("V3 after (1 statement, "), "{changes:?}");
    assert_eq!(
        database.table_names().await,
        ["after_copies", "base", "first_copy", "migration_history", "second_copy", "source", "third_copy"]
    );
    let copied: Vec<(u32, String)> =
        database.client.query("SELECT id, note FROM second_copy").fetch_all().await.expect("read second_copy");
    assert_eq!(copied, [(7, "by hand".to_owned())]);
    let history = target.history().await.expect("history");
    assert!(history.iter().all(|row| row.state == MigrationState::Applied), "{history:#?}");
    let v2 = row(&history, 2);
    assert_eq!((v2.statements_done, v2.statements_total), (3, 3));
    assert!(v2.error.is_empty(), "{v2:?}");
    assert!(target.status(&partial::PLAN).await.expect("status").is_at_plan());
}

#[tokio::test]
async fn a_partial_migration_whose_file_changed_is_refused() {
    let database = TestDatabase::new();
    let mut target = ClickHouseTarget::new(&database.config);
    apply(&mut target, &partial::PLAN).await.expect_err("V2 fails");
    database.execute("CREATE TABLE source (id UInt32, note String) ENGINE = Memory").await;

    let plan = plan_of(SqlTarget::ClickHouse, edited(partial::PLAN.clickhouse, 2));
    let failure = apply(&mut target, &plan).await.expect_err("refused");

    let message = failure.error.to_string();
    assert!(
        matches!(failure.error.versioned(), Some(VersionedError::EditedAfterPartial { version: 2, done: 1, .. })),
        "{message}"
    );
    assert!(message.contains("`sha256:edited`") && message.contains(partial::PLAN.clickhouse[1].checksum), "{message}");
    assert!(!database.table_names().await.contains(&"second_copy".to_owned()));
    let v2 = row(&target.history().await.expect("history"), 2).clone();
    assert_eq!((v2.state, v2.statements_done), (MigrationState::Partial, 1));
}

#[tokio::test]
async fn semicolons_in_strings_and_comments_do_not_split_statements() {
    let database = TestDatabase::new();
    let mut target = ClickHouseTarget::new(&database.config);
    assert_eq!(strings::PLAN.clickhouse[0].upgrade.statements.len(), 3);

    let changes = apply(&mut target, &strings::PLAN).await.expect("apply");

    assert!(changes.0[0].starts_with("V1 notes (3 statements, "), "{changes:?}");
    let notes: Vec<(u32, String)> =
        database.client.query("SELECT id, body FROM notes ORDER BY id").fetch_all().await.expect("read notes");
    let expected = ["a;b", "it's; fine", "back'slash;", "-- not a comment; really", "why?", "/* not a comment; */"];
    let expected: Vec<(u32, String)> = (1..).zip(expected.map(str::to_owned)).collect();
    assert_eq!(notes, expected);
}

#[tokio::test]
async fn a_database_ahead_of_the_plan_is_refused() {
    let database = TestDatabase::new();
    let mut target = ClickHouseTarget::new(&database.config);
    apply(&mut target, &tradeforge_migrator::PLAN).await.expect("apply");
    let history = target.history().await.expect("history");

    // An older binary, whose plan ends at V3.
    let older = plan_of(SqlTarget::ClickHouse, &tradeforge_migrator::PLAN.clickhouse[..3]);
    let failure = apply(&mut target, &older).await.expect_err("refused");

    let message = failure.error.to_string();
    assert!(
        matches!(failure.error.versioned(), Some(VersionedError::AheadOfPlan { database_head: 5, plan_head: 3, .. })),
        "{message}"
    );
    assert!(message.contains("V4 research, V5 ohlcv_daily_mv") && message.contains(database.name()), "{message}");
    assert!(failure.done.is_empty());
    assert_eq!(target.history().await.expect("history"), history);
    let status = target.status(&older).await.expect("status");
    assert_eq!(status.problems.len(), 2, "{status:?}");
}

#[tokio::test]
async fn an_applied_migration_whose_file_changed_is_refused() {
    let database = TestDatabase::new();
    let mut target = ClickHouseTarget::new(&database.config);
    apply(&mut target, &plan_of(SqlTarget::ClickHouse, &tradeforge_migrator::PLAN.clickhouse[..2]))
        .await
        .expect("apply V1 and V2");

    let plan = plan_of(SqlTarget::ClickHouse, edited(tradeforge_migrator::PLAN.clickhouse, 2));
    let failure = apply(&mut target, &plan).await.expect_err("refused");

    let message = failure.error.to_string();
    let original = &tradeforge_migrator::PLAN.clickhouse[1];
    assert!(message.starts_with(&format!("{}: V2 was applied", original.upgrade.path)), "{message}");
    assert!(message.contains(&format!("`{}`", original.checksum)) && message.contains("`sha256:edited`"), "{message}");
    assert!(!database.table_names().await.contains(&"trades".to_owned()), "V3 must not run");
    let status = target.status(&plan).await.expect("status");
    assert!(status.problems.iter().any(|problem| problem.contains("`sha256:edited`")), "{status:?}");
}

#[tokio::test]
async fn a_wrong_password_is_reported_without_the_password() {
    let database = TestDatabase::new();
    let config = ClickHouseConfig { password: Secret::new("not-the-password-42"), ..database.config.clone() };
    let mut target = ClickHouseTarget::new(&config);

    let error = target.health_check().await.expect_err("refused");

    let message = error.to_string();
    assert!(matches!(error, ClickHouseError::Authentication { .. }), "{message}");
    assert!(message.contains(&format!("`{}`", config.describe())), "{message}");
    assert!(message.contains("CLICKHOUSE_PASSWORD"), "{message}");
    assert!(!message.contains("not-the-password-42"), "{message}");
}

#[tokio::test]
async fn an_unreachable_server_is_named_with_what_to_check() {
    let config = ClickHouseConfig {
        url: "http://127.0.0.1:1".to_owned(),
        user: "default".to_owned(),
        password: Secret::new("secret-7"),
        database: "tfm_unreachable".to_owned(),
        bounds: tradeforge_migrator::config::Bounds::default(),
        cluster: None,
    };
    let mut target = ClickHouseTarget::new(&config);

    let error = target.health_check().await.expect_err("unreachable");

    let message = error.to_string();
    assert!(matches!(error, ClickHouseError::Unreachable { .. }), "{message}");
    assert!(
        message.starts_with("cannot reach ClickHouse at `http://default@127.0.0.1:1/tfm_unreachable`"),
        "{message}"
    );
    assert!(message.contains("CLICKHOUSE_URL") && !message.contains("secret-7"), "{message}");
}

/// V1's second statement uses `DateTime64`, which the stack's ClickHouse 18.16 does not know.
mod too_new {
    tradeforge_migrator_macros::plan!("fixtures/ch_too_new");
}

/// A server too old for a statement: the run stops with one error naming the migration, the
/// statement and the server's own words, and the history records only what succeeded.
#[tokio::test]
async fn a_statement_the_server_is_too_old_for_stops_the_run_with_the_history_honest() {
    let database = TestDatabase::new();
    let mut target = ClickHouseTarget::new(&database.config);

    let failure = apply(&mut target, &too_new::PLAN).await.expect_err("ClickHouse 18.16 has no DateTime64");

    let message = failure.error.to_string();
    assert!(!message.contains('\n'), "one line: {message}");
    assert!(message.contains("V1 quotes") && message.contains("statement 2/2"), "{message}");
    assert!(message.contains("DateTime64"), "the server's reason is kept: {message}");
    assert!(failure.done.is_empty(), "{failure:?}");
    let history = target.history().await.expect("history");
    assert_eq!(history.len(), 1, "{history:?}");
    assert_eq!((history[0].state, history[0].statements_done), (MigrationState::Partial, 1));
    assert!(database.table_names().await.contains(&"quotes".to_owned()));
}

/// `https://` in CLICKHOUSE_URL turns TLS on; against the stack's plain HTTP port the handshake
/// fails, and the error names the server instead of falling back to plain HTTP.
#[tokio::test]
async fn https_against_a_plain_http_port_is_refused_naming_the_server() {
    let database = TestDatabase::new();
    let url = database.config.url.replacen("http://", "https://", 1);
    // The server may answer the TLS handshake with an error, or wait for the end of a request it
    // cannot parse: then the connect bound (--io-timeout) ends it.
    let bounds = tradeforge_migrator::config::Bounds { io_timeout: Duration::from_secs(2), ..database.config.bounds };
    let config = ClickHouseConfig { url, bounds, ..database.config.clone() };
    let mut target = ClickHouseTarget::new(&config);

    let error = target.health_check().await.expect_err("the stack's ClickHouse speaks plain HTTP");

    let message = error.to_string();
    assert!(message.contains(&format!("`{}`", config.describe())), "{message}");
    assert!(message.contains("https://"), "{message}");
}
