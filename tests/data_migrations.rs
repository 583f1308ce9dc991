//! PostgreSQL data migrations written in Rust (`migrations/postgres/data/*.rs`), against the
//! stack's real PostgreSQL, one fresh database per test: they run in version order between the
//! SQL migrations, each in a transaction with its history row, and `down` runs their downgrade.
//! The compile-time rules (missing downgrade, shared versions) are in `tests/ui/`.

mod common;

use common::plan::plan_of;
use common::postgres::{history_versions, TestDatabase};
use sqlx::PgConnection;
use tradeforge_migrator::plan::SqlTarget;
use tradeforge_migrator::targets::postgres::PostgresTarget;
use tradeforge_migrator::targets::{VersionTarget, VersionedTarget};
use tradeforge_migrator_spec::data::STORED_DOWNGRADE_PREFIX;

/// V1 accounts, V2 seed_accounts (SQL), V3 backfill_display_names (Rust), V4 display_name_required.
mod sources {
    tradeforge_migrator::plan!("fixtures/pg_data");
}

/// V1 accounts, V2 refuse_unknown_domains (Rust: inserts a row, then fails).
mod failing {
    tradeforge_migrator::plan!("fixtures/pg_data_failing");
}

/// The change lines without their ` (12 ms)` tail.
fn lines(changes: &[String]) -> Vec<String> {
    changes.iter().map(|change| change.rsplit_once(" (").map_or(change.clone(), |(line, _)| line.to_owned())).collect()
}

async fn display_names(connection: &mut PgConnection) -> Vec<(String, Option<String>)> {
    sqlx::query_as("SELECT email, display_name FROM accounts ORDER BY email")
        .fetch_all(connection)
        .await
        .expect("read accounts")
}

fn named(email: &str, name: Option<&str>) -> (String, Option<String>) {
    (email.to_owned(), name.map(str::to_owned))
}

#[test]
fn the_plan_holds_the_data_migration_in_version_order() {
    let described: Vec<(u64, &str, bool)> = sources::PLAN
        .postgres
        .iter()
        .map(|migration| (migration.version, migration.description, migration.is_data()))
        .collect();
    assert_eq!(
        described,
        [
            (1, "accounts", false),
            (2, "seed_accounts", false),
            (3, "backfill_display_names", true),
            (4, "display_name_required", false)
        ]
    );
    let rendered = sources::PLAN.render();
    assert!(
        rendered.contains("  V3 backfill_display_names  sha256:",)
            && rendered.contains(
                "    data      migrations/postgres/data/backfill_display_names.rs (Rust, upgrade and downgrade)"
            ),
        "{rendered}"
    );
}

#[tokio::test]
async fn up_runs_the_data_migration_between_the_sql_ones_and_records_it() {
    let database = TestDatabase::new().await;
    let mut target = PostgresTarget::new(&database.config());

    let changes = target.upgrade_to(&sources::PLAN, None).await.expect("up");

    assert_eq!(
        lines(&changes.0),
        ["V1 accounts", "V2 seed_accounts", "V3 backfill_display_names", "V4 display_name_required"]
    );
    let mut connection = database.connect().await;
    assert_eq!(
        display_names(&mut connection).await,
        [
            named("ada.lovelace@example.com", Some("Ada Lovelace")),
            named("grace@example.com", Some("Grace")),
            named("linus@example.com", Some("Linus"))
        ]
    );
    let entries = target.history_entries().await.expect("history");
    let data = &entries[2];
    assert_eq!((data.version, data.description.as_str()), (3, "backfill_display_names"));
    assert_eq!(data.checksum, sources::PLAN.postgres[2].checksum);
    assert!(data.downgrade_sql.starts_with(STORED_DOWNGRADE_PREFIX), "{}", data.downgrade_sql);

    let again = target.upgrade_to(&sources::PLAN, None).await.expect("up again");
    assert_eq!(again.0, Vec::<String>::new(), "nothing pending");
}

#[tokio::test]
async fn down_runs_the_data_migration_downgrade_and_up_restores_it() {
    let database = TestDatabase::new().await;
    let mut target = PostgresTarget::new(&database.config());
    target.upgrade_to(&sources::PLAN, None).await.expect("up");
    let mut connection = database.connect().await;
    let migrated = display_names(&mut connection).await;

    let changes = target.downgrade_to(&sources::PLAN, VersionTarget::Version(2)).await.expect("down to V2");

    assert_eq!(lines(&changes.0), ["V4 display_name_required undone", "V3 backfill_display_names undone"]);
    assert_eq!(history_versions(&mut connection).await, [1, 2]);
    assert!(display_names(&mut connection).await.iter().all(|(_, name)| name.is_none()));

    target.upgrade_to(&sources::PLAN, None).await.expect("up again");
    assert_eq!(display_names(&mut connection).await, migrated);
    assert_eq!(history_versions(&mut connection).await, [1, 2, 3, 4]);

    target.downgrade_to(&sources::PLAN, VersionTarget::Base).await.expect("down to base");
    assert_eq!(history_versions(&mut connection).await, Vec::<i64>::new());
}

