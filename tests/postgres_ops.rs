//! The postgres target's operator operations (`up --to`, `down`, `baseline`, `repair`, the dry
//! run's SQL, history) and its drift refusals, against the stack's real PostgreSQL, one fresh
//! database per test. Schemas are compared as `pg_dump --schema-only` prints them.

mod common;

use common::plan::{leak, plan_of};
use common::postgres::{history_versions, TestDatabase};
use sqlx::PgConnection;
use tradeforge_migrator::plan::{Migration, Script, SqlTarget};
use tradeforge_migrator::targets::postgres::{PostgresError, PostgresTarget};
use tradeforge_migrator::targets::{EntryState, Failure, Target, VersionTarget, VersionedTarget};

mod ops {
    tradeforge_migrator_macros::plan!("fixtures/pg_ops");
}

/// V1 accounts, V2 orders, V3 orders_indexes (no transaction), V4 account_orders.
fn ops() -> &'static [Migration] {
    ops::PLAN.postgres
}

/// The change lines without their ` (12 ms)` tail.
fn lines(changes: &[String]) -> Vec<String> {
    changes
        .iter()
        .map(|change| {
            assert!(change.ends_with(" ms)"), "{change}");
            change.rsplit_once(" (").map_or(change.clone(), |(line, _)| line.to_owned())
        })
        .collect()
}

fn failure_of<T: std::fmt::Debug>(result: Result<T, Failure<PostgresError>>) -> (String, Vec<String>) {
    let failure = result.expect_err("refused");
    (failure.error.to_string(), failure.done.0)
}

/// `name (kind)` of every relation, type and function in `public`.
async fn objects(connection: &mut PgConnection) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT relname::text || ' (' || relkind::text || ')' FROM pg_class
         WHERE relnamespace = 'public'::regnamespace
         UNION ALL SELECT typname::text || ' (type)' FROM pg_type
         WHERE typnamespace = 'public'::regnamespace AND typtype = 'e'
         UNION ALL SELECT proname::text || ' (function)' FROM pg_proc WHERE pronamespace = 'public'::regnamespace
         ORDER BY 1",
    )
    .fetch_all(connection)
    .await
    .expect("list objects")
}

