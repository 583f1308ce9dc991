//! The indicators target against the stack's real PostgreSQL, one fresh database per test,
//! migrated by the postgres target first as `migrate` does.

mod common;

use chrono::{DateTime, Utc};
use common::postgres::TestDatabase;
use sqlx::PgConnection;
use tradeforge_migrator::plan::{Catalogue, Indicator, Plan};
use tradeforge_migrator::targets::indicators::IndicatorsTarget;
use tradeforge_migrator::targets::postgres::PostgresTarget;
use tradeforge_migrator::targets::{ApplyOptions, Target};
use tradeforge_migrator::PLAN;

/// One `system_indicators` row as the tests compare it.
#[derive(Debug, PartialEq)]
struct Row {
    name: String,
    display_name: String,
    category: String,
    description: Option<String>,
    parameters: serde_json::Value,
    outputs: serde_json::Value,
    definition_hash: String,
    is_active: bool,
    updated_at: DateTime<Utc>,
}

type RowTuple =
    (String, String, String, Option<String>, serde_json::Value, serde_json::Value, String, bool, DateTime<Utc>);

async fn catalogue(connection: &mut PgConnection) -> Vec<Row> {
    let rows: Vec<RowTuple> = sqlx::query_as(
        "SELECT name, display_name, category, description, parameters, outputs, definition_hash, is_active, updated_at
         FROM system_indicators ORDER BY name",
    )
    .fetch_all(connection)
    .await
    .expect("read system_indicators");
    rows.into_iter()
        .map(
            |(
                name,
                display_name,
                category,
                description,
                parameters,
                outputs,
                definition_hash,
                is_active,
                updated_at,
            )| Row {
                name,
                display_name,
                category,
                description,
                parameters,
                outputs,
                definition_hash,
                is_active,
                updated_at,
            },
        )
        .collect()
}

/// Each row's `xmin`: any write to a row, even one that changes no value, gives it a new one.
async fn row_versions(connection: &mut PgConnection) -> Vec<String> {
    sqlx::query_scalar("SELECT xmin::text FROM system_indicators ORDER BY name")
        .fetch_all(connection)
        .await
        .expect("read row versions")
}

/// A fresh database at the repository's PostgreSQL plan, where `system_indicators` exists.
async fn migrated_database() -> TestDatabase {
    let database = TestDatabase::new().await;
    PostgresTarget::new(&database.config())
        .apply(&PLAN, &ApplyOptions::default())
        .await
        .expect("apply the PostgreSQL migrations");
    database
}

async fn sync(database: &TestDatabase, plan: &Plan) -> Vec<String> {
    let mut target = IndicatorsTarget::new(&database.config());
    target.health_check().await.expect("health check");
    target.apply(plan, &ApplyOptions::default()).await.expect("sync the catalogue").0
}

/// A plan of only these indicators.
fn indicator_plan(indicators: Vec<Indicator>) -> Plan {
    Plan {
        fingerprint: "sha256:test",
        postgres: &[],
        clickhouse: &[],
        mongodb: &[],
        topics: &[],
        indicators: Catalogue::of(indicators),
    }
}

/// The repository's indicators with the first one's definition changed.
fn plan_with_first_changed() -> Plan {
    let first = &PLAN.indicators[0];
    let changed = Indicator {
        display_name: "Changed display name".into(),
        description: Some("changed description".into()),
        definition_hash: "sha256:changed".into(),
        ..first.clone()
    };
    let rest = PLAN.indicators[1..].iter().cloned();
    indicator_plan(std::iter::once(changed).chain(rest).collect())
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).expect("canonical JSON")
}

#[tokio::test]
async fn inserts_every_indicator_into_a_fresh_catalogue() {
    let database = migrated_database().await;

    let changes = sync(&database, &PLAN).await;

    let expected: Vec<String> =
        PLAN.indicators.iter().map(|indicator| format!("inserted indicator `{}`", indicator.name)).collect();
    let mut sorted = changes.clone();
    sorted.sort();
    let mut expected_sorted = expected.clone();
    expected_sorted.sort();
    assert_eq!(sorted, expected_sorted);
    let rows = catalogue(&mut database.connect().await).await;
    assert_eq!(rows.len(), PLAN.indicators.len());
    for indicator in PLAN.indicators.iter() {
        let row = rows.iter().find(|row| row.name == indicator.name).expect("every indicator has a row");
        assert_eq!(row.display_name, indicator.display_name);
        assert_eq!(row.category, indicator.category.as_str());
        assert_eq!(row.description, indicator.description);
        assert_eq!(row.parameters, json(&indicator.parameters_json));
        assert_eq!(row.outputs, json(&indicator.outputs_json));
        assert_eq!(row.definition_hash, indicator.definition_hash);
        assert!(row.is_active);
    }
}

#[tokio::test]
async fn a_fresh_catalogue_holds_the_text_exactly_whatever_it_contains() {
    let database = migrated_database().await;
    let awkward = Indicator {
        display_name: "Ünïcödé \"quoted\" 'name'".into(),
        description: Some("tab\there\nnew line\r\\ backslash \\N not a null; \\. not the end".into()),
        ..PLAN.indicators[0].clone()
    };
    let plain = Indicator { description: None, ..PLAN.indicators[1].clone() };
    let expected_rows = [
        (awkward.name.clone(), awkward.display_name.clone(), awkward.description.clone()),
        (plain.name.clone(), plain.display_name.clone(), plain.description.clone()),
    ];
    let plan = indicator_plan(vec![awkward, plain]);

    sync(&database, &plan).await;

    let rows = catalogue(&mut database.connect().await).await;
    let mut expected = expected_rows;
    expected.sort();
    let found: Vec<(String, String, Option<String>)> =
        rows.iter().map(|row| (row.name.clone(), row.display_name.clone(), row.description.clone())).collect();
    assert_eq!(found, expected);
    for row in &rows {
        let declared = PLAN.indicators.iter().find(|indicator| indicator.name == row.name).expect("declared");
        assert_eq!(row.parameters, json(&declared.parameters_json));
        assert_eq!(row.outputs, json(&declared.outputs_json));
    }
}

