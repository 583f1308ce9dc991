//! Declared downgrades on the stack's real servers: `down` crosses a `-- migrator:no-op`
//! migration running nothing (its history row goes, its data stays), and refuses to cross a
//! `-- migrator:irreversible` one before undoing anything, on both SQL targets.

mod common;

use tradeforge_migrator::targets::clickhouse::ClickHouseTarget;
use tradeforge_migrator::targets::postgres::PostgresTarget;
use tradeforge_migrator::targets::versioned::VersionedError;
use tradeforge_migrator::targets::{VersionTarget, VersionedTarget};

mod pg_declared {
    tradeforge_migrator_macros::plan!("fixtures/verify_pg_declared");
}

mod ch_declared {
    tradeforge_migrator_macros::plan!("fixtures/ch_declared");
}

#[tokio::test]
async fn postgres_down_crosses_a_no_op_and_stops_before_an_irreversible_migration() {
    // The plan's text form shows what each declared downgrade says, for review.
    let rendered = pg_declared::PLAN.render();
    assert!(
        rendered.contains(
            "    downgrade migrations/postgres/downgrade/V3-admin.sql (declared no-op: the admin account is harmless \
             in an older schema)"
        ),
        "{rendered}"
    );
    assert!(rendered.contains("V1-accounts.sql (declared irreversible: accounts hold customer data"), "{rendered}");

    let database = common::postgres::TestDatabase::new().await;
    let mut target = PostgresTarget::new(&database.config());
    target.upgrade_to(&pg_declared::PLAN, None).await.expect("apply V1..V4");

    target.downgrade_to(&pg_declared::PLAN, VersionTarget::Version(2)).await.expect("undo V4 and the no-op V3");
    let mut connection = database.connect().await;
    assert_eq!(common::postgres::history_versions(&mut connection).await, [1, 2]);
    let admins: i64 =
        sqlx::query_scalar("SELECT count(*) FROM accounts").fetch_one(&mut connection).await.expect("count");
    assert_eq!(admins, 1, "the no-op downgrade ran nothing");

    let failure = target.downgrade_to(&pg_declared::PLAN, VersionTarget::Base).await.expect_err("V1 is irreversible");
    let Some(VersionedError::Irreversible(error)) = failure.error.versioned() else {
        panic!("unexpected error: {}", failure.error);
    };
    assert_eq!(error.version, 1);
    assert!(
        failure.error.to_string().starts_with(
            "postgres: V1 accounts cannot be undone: accounts hold customer data from here on (its downgrade says \
             `-- migrator:irreversible`), so nothing was undone"
        ),
        "{}",
        failure.error
    );
    assert!(failure.done.is_empty(), "nothing was undone");
    assert_eq!(common::postgres::history_versions(&mut connection).await, [1, 2], "V2 was not undone either");
}

#[tokio::test]
async fn clickhouse_down_crosses_a_no_op_and_stops_before_an_irreversible_migration() {
    let database = common::clickhouse::TestDatabase::new();
    let mut target = ClickHouseTarget::new(&database.config);
    target.upgrade_to(&ch_declared::PLAN, None).await.expect("apply V1..V3");

    target.downgrade_to(&ch_declared::PLAN, VersionTarget::Version(2)).await.expect("undo the no-op V3");
    let versions = |entries: Vec<tradeforge_migrator::targets::HistoryEntry>| {
        entries.iter().map(|entry| entry.version).collect::<Vec<_>>()
    };
    assert_eq!(versions(target.history_entries().await.expect("history")), [1, 2]);
    let rows: u64 = database.client.query("SELECT count() FROM prices").fetch_one().await.expect("count prices");
    assert_eq!(rows, 1, "the no-op downgrade ran nothing");

    let failure = target.downgrade_to(&ch_declared::PLAN, VersionTarget::Base).await.expect_err("V2 is irreversible");
    assert!(
        matches!(failure.error.versioned(), Some(VersionedError::Irreversible(error)) if error.version == 2),
        "{}",
        failure.error
    );
    assert!(failure.error.to_string().contains("the deleted rows are gone"), "{}", failure.error);
    assert_eq!(versions(target.history_entries().await.expect("history")), [1, 2], "nothing was undone");
    assert_eq!(database.table_names().await, ["migration_history", "prices"]);
}