#[tokio::test]
async fn a_failing_data_migration_is_rolled_back_whole_and_not_recorded() {
    let database = TestDatabase::new().await;
    let mut target = PostgresTarget::new(&database.config());

    let failure = target.upgrade_to(&failing::PLAN, None).await.expect_err("V2 fails");

    assert_eq!(lines(&failure.done.0), ["V1 accounts"]);
    let message = failure.error.to_string();
    assert!(
        message.starts_with(
            "migrations/postgres/data/refuse_unknown_domains.rs: upgrade of V2 refuse_unknown_domains failed on"
        ),
        "{message}"
    );
    assert!(message.contains("accounts with the domain `unknown.invalid` cannot be migrated"), "{message}");
    assert!(message.contains("its transaction was rolled back"), "{message}");
    let mut connection = database.connect().await;
    assert_eq!(display_names(&mut connection).await, [], "the row inserted before the error was rolled back");
    assert_eq!(history_versions(&mut connection).await, [1]);
}

#[tokio::test]
async fn an_older_release_cannot_undo_a_data_migration_it_does_not_know() {
    let database = TestDatabase::new().await;
    let mut target = PostgresTarget::new(&database.config());
    target.upgrade_to(&sources::PLAN, None).await.expect("up with the newer release");
    // The release before V3 existed: its plan ends at V2.
    let older = plan_of(SqlTarget::Postgres, &sources::PLAN.postgres[..2]);

    let failure = target.downgrade_to(&older, VersionTarget::Version(2)).await.expect_err("refused");

    let message = failure.error.to_string();
    assert!(
        message.contains("V3 backfill_display_names is a Rust data migration that this release does not know"),
        "{message}"
    );
    assert!(message.contains("run `down` with that release"), "{message}");
    assert!(failure.done.0.is_empty(), "nothing undone: {:?}", failure.done.0);
    assert_eq!(history_versions(&mut database.connect().await).await, [1, 2, 3, 4]);
}

/// `(plan, limits)` of every subscription, by plan.
async fn subscription_limits(connection: &mut PgConnection) -> Vec<(String, serde_json::Value)> {
    sqlx::query_as("SELECT plan, limits FROM subscriptions ORDER BY plan")
        .fetch_all(connection)
        .await
        .expect("read subscriptions")
}

#[tokio::test]
async fn the_repository_data_migration_fills_plan_limits_and_gives_them_back() {
    let plan = &tradeforge_migrator::PLAN;
    let data = plan.postgres.iter().find(|migration| migration.is_data()).expect("the repository has one");
    assert_eq!((data.version, data.description), (8, "subscription_limits"));
    let database = TestDatabase::new().await;
    let mut target = PostgresTarget::new(&database.config());
    target.upgrade_to(plan, Some(data.version - 1)).await.expect("up to the version before");
    let mut connection = database.connect().await;
    sqlx::raw_sql(
        "INSERT INTO users (id, email, username, password_hash) VALUES
             ('00000000-0000-0000-0000-000000000001', 'ada@example.com', 'ada', 'x'),
             ('00000000-0000-0000-0000-000000000002', 'linus@example.com', 'linus', 'x');
         INSERT INTO subscriptions (user_id, plan, limits, current_period_end) VALUES
             ('00000000-0000-0000-0000-000000000001', 'pro', '{}', now() + interval '30 days'),
             ('00000000-0000-0000-0000-000000000002', 'free', '{\"max_strategies\": 3}', now() + interval '30 days');",
    )
    .execute(&mut connection)
    .await
    .expect("rows written by the application");
    let before = subscription_limits(&mut connection).await;

    target.upgrade_to(plan, Some(data.version)).await.expect("up to the data migration");

    let pro = serde_json::json!({ "max_strategies": 25, "max_live_accounts": 5, "max_backtests_per_day": 500 });
    let hand_set = serde_json::json!({ "max_strategies": 3 });
    assert_eq!(
        subscription_limits(&mut connection).await,
        [("free".to_owned(), hand_set), ("pro".to_owned(), pro)],
        "the default is filled in, the hand-set limits are kept"
    );

    target.downgrade_to(plan, VersionTarget::Version(data.version - 1)).await.expect("down");
    assert_eq!(subscription_limits(&mut connection).await, before);
}
