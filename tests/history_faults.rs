//! Tampered and interrupted history against the stack's real servers: deleted and forged history
//! rows, a dropped history table over an existing schema, and a statement that ran (or may have)
//! without its outcome being recorded, on PostgreSQL (`-- migrator:no-transaction`) and
//! ClickHouse. Every migration's statements write to a counting table (`runs`), so a statement
//! run twice, or run when it should have been refused, shows in the count.

mod common;

use std::process::Command;

use sqlx::PgConnection;
use tradeforge_migrator::plan::{Catalogue, Migration, Plan, Reversal, Script};
use tradeforge_migrator::targets::clickhouse::ClickHouseTarget;
use tradeforge_migrator::targets::postgres::PostgresTarget;
use tradeforge_migrator::targets::{ApplyOptions, EntryState, Target, VersionedTarget};

fn script(path: &'static str, statements: &'static [&'static str], transactional: bool) -> Script {
    let sql: String = statements.iter().map(|statement| format!("{statement};\n")).collect();
    let sql = if transactional { sql } else { format!("-- migrator:no-transaction\n{sql}") };
    Script { path, sql: Box::leak(sql.into_boxed_str()), statements, transactional }
}

fn migration(
    version: u64,
    upgrade: &'static [&'static str],
    downgrade: &'static [&'static str],
    transactional: bool,
) -> Migration {
    let description: &'static str = Box::leak(format!("m{version}").into_boxed_str());
    let path: &'static str = Box::leak(format!("migrations/test/upgrade/V{version}-m{version}.sql").into_boxed_str());
    let down: &'static str = Box::leak(format!("migrations/test/downgrade/V{version}-m{version}.sql").into_boxed_str());
    Migration {
        version,
        description,
        checksum: Box::leak(format!("sha256:{version}").into_boxed_str()),
        upgrade: script(path, upgrade, transactional),
        downgrade: script(down, downgrade, true),
        reversal: Reversal::Script,
        data: None,
    }
}