#[tokio::test]
async fn the_server_digest_matches_exactly_the_synced_plan() {
    let database = migrated_database().await;
    let mut target = IndicatorsTarget::new(&database.config());
    assert!(!target.matches(&PLAN).await.expect("digest"), "an empty catalogue");
    sync(&database, &PLAN).await;

    assert!(target.matches(&PLAN).await.expect("digest"), "after the sync");
    assert!(!target.matches(&plan_with_first_changed()).await.expect("digest"), "a changed definition");
    let first_removed = indicator_plan(PLAN.indicators[1..].to_vec());
    assert!(!target.matches(&first_removed).await.expect("digest"), "an undeclared active row");
    sqlx::query("UPDATE system_indicators SET is_active = FALSE WHERE name = $1")
        .bind(&PLAN.indicators[0].name)
        .execute(&mut database.connect().await)
        .await
        .expect("deactivate by hand");
    assert!(!target.matches(&PLAN).await.expect("digest"), "an inactive declared row");
    assert!(target.matches(&first_removed).await.expect("digest"), "inactive rows do not count");
}

#[tokio::test]
async fn unchanged_catalogue_is_not_written() {
    let database = migrated_database().await;
    sync(&database, &PLAN).await;
    let mut connection = database.connect().await;
    let before = catalogue(&mut connection).await;
    let versions_before = row_versions(&mut connection).await;

    let changes = sync(&database, &PLAN).await;

    assert_eq!(changes, Vec::<String>::new(), "up to date");
    assert_eq!(catalogue(&mut connection).await, before, "no row rewritten, updated_at included");
    assert_eq!(row_versions(&mut connection).await, versions_before, "not even a no-op UPDATE ran");
    let status = IndicatorsTarget::new(&database.config()).status(&PLAN).await.expect("status");
    assert!(status.is_at_plan(), "{status:?}");
    assert_eq!(status.current, Some(format!("{} active indicators", PLAN.indicators.len())));
}

#[tokio::test]
async fn changed_definition_is_updated_and_nothing_else() {
    let database = migrated_database().await;
    sync(&database, &PLAN).await;
    let mut connection = database.connect().await;
    let before = catalogue(&mut connection).await;
    let plan = plan_with_first_changed();
    let name = plan.indicators[0].name.clone();
    let status = IndicatorsTarget::new(&database.config()).status(&plan).await.expect("status");
    assert_eq!(status.pending, [format!("update `{name}` (definition changed)")]);

    let changes = sync(&database, &plan).await;

    assert_eq!(changes, [format!("updated indicator `{name}`")]);
    let after = catalogue(&mut connection).await;
    let changed = after.iter().find(|row| row.name == name).expect("row kept");
    assert_eq!(changed.display_name, "Changed display name");
    assert_eq!(changed.description.as_deref(), Some("changed description"));
    assert_eq!(changed.definition_hash, "sha256:changed");
    let old = before.iter().find(|row| row.name == name).expect("row existed");
    assert!(changed.updated_at > old.updated_at);
    let untouched =
        |rows: &[Row]| rows.iter().filter(|row| row.name != name).map(|row| row.updated_at).collect::<Vec<_>>();
    assert_eq!(untouched(&after), untouched(&before));
}

#[tokio::test]
async fn removed_indicator_is_deactivated_then_reactivated() {
    let database = migrated_database().await;
    sync(&database, &PLAN).await;
    let removed = &PLAN.indicators[0].name;
    let without_first = indicator_plan(PLAN.indicators[1..].to_vec());

    let changes = sync(&database, &without_first).await;

    assert_eq!(changes, [format!("deactivated indicator `{removed}`")]);
    let mut connection = database.connect().await;
    let rows = catalogue(&mut connection).await;
    assert_eq!(rows.len(), PLAN.indicators.len(), "the row is kept, strategies reference it");
    let row = rows.iter().find(|row| row.name == *removed).expect("row kept");
    assert!(!row.is_active);
    assert!(rows.iter().filter(|row| row.name != *removed).all(|row| row.is_active));
    let status = IndicatorsTarget::new(&database.config()).status(&PLAN).await.expect("status");
    assert_eq!(status.pending, [format!("reactivate `{removed}`")]);

    let changes = sync(&database, &PLAN).await;

    assert_eq!(changes, [format!("updated indicator `{removed}`")]);
    let rows = catalogue(&mut connection).await;
    assert!(rows.iter().all(|row| row.is_active), "{rows:?}");
}

#[tokio::test]
async fn missing_table_says_to_run_the_postgres_target_first() {
    let database = TestDatabase::new().await;
    let mut target = IndicatorsTarget::new(&database.config());

    let failure = target.apply(&PLAN, &ApplyOptions::default()).await.expect_err("no system_indicators table");

    let message = failure.error.to_string();
    assert!(message.contains("`system_indicators` does not exist"), "{message}");
    assert!(message.contains("postgres target first"), "{message}");
    assert!(message.contains(&database.config().describe()), "{message}");
    assert!(failure.done.is_empty());
    let status = target.status(&PLAN).await.expect("status without the table");
    assert_eq!(status.pending.len(), PLAN.indicators.len());
}