/// `pg_dump --schema-only` of the database, without the `\restrict` / `\unrestrict` lines that
/// pg_dump 15.14+ writes with a random key.
fn schema_dump(database: &TestDatabase) -> String {
    let config = database.config();
    let output = std::process::Command::new("pg_dump")
        .args(["--schema-only", "--no-owner", "--no-privileges", "--host", &config.host])
        .args(["--port", &config.port.to_string(), "--username", &config.user, "--dbname", &config.database])
        .env("PGPASSWORD", config.password.expose())
        .output()
        .expect("run pg_dump (installed with postgresql-client by scripts/stack)");
    assert!(output.status.success(), "pg_dump failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout)
        .expect("UTF-8 dump")
        .lines()
        .filter(|line| !line.starts_with("\\restrict") && !line.starts_with("\\unrestrict"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn up_to_a_version_then_to_head() {
    let database = TestDatabase::new().await;
    let mut target = PostgresTarget::new(&database.config());

    let changes = target.upgrade_to(&ops::PLAN, Some(2)).await.expect("up to V2");

    assert_eq!(lines(&changes.0), ["V1 accounts", "V2 orders"]);
    let mut connection = database.connect().await;
    assert_eq!(history_versions(&mut connection).await, [1, 2]);
    let objects_at_v2 = objects(&mut connection).await;
    assert!(objects_at_v2.contains(&"orders (r)".to_owned()), "{objects_at_v2:?}");
    assert!(!objects_at_v2.contains(&"orders_account_id_idx (i)".to_owned()), "V3 not applied: {objects_at_v2:?}");

    let changes = target.upgrade_to(&ops::PLAN, None).await.expect("up to head");

    assert_eq!(lines(&changes.0), ["V3 orders_indexes", "V4 account_orders"]);
    assert_eq!(history_versions(&mut connection).await, [1, 2, 3, 4]);
    let objects = objects(&mut connection).await;
    for object in ["orders_account_id_idx (i)", "account_orders (v)", "account_order_count (function)"] {
        assert!(objects.contains(&object.to_owned()), "{object} missing from {objects:?}");
    }
}

#[tokio::test]
async fn up_to_a_version_not_in_the_plan_is_refused_before_anything() {
    let database = TestDatabase::new().await;
    let mut target = PostgresTarget::new(&database.config());

    let (message, done) = failure_of(target.upgrade_to(&ops::PLAN, Some(7)).await);

    assert_eq!(
        message,
        "V7 is not a PostgreSQL migration of this plan; the nearest are V3 orders_indexes, V4 account_orders"
    );
    assert!(done.is_empty());
    assert_eq!(objects(&mut database.connect().await).await, Vec::<String>::new(), "not even the history table");
}

#[tokio::test]
async fn down_one_then_down_to_a_version() {
    let database = TestDatabase::new().await;
    let mut target = PostgresTarget::new(&database.config());
    target.upgrade_to(&ops::PLAN, None).await.expect("up");
    let entries = target.history_entries().await.expect("history");
    let previous = entries[entries.len() - 2].version;

    let changes = target.downgrade_to(&ops::PLAN, VersionTarget::Version(previous)).await.expect("down one");

    assert_eq!(lines(&changes.0), ["V4 account_orders undone"]);
    let mut connection = database.connect().await;
    assert_eq!(history_versions(&mut connection).await, [1, 2, 3]);
    let columns: Vec<String> = sqlx::query_scalar(
        "SELECT attname::text FROM pg_attribute WHERE attrelid = 'accounts'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
    )
    .fetch_all(&mut connection)
    .await
    .expect("columns");
    assert_eq!(columns, ["id", "email", "created_at"]);

    let changes = target.downgrade_to(&ops::PLAN, VersionTarget::Version(1)).await.expect("down to V1");

    assert_eq!(lines(&changes.0), ["V3 orders_indexes undone", "V2 orders undone"]);
    assert_eq!(history_versions(&mut connection).await, [1]);
    assert_eq!(
        objects(&mut connection).await,
        [
            "accounts (r)",
            "accounts_email_key (i)",
            "accounts_id_seq (S)",
            "accounts_pkey (i)",
            "migration_history (r)",
            "migration_history_pkey (i)"
        ]
    );
}

#[tokio::test]
async fn down_to_base_leaves_only_an_empty_history() {
    let database = TestDatabase::new().await;
    let reference = TestDatabase::new().await;
    // A database where the migrator ran an empty plan: it holds `migration_history` and nothing else.
    PostgresTarget::new(&reference.config())
        .upgrade_to(&plan_of(SqlTarget::Postgres, &[]), None)
        .await
        .expect("create the history");
    let mut target = PostgresTarget::new(&database.config());
    target.upgrade_to(&ops::PLAN, None).await.expect("up");

    let changes = target.downgrade_to(&ops::PLAN, VersionTarget::Base).await.expect("down to base");

    assert_eq!(
        lines(&changes.0),
        ["V4 account_orders undone", "V3 orders_indexes undone", "V2 orders undone", "V1 accounts undone"]
    );
    assert_eq!(target.history_entries().await.expect("history"), []);
    let dump = schema_dump(&database);
    assert!(dump.contains("CREATE TABLE public.migration_history"), "{dump}");
    assert_eq!(dump, schema_dump(&reference));
}

#[tokio::test]
async fn up_down_up_leaves_the_schema_as_it_was() {
    let database = TestDatabase::new().await;
    let mut target = PostgresTarget::new(&database.config());
    target.upgrade_to(&ops::PLAN, None).await.expect("up");
    let migrated = schema_dump(&database);

    target.downgrade_to(&ops::PLAN, VersionTarget::Version(2)).await.expect("down to V2");
    target.upgrade_to(&ops::PLAN, None).await.expect("up again");
    assert_eq!(schema_dump(&database), migrated, "after down to V2 and up");

    target.downgrade_to(&ops::PLAN, VersionTarget::Base).await.expect("down to base");
    target.upgrade_to(&ops::PLAN, None).await.expect("up from base");
    assert_eq!(schema_dump(&database), migrated, "after down to base and up");
    assert_eq!(history_versions(&mut database.connect().await).await, [1, 2, 3, 4]);
}

#[tokio::test]
async fn version_unknown_to_the_plan_is_undone_with_its_stored_downgrade() {
    let database = TestDatabase::new().await;
    let mut target = PostgresTarget::new(&database.config());
    target.upgrade_to(&ops::PLAN, None).await.expect("the newer release migrates to V4");
    // The older release knows V1 and V2 only; V3's stored downgrade is a no-transaction script
    // (`DROP INDEX CONCURRENTLY`), which PostgreSQL refuses inside a transaction.
    let older = plan_of(SqlTarget::Postgres, &ops()[..2]);
    assert_eq!(target.status(&older).await.expect("status").problems.len(), 2);

    let changes = target.downgrade_to(&older, VersionTarget::Version(2)).await.expect("down with the older plan");

    assert_eq!(
        lines(&changes.0),
        [
            "V4 account_orders undone with the downgrade stored in `migration_history`",
            "V3 orders_indexes undone with the downgrade stored in `migration_history`"
        ]
    );
    let mut connection = database.connect().await;
    assert_eq!(history_versions(&mut connection).await, [1, 2]);
    let objects = objects(&mut connection).await;
    for gone in
        ["orders_account_id_idx (i)", "orders_side_idx (i)", "account_orders (v)", "account_order_count (function)"]
    {
        assert!(!objects.contains(&gone.to_owned()), "{gone} still in {objects:?}");
    }
    assert!(target.status(&older).await.expect("status").is_at_plan());
}

#[tokio::test]
async fn down_refuses_a_target_above_the_current_version() {
    let database = TestDatabase::new().await;
    let mut target = PostgresTarget::new(&database.config());
    target.upgrade_to(&ops::PLAN, Some(2)).await.expect("up to V2");

    let (message, done) = failure_of(target.downgrade_to(&ops::PLAN, VersionTarget::Version(3)).await);

    assert!(
        message.ends_with("is at V2 orders; `down` cannot go to V3, which is above it; `up --to 3` goes forward"),
        "{message}"
    );
    assert!(done.is_empty());
    assert_eq!(history_versions(&mut database.connect().await).await, [1, 2]);
}

#[tokio::test]
async fn failed_downgrade_keeps_its_row_and_reports_what_was_undone() {
    let database = TestDatabase::new().await;
    let mut target = PostgresTarget::new(&database.config());
    target.upgrade_to(&ops::PLAN, Some(2)).await.expect("up to V2");
    let broken_sql = "DROP TABLE accounts;\nDROP TABLE no_such_table;\n";
    let mut broken = ops()[0];
    broken.downgrade = Script { sql: broken_sql, statements: &[], ..ops()[0].downgrade };
    let plan = plan_of(SqlTarget::Postgres, leak(vec![broken, ops()[1]]));

    let (message, done) = failure_of(target.downgrade_to(&plan, VersionTarget::Base).await);

    assert_eq!(lines(&done), ["V2 orders undone"]);
    let failed = format!("{}: downgrade of V1 accounts failed on ", ops()[0].downgrade.path);
    assert!(message.starts_with(&failed), "{message}");
    assert!(message.contains("table \"no_such_table\" does not exist"), "{message}");
    assert!(message.contains("V1 stays applied and recorded"), "{message}");
    let mut connection = database.connect().await;
    assert_eq!(history_versions(&mut connection).await, [1]);
    assert!(objects(&mut connection).await.contains(&"accounts (r)".to_owned()), "the DROP was rolled back");
}

#[tokio::test]
async fn baseline_adopts_a_schema_made_by_another_tool() {
    let database = TestDatabase::new().await;
    let mut connection = database.connect().await;
    // What Alembic left: the schema of V1 and V2, and its own version table.
    for migration in &ops()[..2] {
        sqlx::raw_sql(migration.upgrade.sql).execute(&mut connection).await.expect("create the schema by hand");
    }
    sqlx::raw_sql("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY); INSERT INTO alembic_version VALUES ('ae1027a6acf');")
        .execute(&mut connection)
        .await
        .expect("alembic_version");
    let mut target = PostgresTarget::new(&database.config());

    let changes = target.baseline(&ops::PLAN, 2).await.expect("baseline at V2");

    assert_eq!(
        changes.0,
        ["V1 accounts recorded as applied (baseline, not run)", "V2 orders recorded as applied (baseline, not run)"]
    );
    let entries = target.history_entries().await.expect("history");
    assert_eq!(entries.len(), 2);
    for (entry, migration) in entries.iter().zip(ops()) {
        assert_eq!(
            (entry.version, entry.checksum.as_str(), entry.execution_ms, entry.downgrade_sql.as_str()),
            (migration.version, migration.checksum, 0, migration.downgrade.sql)
        );
    }

    let changes = target.upgrade_to(&ops::PLAN, None).await.expect("migrate after the baseline");

    assert_eq!(lines(&changes.0), ["V3 orders_indexes", "V4 account_orders"]);
    assert_eq!(history_versions(&mut connection).await, [1, 2, 3, 4]);
    assert!(objects(&mut connection).await.contains(&"alembic_version (r)".to_owned()), "left alone");
}

#[tokio::test]
async fn baseline_refuses_an_unknown_version_or_a_database_with_history() {
    let database = TestDatabase::new().await;
    let mut target = PostgresTarget::new(&database.config());

    let error = target.baseline(&ops::PLAN, 9).await.expect_err("V9 is not in the plan");
    assert!(error.to_string().starts_with("V9 is not a PostgreSQL migration of this plan"), "{error}");
    assert_eq!(objects(&mut database.connect().await).await, Vec::<String>::new(), "nothing created");

    target.upgrade_to(&ops::PLAN, Some(1)).await.expect("up to V1");
    let error = target.baseline(&ops::PLAN, 2).await.expect_err("history is not empty");

    assert!(error.to_string().contains("already records 1 migrations (up to V1 accounts)"), "{error}");
    assert_eq!(history_versions(&mut database.connect().await).await, [1]);
}

#[tokio::test]
async fn repair_accepts_an_edited_migration() {
    let database = TestDatabase::new().await;
    let mut target = PostgresTarget::new(&database.config());
    target.upgrade_to(&ops::PLAN, Some(2)).await.expect("up to V2");
    let edited_downgrade = "-- orders go first: they reference accounts\nDROP TABLE orders;\nDROP TYPE order_side;\n";
    let mut edited = ops()[1];
    edited.checksum = "sha256:edited";
    edited.downgrade = Script { sql: edited_downgrade, ..ops()[1].downgrade };
    let plan = plan_of(SqlTarget::Postgres, leak(vec![ops()[0], edited, ops()[2], ops()[3]]));

    let (message, done) = failure_of(target.upgrade_to(&plan, None).await);
    assert!(message.starts_with(&format!("{}: V2 was applied", ops()[1].upgrade.path)), "{message}");
    assert!(message.contains("accept it with `repair`"), "{message}");
    assert!(done.is_empty());
    assert_eq!(history_versions(&mut database.connect().await).await, [1, 2], "nothing applied");

    let changes = target.repair(&plan).await.expect("repair");

    assert_eq!(
        changes.0,
        [format!(
            "V2 orders: accepted the edited `{}` (checksum `{}` → `sha256:edited`), stored the downgrade of `{}`",
            ops()[1].upgrade.path,
            ops()[1].checksum,
            ops()[1].downgrade.path
        )]
    );
    let entries = target.history_entries().await.expect("history");
    assert_eq!((entries[1].checksum.as_str(), entries[1].downgrade_sql.as_str()), ("sha256:edited", edited_downgrade));
    let changes = target.upgrade_to(&plan, None).await.expect("migrate after the repair");
    assert_eq!(lines(&changes.0), ["V3 orders_indexes", "V4 account_orders"]);
    assert_eq!(target.repair(&plan).await.expect("second repair").0, Vec::<String>::new());
}

#[tokio::test]
async fn migration_deleted_below_the_head_is_refused_until_repaired() {
    let database = TestDatabase::new().await;
    let mut target = PostgresTarget::new(&database.config());
    target.upgrade_to(&ops::PLAN, Some(3)).await.expect("up to V3");
    let without_v2 = plan_of(SqlTarget::Postgres, leak(vec![ops()[0], ops()[2], ops()[3]]));

    let (message, done) = failure_of(target.upgrade_to(&without_v2, None).await);

    assert!(message.contains("V2 is applied but no longer in the plan, below its head V4"), "{message}");
    assert!(message.contains("not in the plan: V2 orders") && message.contains("run `repair`"), "{message}");
    assert!(done.is_empty());
    let mut connection = database.connect().await;
    assert_eq!(history_versions(&mut connection).await, [1, 2, 3], "V4 was not applied");
    let status = target.status(&without_v2).await.expect("status");
    assert_eq!(status.problems.len(), 1, "{:?}", status.problems);
    assert!(status.problems[0].starts_with("V2 orders is applied but not in the plan"), "{:?}", status.problems);
    let pending_sql = target.pending_sql(&without_v2, None).await;
    assert!(pending_sql.is_err(), "the dry run refuses too");

    let changes = target.repair(&without_v2).await.expect("repair");

    assert_eq!(changes.0.len(), 1, "{changes:?}");
    assert!(changes.0[0].starts_with("V2 orders: forgot its row"), "{changes:?}");
    assert_eq!(history_versions(&mut connection).await, [1, 3]);
    let changes = target.upgrade_to(&without_v2, None).await.expect("migrate after the repair");
    assert_eq!(lines(&changes.0), ["V4 account_orders"]);
}

#[tokio::test]
async fn repair_leaves_versions_of_a_newer_release() {
    let database = TestDatabase::new().await;
    let mut target = PostgresTarget::new(&database.config());
    target.upgrade_to(&ops::PLAN, None).await.expect("the newer release migrates to V4");
    let older = plan_of(SqlTarget::Postgres, &ops()[..2]);

    let changes = target.repair(&older).await.expect("repair");

    assert_eq!(changes.0.len(), 2, "{changes:?}");
    assert!(changes.0[0].starts_with("V3 orders_indexes: left as it is: applied by a newer release"), "{changes:?}");
    assert!(changes.0[1].starts_with("V4 account_orders: left as it is"), "{changes:?}");
    assert_eq!(history_versions(&mut database.connect().await).await, [1, 2, 3, 4]);
}

#[tokio::test]
async fn pending_sql_is_exactly_what_up_would_send() {
    let database = TestDatabase::new().await;
    let mut target = PostgresTarget::new(&database.config());

    let statements = target.pending_sql(&ops::PLAN, Some(3)).await.expect("dry run");

    let sent: Vec<(u64, &str)> =
        statements.iter().map(|statement| (statement.version, statement.sql.as_str())).collect();
    let [first, second, third, ..] = ops() else { panic!("the fixture has four migrations") };
    assert!(!third.upgrade.transactional && third.upgrade.statements.len() == 2);
    assert_eq!(
        sent,
        [
            (1, first.upgrade.sql),
            (2, second.upgrade.sql),
            (3, third.upgrade.statements[0]),
            (3, third.upgrade.statements[1])
        ]
    );
    assert_eq!(statements[2].path, third.upgrade.path);
    assert_eq!(objects(&mut database.connect().await).await, Vec::<String>::new(), "the dry run creates nothing");

    target.upgrade_to(&ops::PLAN, Some(3)).await.expect("up to V3");
    let statements = target.pending_sql(&ops::PLAN, None).await.expect("dry run");
    let versions: Vec<u64> = statements.iter().map(|statement| statement.version).collect();
    assert_eq!(versions, [4]);
}

#[tokio::test]
async fn history_entries_describe_each_applied_migration() {
    let database = TestDatabase::new().await;
    let mut target = PostgresTarget::new(&database.config());
    assert_eq!(target.history_entries().await.expect("no table yet"), []);
    target.upgrade_to(&ops::PLAN, None).await.expect("up");

    let entries = target.history_entries().await.expect("history");

    assert_eq!(entries.len(), 4);
    for (entry, migration) in entries.iter().zip(ops()) {
        assert_eq!(entry.version, migration.version);
        assert_eq!(entry.description, migration.description);
        assert_eq!(entry.checksum, migration.checksum);
        assert_eq!(entry.state, EntryState::Applied);
        assert_eq!(entry.downgrade_sql, migration.downgrade.sql);
    }
}