fn plan(postgres: Vec<Migration>, clickhouse: Vec<Migration>) -> Plan {
    Plan {
        fingerprint: "sha256:test",
        postgres: Box::leak(postgres.into_boxed_slice()),
        clickhouse: Box::leak(clickhouse.into_boxed_slice()),
        mongodb: &[],
        topics: &[],
        indicators: Catalogue::default(),
    }
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL

use common::postgres::{history_versions, TestDatabase as PgDatabase};

/// V1 creates `runs`; V2 and V3 each count one run and create a table.
fn pg_plan() -> Plan {
    plan(
        vec![
            migration(1, &["CREATE TABLE runs (version int)"], &["DROP TABLE runs"], true),
            migration(2, &["INSERT INTO runs VALUES (2)", "CREATE TABLE b (x int)"], &["DROP TABLE b"], true),
            migration(3, &["INSERT INTO runs VALUES (3)", "CREATE TABLE c (x int)"], &["DROP TABLE c"], true),
        ],
        Vec::new(),
    )
}

async fn pg_runs(connection: &mut PgConnection) -> Vec<i32> {
    sqlx::query_scalar("SELECT version FROM runs ORDER BY version").fetch_all(connection).await.expect("read runs")
}

async fn pg_execute(connection: &mut PgConnection, sql: &'static str) {
    sqlx::raw_sql(sql).execute(connection).await.unwrap_or_else(|error| panic!("`{sql}`: {error}"));
}

#[tokio::test]
async fn postgres_a_deleted_history_row_below_the_head_is_refused_until_repair_records_it() {
    let database = PgDatabase::new().await;
    let plan = pg_plan();
    let mut target = PostgresTarget::new(&database.config());
    target.apply(&plan, &ApplyOptions::default()).await.expect("apply V1-V3");
    let mut connection = database.connect().await;
    pg_execute(&mut connection, "DELETE FROM migration_history WHERE version = 2").await;

    let failure = target.apply(&plan, &ApplyOptions::default()).await.expect_err("a gap is refused");
    let message = failure.error.to_string();
    assert!(failure.done.is_empty(), "{:?}", failure.done);
    assert!(message.contains("the history has a gap below V3"), "{message}");
    assert!(message.contains("V2 m2 (no history row)"), "{message}");
    assert!(message.contains("`migrator repair --target postgres`"), "{message}");
    assert_eq!(pg_runs(&mut connection).await, [2, 3], "nothing ran again");
    let status = target.status(&plan).await.expect("status");
    assert!(
        status.problems.iter().any(|problem| problem.starts_with("V2 m2 (no history row) is below V3")),
        "{status:?}"
    );

    let preview = target.repair_preview(&plan).await.expect("preview");
    assert_eq!(preview.0.len(), 1, "{preview:?}");
    assert!(preview.0[0].starts_with("V2 m2: recorded as applied without running it"), "{preview:?}");
    assert_eq!(history_versions(&mut connection).await, [1, 3], "the preview writes nothing");
    assert_eq!(target.repair(&plan).await.expect("repair").0, preview.0, "repair does what it previewed");
    assert_eq!(history_versions(&mut connection).await, [1, 2, 3]);
    assert!(target.apply(&plan, &ApplyOptions::default()).await.expect("at the plan").is_empty());
    assert_eq!(pg_runs(&mut connection).await, [2, 3], "V2 never ran twice");
}

#[tokio::test]
async fn postgres_a_dropped_history_table_over_an_existing_schema_is_refused_naming_baseline() {
    let database = PgDatabase::new().await;
    let plan = pg_plan();
    let mut target = PostgresTarget::new(&database.config());
    target.apply(&plan, &ApplyOptions::default()).await.expect("apply V1-V3");
    let mut connection = database.connect().await;
    pg_execute(&mut connection, "DROP TABLE migration_history").await;

    let failure = target.apply(&plan, &ApplyOptions::default()).await.expect_err("refused");
    let message = failure.error.to_string();
    assert!(message.contains("has no migration history (`migration_history` does not exist)"), "{message}");
    assert!(message.contains("the tables `b`, `c`, `runs`"), "{message}");
    assert!(message.contains("`migrator baseline --target postgres <version>`"), "{message}");
    assert_eq!(pg_runs(&mut connection).await, [2, 3], "nothing ran");
    let status = target.status(&plan).await.expect("status");
    assert!(status.problems.iter().any(|problem| problem.contains("baseline")), "{status:?}");
}

/// V1 (no transaction): creates `runs` and `t`, indexes `t` concurrently, counts one run.
fn pg_no_transaction_plan() -> Plan {
    plan(
        vec![migration(
            1,
            &[
                "CREATE TABLE runs (version int)",
                "CREATE TABLE t (x int)",
                "CREATE INDEX CONCURRENTLY t_x ON t (x)",
                "INSERT INTO runs VALUES (1)",
            ],
            &["DROP TABLE t", "DROP TABLE runs"],
            false,
        )],
        Vec::new(),
    )
}

/// What a run killed after statement `done` started leaves: the statements before it ran, and the
/// intent row says statement `done + 1` started.
async fn pg_interrupted(connection: &mut PgConnection, ran: &[&'static str], done: i32) {
    for statement in ran {
        pg_execute(connection, statement).await;
    }
    pg_execute(
        connection,
        "CREATE TABLE migration_history (version BIGINT PRIMARY KEY, description TEXT NOT NULL, checksum TEXT NOT \
         NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now(), execution_ms BIGINT NOT NULL, downgrade_sql TEXT NOT NULL)",
    )
    .await;
    pg_execute(
        connection,
        "CREATE TABLE migration_intent (version BIGINT PRIMARY KEY, checksum TEXT NOT NULL, statements_done INTEGER \
         NOT NULL, running BOOLEAN NOT NULL, total INTEGER NOT NULL, started_at TIMESTAMPTZ NOT NULL DEFAULT now())",
    )
    .await;
    sqlx::query("INSERT INTO migration_intent (version, checksum, statements_done, running, total) VALUES (1, 'sha256:1', $1, true, 4)")
        .bind(done)
        .execute(connection)
        .await
        .expect("write the intent");
}

#[tokio::test]
async fn postgres_a_no_transaction_statement_interrupted_after_it_ran_is_settled_from_the_catalog() {
    let database = PgDatabase::new().await;
    let plan = pg_no_transaction_plan();
    let mut connection = database.connect().await;
    // Killed during statement 3 after the index was built: the catalog shows a valid index.
    pg_interrupted(
        &mut connection,
        &["CREATE TABLE runs (version int)", "CREATE TABLE t (x int)", "CREATE INDEX CONCURRENTLY t_x ON t (x)"],
        2,
    )
    .await;
    let mut target = PostgresTarget::new(&database.config());
    let status = target.status(&plan).await.expect("status");
    assert!(status.problems.iter().any(|problem| problem.contains("interrupted during statement 3/4")), "{status:?}");

    let changes = target.apply(&plan, &ApplyOptions::default()).await.expect("resumes");

    assert_eq!(changes.0.len(), 1, "{changes:?}");
    assert_eq!(pg_runs(&mut connection).await, [1], "statement 4 ran once, 3 was not run again");
    assert_eq!(history_versions(&mut connection).await, [1]);
    let intent_table: Option<String> = sqlx::query_scalar("SELECT to_regclass('migration_intent')::text")
        .fetch_one(&mut connection)
        .await
        .expect("look for migration_intent");
    assert_eq!(intent_table, None, "the intent goes with the history row, and its table once empty");
}

#[tokio::test]
async fn postgres_a_no_transaction_insert_interrupted_is_not_run_again_but_left_to_repair() {
    let database = PgDatabase::new().await;
    let plan = pg_no_transaction_plan();
    let mut connection = database.connect().await;
    // Killed while statement 4 (an INSERT) ran: whether it committed cannot be read.
    pg_interrupted(
        &mut connection,
        &[
            "CREATE TABLE runs (version int)",
            "CREATE TABLE t (x int)",
            "CREATE INDEX CONCURRENTLY t_x ON t (x)",
            "INSERT INTO runs VALUES (1)",
        ],
        3,
    )
    .await;
    let mut target = PostgresTarget::new(&database.config());

    let failure = target.apply(&plan, &ApplyOptions::default()).await.expect_err("asks for repair");
    let message = failure.error.to_string();
    assert!(message.contains("statement 4/4 of V1 m1 (`INSERT INTO runs VALUES (1)`)"), "{message}");
    assert!(message.contains("cannot be read from the server's catalog"), "{message}");
    assert!(message.contains("`migrator repair --target postgres`"), "{message}");
    assert_eq!(pg_runs(&mut connection).await, [1], "the INSERT was not run again");
    assert!(history_versions(&mut connection).await.is_empty());

    let preview = target.repair_preview(&plan).await.expect("preview");
    assert!(preview.0.iter().any(|line| line.starts_with("V1 m1: recorded as applied")), "{preview:?}");
    target.repair(&plan).await.expect("repair");
    assert_eq!(history_versions(&mut connection).await, [1]);
    assert!(target.apply(&plan, &ApplyOptions::default()).await.expect("at the plan").is_empty());
    assert_eq!(pg_runs(&mut connection).await, [1]);
}

#[tokio::test]
async fn postgres_a_failed_no_transaction_statement_resumes_there_without_re_running_the_ones_before() {
    let database = PgDatabase::new().await;
    let mut connection = database.connect().await;
    let plan = plan(
        vec![migration(
            1,
            &["CREATE TABLE runs (version int)", "INSERT INTO runs VALUES (1)", "INSERT INTO needed VALUES (1)"],
            &["DROP TABLE runs"],
            false,
        )],
        Vec::new(),
    );
    let mut target = PostgresTarget::new(&database.config());
    let failure = target.apply(&plan, &ApplyOptions::default()).await.expect_err("`needed` is missing");
    assert!(failure.error.to_string().contains("resumes at statement 3"), "{}", failure.error);
    pg_execute(&mut connection, "CREATE TABLE needed (x int)").await;

    target.apply(&plan, &ApplyOptions::default()).await.expect("resumes at statement 3");

    assert_eq!(pg_runs(&mut connection).await, [1], "statement 2 ran once");
    assert_eq!(history_versions(&mut connection).await, [1]);
}

// ---------------------------------------------------------------------------------------------
// ClickHouse

use common::clickhouse::TestDatabase as ChDatabase;

/// V1 creates `runs`; V2 and V3 each count one run and create a table.
fn ch_plan() -> Plan {
    plan(
        Vec::new(),
        vec![
            migration(
                1,
                &["CREATE TABLE runs (version UInt64) ENGINE = MergeTree() ORDER BY version"],
                &["DROP TABLE runs"],
                true,
            ),
            migration(
                2,
                &["INSERT INTO runs VALUES (2)", "CREATE TABLE b (x UInt8) ENGINE = Memory"],
                &["DROP TABLE b"],
                true,
            ),
            migration(
                3,
                &["INSERT INTO runs VALUES (3)", "CREATE TABLE c (x UInt8) ENGINE = Memory"],
                &["DROP TABLE c"],
                true,
            ),
        ],
    )
}

async fn ch_runs(database: &ChDatabase) -> Vec<u64> {
    database.client.query("SELECT version FROM runs ORDER BY version").fetch_all().await.expect("read runs")
}

/// Writes a history row by hand, as a crash or a person would leave it, past every row written.
async fn ch_forge(database: &ChDatabase, version: u64, status: &str, done: u32, total: u32) {
    let sql = format!(
        "INSERT INTO migration_history (version, description, checksum, status, statements_done, statements_total, \
         applied_at, execution_ms, downgrade_sql, error, sequence) \
         VALUES ({version}, 'm{version}', 'sha256:{version}', '{status}', {done}, {total}, now(), 0, '', '', 1000)"
    );
    database.execute(&sql).await;
}

async fn ch_states(target: &mut ClickHouseTarget) -> Vec<(u64, EntryState)> {
    target.history_entries().await.expect("history").into_iter().map(|entry| (entry.version, entry.state)).collect()
}

#[tokio::test]
async fn clickhouse_a_forged_partial_row_below_applied_versions_is_refused_and_nothing_runs() {
    let database = ChDatabase::new();
    let plan = ch_plan();
    let mut target = ClickHouseTarget::new(&database.config);
    target.apply(&plan, &ApplyOptions::default()).await.expect("apply V1-V3");
    ch_forge(&database, 2, "partial", 0, 2).await;

    let failure = target.apply(&plan, &ApplyOptions::default()).await.expect_err("a gap is refused");
    let message = failure.error.to_string();
    assert!(message.contains("the history has a gap below V3"), "{message}");
    assert!(message.contains("V2 m2 (recorded as partial at 0/2)"), "{message}");
    assert!(message.contains("`migrator repair --target clickhouse`"), "{message}");
    assert_eq!(ch_runs(&database).await, [2, 3], "V2 did not run again");
}

#[tokio::test]
async fn clickhouse_a_deleted_row_below_applied_versions_is_refused_until_repair_records_it() {
    let database = ChDatabase::new();
    let plan = ch_plan();
    let mut target = ClickHouseTarget::new(&database.config);
    target.apply(&plan, &ApplyOptions::default()).await.expect("apply V1-V3");
    // A `reverted` row reads exactly as no row: what a deleted row looks like to every reader.
    ch_forge(&database, 2, "reverted", 2, 2).await;

    let failure = target.apply(&plan, &ApplyOptions::default()).await.expect_err("a gap is refused");
    let message = failure.error.to_string();
    assert!(message.contains("V2 m2 (no history row)"), "{message}");
    assert_eq!(ch_runs(&database).await, [2, 3], "V2 did not run again");

    let preview = target.repair_preview(&plan).await.expect("preview");
    assert_eq!(preview.0.len(), 1, "{preview:?}");
    assert!(preview.0[0].starts_with("V2 m2: recorded as applied without running it"), "{preview:?}");
    target.repair(&plan).await.expect("repair");
    assert_eq!(ch_states(&mut target).await.len(), 3);
    assert!(target.apply(&plan, &ApplyOptions::default()).await.expect("at the plan").is_empty());
    assert_eq!(ch_runs(&database).await, [2, 3]);
}

#[tokio::test]
async fn clickhouse_a_dropped_history_table_over_an_existing_schema_is_refused_naming_baseline() {
    let database = ChDatabase::new();
    let plan = ch_plan();
    let mut target = ClickHouseTarget::new(&database.config);
    target.apply(&plan, &ApplyOptions::default()).await.expect("apply V1-V3");
    database.execute("DROP TABLE migration_history").await;

    let failure = target.apply(&plan, &ApplyOptions::default()).await.expect_err("refused");
    let message = failure.error.to_string();
    assert!(message.contains("has no migration history (`migration_history` does not exist)"), "{message}");
    assert!(message.contains("`migrator baseline --target clickhouse <version>`"), "{message}");
    assert_eq!(ch_runs(&database).await, [2, 3], "V1 did not run again");
    assert_eq!(database.table_names().await, ["b", "c", "runs"], "no history table was created");
}

/// V1: creates `runs` (a MergeTree: 18.16 alters no Memory table), adds a column (18.16 has no `ADD COLUMN IF NOT EXISTS`), counts one run.
fn ch_intent_plan() -> Plan {
    plan(
        Vec::new(),
        vec![migration(
            1,
            &[
                "CREATE TABLE runs (version UInt64) ENGINE = MergeTree() ORDER BY version",
                "ALTER TABLE runs ADD COLUMN extra UInt8",
                "INSERT INTO runs (version) VALUES (1)",
            ],
            &["DROP TABLE runs"],
            true,
        )],
    )
}

/// What a run killed during statement `done + 1` leaves: the statements before it (and maybe it)
/// ran, and the newest history row is its intent (`running` at `done/3`).
async fn ch_interrupted(database: &ChDatabase, target: &mut ClickHouseTarget, ran: &[&str], done: u32) {
    // An empty plan: the migrator creates the database and its history table, and runs nothing.
    target.apply(&plan(Vec::new(), Vec::new()), &ApplyOptions::default()).await.expect("create the history table");
    for statement in ran {
        database.execute(statement).await;
    }
    ch_forge(database, 1, "running", done, 3).await;
}

#[tokio::test]
async fn clickhouse_a_statement_that_ran_without_its_outcome_recorded_is_settled_and_not_run_again() {
    let database = ChDatabase::new();
    let plan = ch_intent_plan();
    let mut target = ClickHouseTarget::new(&database.config);
    let ran = [
        "CREATE TABLE runs (version UInt64) ENGINE = MergeTree() ORDER BY version",
        "ALTER TABLE runs ADD COLUMN extra UInt8",
    ];
    ch_interrupted(&database, &mut target, &ran, 1).await;
    let status = target.status(&plan).await.expect("status");
    assert!(status.problems.iter().any(|problem| problem.contains("interrupted during statement 2/3")), "{status:?}");

    // Running `ADD COLUMN extra` again would fail on 18.16 ("column already exists").
    let changes = target.apply(&plan, &ApplyOptions::default()).await.expect("settles and resumes");

    assert_eq!(changes.0.len(), 1, "{changes:?}");
    assert!(changes.0[0].starts_with("V1 m1 (resumed at statement 3/3"), "{changes:?}");
    assert_eq!(ch_runs(&database).await, [1], "statement 3 ran once");
    assert_eq!(ch_states(&mut target).await, [(1, EntryState::Applied)]);
}

#[tokio::test]
async fn clickhouse_a_statement_started_but_not_run_is_run_once() {
    let database = ChDatabase::new();
    let plan = ch_intent_plan();
    let mut target = ClickHouseTarget::new(&database.config);
    // Killed after recording the intent of statement 2, before ClickHouse ran it.
    ch_interrupted(
        &database,
        &mut target,
        &["CREATE TABLE runs (version UInt64) ENGINE = MergeTree() ORDER BY version"],
        1,
    )
    .await;

    target.apply(&plan, &ApplyOptions::default()).await.expect("settles and resumes");

    assert_eq!(ch_runs(&database).await, [1]);
    let columns: Vec<String> = database
        .client
        .query("SELECT name FROM system.columns WHERE database = ? AND table = 'runs' ORDER BY name")
        .bind(database.name())
        .fetch_all()
        .await
        .expect("columns");
    assert_eq!(columns, ["extra", "version"]);
}

#[tokio::test]
async fn clickhouse_an_insert_without_its_outcome_recorded_is_not_run_again_but_left_to_repair() {
    let database = ChDatabase::new();
    let plan = ch_intent_plan();
    let mut target = ClickHouseTarget::new(&database.config);
    let ran = [
        "CREATE TABLE runs (version UInt64) ENGINE = MergeTree() ORDER BY version",
        "ALTER TABLE runs ADD COLUMN extra UInt8",
        "INSERT INTO runs (version) VALUES (1)",
    ];
    ch_interrupted(&database, &mut target, &ran, 2).await;

    let failure = target.apply(&plan, &ApplyOptions::default()).await.expect_err("asks for repair");
    let message = failure.error.to_string();
    assert!(message.contains("statement 3/3 of V1 m1 (`INSERT INTO runs (version) VALUES (1)`)"), "{message}");
    assert!(message.contains("`migrator repair --target clickhouse`"), "{message}");
    assert_eq!(ch_runs(&database).await, [1], "the INSERT was not run again");

    let preview = target.repair_preview(&plan).await.expect("preview");
    assert!(
        preview.0[0].contains("statement 3/3 (`INSERT INTO runs (version) VALUES (1)`) was started"),
        "{preview:?}"
    );
    target.repair(&plan).await.expect("repair");
    assert_eq!(ch_states(&mut target).await, [(1, EntryState::Applied)]);
    assert!(target.apply(&plan, &ApplyOptions::default()).await.expect("at the plan").is_empty());
    assert_eq!(ch_runs(&database).await, [1]);
}

#[tokio::test]
async fn clickhouse_writes_one_intent_row_per_statement_and_the_applied_row() {
    let database = ChDatabase::new();
    let plan = ch_intent_plan();
    let mut target = ClickHouseTarget::new(&database.config);
    target.apply(&plan, &ApplyOptions::default()).await.expect("apply");
    // Sequences count the rows written for the version: 3 intents and the applied row.
    assert_eq!(database.history_rows_written().await, [(1, 4)]);
}

// ---------------------------------------------------------------------------------------------
// `repair` through the binary

fn migrator(database_url: &str) -> Command {
    let mut command = common::binary::migrator();
    command
        .env("DATABASE_URL", database_url)
        .env("CLICKHOUSE_URL", "http://127.0.0.1:9")
        .env("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9");
    command
}

#[tokio::test]
async fn repair_without_yes_off_a_terminal_prints_what_it_would_record_and_records_nothing() {
    let database = PgDatabase::new().await;
    let plan = pg_plan();
    let mut target = PostgresTarget::new(&database.config());
    target.apply(&plan, &ApplyOptions::default()).await.expect("apply V1-V3");
    let mut connection = database.connect().await;
    // The binary's own plan: record a row the plan has, then delete the one below it.
    pg_execute(&mut connection, "DELETE FROM migration_history").await;
    let own = tradeforge_migrator::PLAN.postgres;
    assert!(own.len() >= 2, "the repository's plan has at least two PostgreSQL migrations");
    let top = own[1].version;
    sqlx::query(
        "INSERT INTO migration_history (version, description, checksum, execution_ms, downgrade_sql) VALUES ($1, $2, $3, 0, $4)",
    )
    .bind(i64::try_from(top).expect("fits"))
    .bind(own[1].description)
    .bind(own[1].checksum)
    .bind(own[1].downgrade.sql)
    .execute(&mut connection)
    .await
    .expect("record the second migration only");
    let url = common::postgres::database_url(&database.config());

    let output = migrator(&url).args(["repair", "--target", "postgres"]).output().expect("run migrator");

    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stdout}\n{stderr}");
    let first = format!("V{} {}: recorded as applied without running it", own[0].version, own[0].description);
    assert!(stdout.contains("postgres: repair will write to `migration_history`"), "{stdout}");
    assert!(stdout.contains(&first), "{stdout}");
    assert!(stderr.contains("`migrator repair` records history that no run wrote"), "{stderr}");
    assert!(stderr.contains("--yes"), "{stderr}");
    assert_eq!(history_versions(&mut connection).await, [i64::try_from(top).expect("fits")], "nothing recorded");

    let output = migrator(&url).args(["repair", "--target", "postgres", "--yes"]).output().expect("run migrator");
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(history_versions(&mut connection).await.len(), 2, "recorded with --yes");
}
