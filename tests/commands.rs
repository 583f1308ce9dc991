//! The operator commands through the real binary, against a fresh PostgreSQL database and a
//! fresh ClickHouse database of the stack per test: `up`/`down` to a version and back restore the
//! schema (compared as catalog dumps), `down` to base leaves nothing, `migrate --dry-run` changes
//! nothing, `check` fails on pending changes and drift and passes at the head, `history`,
//! `redo`, `baseline`, `repair`, `status --format json`, and the run lock. (The repository's
//! topic names are fixed, so Kafka is only read, never changed, here.)

mod common;

use std::process::Command;

use serde_json::Value;
use tradeforge_migrator::plan::Migration;
use tradeforge_migrator::targets::postgres::RunLock;
use tradeforge_migrator::PLAN;

/// One test's servers: its own PostgreSQL and ClickHouse databases.
struct Servers {
    postgres: common::postgres::TestDatabase,
    clickhouse: common::clickhouse::TestDatabase,
}

impl Servers {
    async fn new() -> Servers {
        Servers {
            postgres: common::postgres::TestDatabase::new().await,
            clickhouse: common::clickhouse::TestDatabase::new(),
        }
    }

    /// The binary with only this test's servers in its environment, stdin closed.
    fn migrator(&self) -> Command {
        let mut command = migrator_for(&self.postgres, &self.clickhouse);
        command.env("KAFKA_BOOTSTRAP_SERVERS", common::kafka::config().bootstrap_servers);
        command
    }

    fn run(&self, args: &[&str]) -> Outcome {
        run(self.migrator().args(args).args(["--wait", "10s"]))
    }

    /// PostgreSQL's history versions.
    async fn postgres_versions(&self) -> Vec<i64> {
        let mut connection = self.postgres.connect().await;
        sqlx::query_scalar("SELECT version FROM migration_history ORDER BY version")
            .fetch_all(&mut connection)
            .await
            .unwrap_or_default()
    }

    /// `(version, applied_at)` of PostgreSQL's history, to see that nothing was rewritten.
    async fn postgres_history(&self) -> Vec<(i64, chrono::DateTime<chrono::Utc>, String)> {
        let mut connection = self.postgres.connect().await;
        sqlx::query_as("SELECT version, applied_at, checksum FROM migration_history ORDER BY version")
            .fetch_all(&mut connection)
            .await
            .unwrap_or_default()
    }

    /// Changes the database by hand, as an operator would.
    async fn postgres_execute(&self, sql: String) {
        let mut connection = self.postgres.connect().await;
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql.clone()))
            .execute(&mut connection)
            .await
            .unwrap_or_else(|error| panic!("`{sql}`: {error}"));
    }

    /// Every object the migrations can create in `public`, one sorted line each, from the
    /// catalogs; the migrator's own `migration_history` is left out.
    async fn postgres_schema(&self) -> Vec<String> {
        let mut connection = self.postgres.connect().await;
        let lines: Vec<String> =
            sqlx::query_scalar(POSTGRES_SCHEMA).fetch_all(&mut connection).await.expect("dump the schema");
        lines.into_iter().filter(|line| !line.contains("migration_history")).collect()
    }

    /// ClickHouse's applied versions: the current row of each version, status `applied`. The
    /// status is filtered here, not in SQL: 18.16 would apply a `WHERE` before `FINAL`.
    async fn clickhouse_versions(&self) -> Vec<u64> {
        self.clickhouse_history()
            .await
            .into_iter()
            .filter(|(_, _, status)| status == "applied")
            .map(|(version, _, _)| version)
            .collect()
    }

    /// `(version, sequence, status)` of each version's current history row: a write of any kind
    /// raises the sequence. (Counting rows would not do: merges collapse them at any time.)
    async fn clickhouse_history(&self) -> Vec<(u64, u64, String)> {
        if !self.clickhouse.exists().await
            || !self.clickhouse.table_names().await.contains(&"migration_history".to_owned())
        {
            return Vec::new();
        }
        self.clickhouse
            .client
            .query("SELECT version, sequence, toString(status) FROM migration_history FINAL ORDER BY version")
            .fetch_all()
            .await
            .expect("read ClickHouse migration_history")
    }

    /// Every table (and view) with its full engine and CREATE statement, and every column, of the
    /// test's ClickHouse database; the migrator's history is left out.
    async fn clickhouse_schema(&self) -> Vec<String> {
        let tables: Vec<(String, String, String)> = self
            .clickhouse
            .client
            .query(
                "SELECT name, engine_full, create_table_query FROM system.tables \
                 WHERE database = ? AND name NOT LIKE 'migration_history%' ORDER BY name",
            )
            .bind(self.clickhouse.name())
            .fetch_all()
            .await
            .expect("read system.tables");
        let columns: Vec<(String, String, String, String, String)> = self
            .clickhouse
            .client
            .query(
                "SELECT table, name, type, default_kind, default_expression FROM system.columns \
                 WHERE database = ? AND table NOT LIKE 'migration_history%' ORDER BY table, name",
            )
            .bind(self.clickhouse.name())
            .fetch_all()
            .await
            .expect("read system.columns");
        tables
            .into_iter()
            .map(|(name, engine, create)| format!("table {name} {engine} {create}"))
            .chain(columns.into_iter().map(|column| format!("column {column:?}")))
            .collect()
    }
}

const POSTGRES_SCHEMA: &str = "
SELECT 'relation ' || relname || ' ' || relkind::text FROM pg_class WHERE relnamespace = 'public'::regnamespace
UNION ALL
SELECT 'column ' || table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable || ' '
    || coalesce(column_default, '')
FROM information_schema.columns WHERE table_schema = 'public'
UNION ALL
SELECT 'index ' || indexdef FROM pg_indexes WHERE schemaname = 'public'
UNION ALL
SELECT 'constraint ' || conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid)
FROM pg_constraint WHERE connamespace = 'public'::regnamespace
UNION ALL
SELECT 'function ' || oid::regprocedure::text || ' ' || md5(prosrc) FROM pg_proc WHERE pronamespace = 'public'::regnamespace
UNION ALL
SELECT 'trigger ' || tgrelid::regclass::text || ' ' || tgname FROM pg_trigger WHERE NOT tgisinternal
UNION ALL
SELECT 'type ' || typname || ' ' || typtype::text FROM pg_type
WHERE typnamespace = 'public'::regnamespace AND typtype IN ('e', 'd')
UNION ALL
SELECT 'enum ' || t.typname || ' ' || string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder)
FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid GROUP BY t.typname
ORDER BY 1";

use common::binary::{migrator_for, run, Outcome};

fn versions_up_to(migrations: &[Migration], last: u64) -> Vec<u64> {
    migrations.iter().map(|migration| migration.version).filter(|version| *version <= last).collect()
}

/// The version of the `n`th migration (1-based) of a target's plan.
fn nth_version(migrations: &[Migration], n: usize) -> u64 {
    assert!(migrations.len() > n, "the test needs more than {n} migrations in the plan");
    migrations[n - 1].version
}

fn as_i64(versions: Vec<u64>) -> Vec<i64> {
    versions.into_iter().map(|version| i64::try_from(version).expect("small version")).collect()
}

#[tokio::test]
async fn postgres_up_and_down_to_a_version_and_back_restore_the_schema() {
    let servers = Servers::new().await;
    let middle = nth_version(PLAN.postgres, 3);
    let head = PLAN.postgres.last().map(|migration| migration.version).expect("postgres migrations");

    let outcome = servers.run(&["up", "--target", "postgres", "--to", &middle.to_string()]).expect_success("up --to");
    assert!(outcome.stdout.contains(&format!("postgres: now at V{middle} ")), "{}", outcome.stdout);
    assert_eq!(servers.postgres_versions().await, as_i64(versions_up_to(PLAN.postgres, middle)));
    let schema_at_middle = servers.postgres_schema().await;
    assert!(!schema_at_middle.is_empty());

    servers.run(&["up", "--target", "postgres"]).expect_success("up");
    assert_eq!(servers.postgres_versions().await, as_i64(versions_up_to(PLAN.postgres, head)));
    let schema_at_head = servers.postgres_schema().await;
    assert_ne!(schema_at_head, schema_at_middle);

    let outcome = servers
        .run(&["down", "--target", "postgres", "--to", &format!("V{middle}"), "--yes"])
        .expect_success("down --to");
    assert!(outcome.stdout.contains(&format!("postgres: now at V{middle} ")), "{}", outcome.stdout);
    assert_eq!(servers.postgres_versions().await, as_i64(versions_up_to(PLAN.postgres, middle)));
    assert_eq!(servers.postgres_schema().await, schema_at_middle, "down --to restores the schema of that version");

    servers.run(&["down", "--target", "postgres", "--yes"]).expect_success("down (the last one)");
    let below_middle = nth_version(PLAN.postgres, 2);
    assert_eq!(servers.postgres_versions().await, as_i64(versions_up_to(PLAN.postgres, below_middle)));

    let outcome =
        servers.run(&["down", "--target", "postgres", "--to", "base", "--yes"]).expect_success("down --to base");
    assert!(outcome.stdout.contains("postgres: now at base, nothing applied"), "{}", outcome.stdout);
    assert!(servers.postgres_versions().await.is_empty());
    assert_eq!(servers.postgres_schema().await, Vec::<String>::new(), "down to base leaves no migrated object");

    servers.run(&["up", "--target", "postgres"]).expect_success("up again");
    assert_eq!(servers.postgres_schema().await, schema_at_head, "up after down rebuilds the same schema");
}

#[tokio::test]
async fn clickhouse_up_and_down_to_a_version_and_back_restore_the_schema() {
    let servers = Servers::new().await;
    let middle = nth_version(PLAN.clickhouse, 2);

    servers.run(&["up", "--target", "clickhouse", "--to", &middle.to_string()]).expect_success("up --to");
    assert_eq!(servers.clickhouse_versions().await, versions_up_to(PLAN.clickhouse, middle));
    let schema_at_middle = servers.clickhouse_schema().await;
    assert!(!schema_at_middle.is_empty());

    servers.run(&["up", "--target", "clickhouse"]).expect_success("up");
    let schema_at_head = servers.clickhouse_schema().await;
    assert_ne!(schema_at_head, schema_at_middle);

    servers.run(&["down", "--target", "clickhouse", "--to", &middle.to_string(), "--yes"]).expect_success("down --to");
    assert_eq!(servers.clickhouse_versions().await, versions_up_to(PLAN.clickhouse, middle));
    assert_eq!(servers.clickhouse_schema().await, schema_at_middle, "down --to restores the schema of that version");

    servers.run(&["down", "--target", "clickhouse", "--to", "base", "--yes"]).expect_success("down --to base");
    assert!(servers.clickhouse_versions().await.is_empty());
    assert_eq!(servers.clickhouse_schema().await, Vec::<String>::new(), "down to base leaves no migrated object");

    servers.run(&["up", "--target", "clickhouse"]).expect_success("up again");
    assert_eq!(servers.clickhouse_schema().await, schema_at_head, "up after down rebuilds the same schema");
}

#[tokio::test]
async fn dry_run_prints_the_pending_sql_and_operations_and_changes_nothing() {
    let servers = Servers::new().await;
    let postgres_at = nth_version(PLAN.postgres, 3);
    let clickhouse_at = nth_version(PLAN.clickhouse, 2);
    servers.run(&["up", "--target", "postgres", "--to", &postgres_at.to_string()]).expect_success("up postgres");
    servers.run(&["up", "--target", "clickhouse", "--to", &clickhouse_at.to_string()]).expect_success("up clickhouse");
    let history_before = servers.postgres_history().await;
    let postgres_before = servers.postgres_schema().await;
    let clickhouse_before = servers.clickhouse_schema().await;
    let clickhouse_history_before = servers.clickhouse_history().await;
    let broker = common::kafka::Broker::connect();
    let mut topics_before = Vec::new();
    for topic in PLAN.topics {
        topics_before.push(broker.topic(topic.name).await.is_some());
    }

    let outcome = servers
        .run(&["migrate", "--dry-run", "postgres", "clickhouse", "kafka", "indicators"])
        .expect_success("dry run");
    let stdout = &outcome.stdout;

    // Every pending statement, in order; nothing already applied.
    let mut position = 0;
    let pending = PLAN.postgres.iter().filter(|migration| migration.version > postgres_at);
    let pending = pending.chain(PLAN.clickhouse.iter().filter(|migration| migration.version > clickhouse_at));
    for migration in pending {
        let header = format!("-- V{} {} ({})", migration.version, migration.description, migration.upgrade.path);
        position +=
            stdout[position..].find(&header).unwrap_or_else(|| panic!("no `{header}` after {position}: {stdout}"));
        for statement in migration.upgrade.statements {
            position += stdout[position..].find(statement).unwrap_or_else(|| panic!("missing `{statement}`: {stdout}"));
        }
    }
    for migration in PLAN.postgres.iter().filter(|migration| migration.version <= postgres_at) {
        assert!(
            !stdout.contains(&format!("({})", migration.upgrade.path)),
            "V{} is applied: {stdout}",
            migration.version
        );
    }
    assert!(stdout.contains("\n-- kafka at `kafka://"), "{stdout}");
    assert!(stdout.contains("\n-- indicators at `postgres://"), "{stdout}");
    assert!(stdout.ends_with("-- dry run finished; nothing was changed\n"), "{stdout}");

    assert_eq!(servers.postgres_history().await, history_before, "the dry run wrote no history");
    assert_eq!(servers.postgres_schema().await, postgres_before, "the dry run changed no schema");
    assert_eq!(servers.clickhouse_schema().await, clickhouse_before);
    assert_eq!(servers.clickhouse_history().await, clickhouse_history_before, "the dry run wrote no history");
    for (topic, existed) in PLAN.topics.iter().zip(topics_before) {
        assert_eq!(broker.topic(topic.name).await.is_some(), existed, "topic {} was created or deleted", topic.name);
    }
    assert!(!outcome.events().iter().any(|event| event.contains("lock_acquired")), "a dry run takes no lock");
}

#[tokio::test]
async fn check_fails_on_pending_changes_and_drift_and_passes_at_the_head() {
    let servers = Servers::new().await;
    let check = ["check", "postgres", "clickhouse", "indicators"];

    let outcome = servers.run(&check);
    assert_eq!(outcome.code, Some(4), "{}", outcome.stdout);
    assert!(
        outcome.stdout.contains(&format!("postgres: nothing applied yet; {} pending", PLAN.postgres.len())),
        "{}",
        outcome.stdout
    );
    assert!(outcome.stdout.contains("\ncheck: failed; postgres ("), "{}", outcome.stdout);

    servers.run(&["migrate", "postgres", "clickhouse", "indicators"]).expect_success("migrate");
    let outcome = servers.run(&check).expect_success("check at the head");
    assert!(
        outcome
            .stdout
            .ends_with(&format!("check: ok; postgres, clickhouse, indicators match the plan {}\n", PLAN.fingerprint)),
        "{}",
        outcome.stdout
    );

    // Drift: an applied migration whose recorded checksum is not the file's.
    let edited = nth_version(PLAN.postgres, 2);
    servers
        .postgres_execute(format!("UPDATE migration_history SET checksum = 'sha256:edited' WHERE version = {edited}"))
        .await;
    let outcome = servers.run(&check);
    assert_eq!(outcome.code, Some(4), "{}", outcome.stdout);
    assert!(outcome.stdout.contains("  problem  ") && outcome.stdout.contains("`sha256:edited`"), "{}", outcome.stdout);
    assert!(outcome.stdout.contains("check: failed; postgres (1 problem)"), "{}", outcome.stdout);
    let json = servers.run(&["check", "postgres", "--format", "json"]);
    assert_eq!(json.code, Some(4));
    let document: Value = serde_json::from_str(&json.stdout).expect("check --format json prints JSON");
    assert_eq!(document["at_plan"], false);
    assert_eq!(document["targets"][0]["problems"].as_array().map(Vec::len), Some(1), "{document}");

    // `repair` accepts the file as it is now; the check passes again.
    // Off a terminal it needs `--yes`; it prints what it will record, then what it recorded.
    let outcome = servers.run(&["repair", "--target", "postgres", "--yes"]).expect_success("repair");
    assert!(outcome.stdout.starts_with("postgres: repair will write to `migration_history`"), "{}", outcome.stdout);
    assert!(outcome.stdout.contains("\npostgres: repair\n"), "{}", outcome.stdout);
    assert!(outcome.stdout.contains("sha256:edited"), "repair says what it changed: {}", outcome.stdout);
    servers.run(&check).expect_success("check after repair");

    // Indicators out of date.
    let indicator = &PLAN.indicators.first().expect("the plan has indicators").name;
    let sql = format!("UPDATE system_indicators SET definition_hash = 'sha256:old' WHERE name = '{indicator}'");
    servers.postgres_execute(sql).await;
    let outcome = servers.run(&check);
    assert_eq!(outcome.code, Some(4), "{}", outcome.stdout);
    assert!(outcome.stdout.contains(&format!("  pending  update `{indicator}`")), "{}", outcome.stdout);
    assert!(outcome.stdout.contains("check: failed; indicators (1 pending)"), "{}", outcome.stdout);
}

#[tokio::test]
async fn status_shows_version_head_and_pending_and_has_a_json_form() {
    let servers = Servers::new().await;
    let at = nth_version(PLAN.postgres, 2);
    servers.run(&["up", "--target", "postgres", "--to", &at.to_string()]).expect_success("up");
    let head = PLAN.postgres.last().map(|migration| migration.version).expect("migrations");

    let outcome = servers.run(&["status", "postgres", "clickhouse"]);
    assert_eq!(outcome.code, Some(4), "{}", outcome.stdout);
    let at_description = PLAN.postgres[1].description;
    assert!(
        outcome.stdout.starts_with(&format!(
            "postgres: V{at} {at_description}; {} pending, 0 problems (plan: V{head})\n",
            PLAN.postgres.len() - 2
        )),
        "{}",
        outcome.stdout
    );

    let outcome = servers.run(&["status", "postgres", "clickhouse", "--format", "json"]);
    assert_eq!(outcome.code, Some(4));
    let document: Value = serde_json::from_str(&outcome.stdout).expect("status --format json prints JSON");
    assert_eq!(document["plan"], PLAN.fingerprint);
    assert_eq!(document["at_plan"], false);
    let postgres = &document["targets"][0];
    assert_eq!(postgres["target"], "postgres");
    assert_eq!(postgres["current"], format!("V{at} {at_description}"));
    assert_eq!(postgres["plan"], format!("V{head}"));
    assert_eq!(postgres["pending"].as_array().map(Vec::len), Some(PLAN.postgres.len() - 2));
    assert_eq!(document["targets"][1]["target"], "clickhouse");
    assert_eq!(document["targets"][1]["current"], Value::Null);
}

#[tokio::test]
async fn history_shows_the_applied_rows() {
    let servers = Servers::new().await;
    let second = nth_version(PLAN.postgres, 2);
    servers.run(&["up", "--target", "postgres", "--to", &second.to_string()]).expect_success("up");

    let outcome = servers.run(&["history"]).expect_success("history");
    let lines: Vec<&str> = outcome.stdout.lines().collect();
    assert!(
        lines[0].starts_with("postgres at `postgres://")
            && lines[0]
                .ends_with(&format!(": 2 applied (plan head V{})", PLAN.postgres.last().map_or(0, |m| m.version))),
        "{}",
        outcome.stdout
    );
    for (line, migration) in lines[1..3].iter().zip(PLAN.postgres) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(fields[0], format!("V{}", migration.version), "{line}");
        assert_eq!(fields[1], migration.description, "{line}");
        assert_eq!(fields[2], "applied", "{line}");
        assert!(line.ends_with(" ms"), "{line}");
    }
    assert!(
        lines[3].starts_with("clickhouse at `http://")
            && lines[3].ends_with(
                ": nothing applied yet (plan head V5)"
                    .replace("V5", &format!("V{}", PLAN.clickhouse.last().map_or(0, |m| m.version)))
                    .as_str()
            ),
        "{}",
        outcome.stdout
    );
    assert!(lines[4].starts_with("mongodb at `mongodb://"), "{}", outcome.stdout);
    assert_eq!(lines.len(), 5, "{}", outcome.stdout);

    let outcome = servers.run(&["history", "--target", "postgres", "-v"]).expect_success("history -v");
    let first = &PLAN.postgres[0];
    assert!(outcome.stdout.contains(&format!("checksum   {} (as in the plan)", first.checksum)), "{}", outcome.stdout);
    assert!(outcome.stdout.contains(&format!("downgrade  {} bytes", first.downgrade.sql.len())), "{}", outcome.stdout);
    assert!(!outcome.stdout.contains("clickhouse"), "{}", outcome.stdout);
}

#[tokio::test]
async fn redo_undoes_and_reapplies_the_last_migration() {
    let servers = Servers::new().await;
    let second = nth_version(PLAN.postgres, 2);
    servers.run(&["up", "--target", "postgres", "--to", &second.to_string()]).expect_success("up");
    let schema = servers.postgres_schema().await;
    let before = servers.postgres_history().await;

    let outcome = servers.run(&["redo", "--target", "postgres", "--yes"]).expect_success("redo");
    let second_description = PLAN.postgres[1].description;
    assert!(
        outcome.stdout.starts_with(&format!("postgres: redid V{second} {second_description}\n")),
        "{}",
        outcome.stdout
    );
    let after = servers.postgres_history().await;
    assert_eq!(after.len(), 2);
    assert_eq!(after[0], before[0], "the first migration was not touched");
    assert_eq!(after[1].0, before[1].0);
    assert!(after[1].1 > before[1].1, "the last migration was applied again");
    assert_eq!(servers.postgres_schema().await, schema);
}

#[tokio::test]
async fn baseline_records_the_plan_without_running_it_once() {
    let servers = Servers::new().await;
    let third = nth_version(PLAN.postgres, 3);

    let outcome = servers.run(&["baseline", "--target", "postgres", &format!("V{third}")]).expect_success("baseline");
    assert!(outcome.stdout.contains("recorded as applied (baseline, not run)"), "{}", outcome.stdout);
    assert_eq!(servers.postgres_versions().await, as_i64(versions_up_to(PLAN.postgres, third)));
    assert_eq!(servers.postgres_schema().await, Vec::<String>::new(), "baseline runs no migration");

    let outcome = servers.run(&["baseline", "--target", "postgres", &third.to_string()]);
    assert_eq!(outcome.code, Some(1), "a second baseline is refused: {}", outcome.stderr);
    assert!(outcome.stderr.contains("error: postgres: cannot record the baseline: "), "{}", outcome.stderr);
}

#[tokio::test]
async fn commands_that_change_a_server_wait_for_the_run_lock_then_give_up() {
    let servers = Servers::new().await;
    let held =
        RunLock::acquire(&servers.postgres.config(), std::time::Duration::ZERO).await.expect("take the run lock");

    for args in
        [&["up", "--target", "clickhouse"][..], &["migrate", "clickhouse"], &["repair", "--target", "clickhouse"]]
    {
        let outcome = servers.run(&[args, &["--lock-timeout", "1s"]].concat());
        assert_eq!(outcome.code, Some(5), "{args:?}: {}", outcome.stderr);
        assert!(outcome.stderr.contains("the run lock"), "{}", outcome.stderr);
    }
    assert!(servers.clickhouse_versions().await.is_empty(), "nothing ran without the lock");

    held.release().await.expect("release the run lock");
    let outcome =
        servers.run(&["up", "--target", "clickhouse", "--to", "1"]).expect_success("up once the lock is free");
    let events = outcome.events();
    let acquired = events.iter().position(|event| event == "postgresql_migrator.lock_acquired");
    let started = events.iter().position(|event| event == "clickhouse_migrator.started");
    assert!(acquired.is_some() && acquired < started, "the lock is taken before ClickHouse runs: {events:?}");
    assert!(events.contains(&"postgresql_migrator.lock_released".to_owned()), "{events:?}");
}

#[tokio::test]
async fn without_postgres_configured_a_clickhouse_run_holds_the_clickhouse_lock() {
    let servers = Servers::new().await;
    let mut command = servers.migrator();
    command.env_remove("DATABASE_URL").args(["up", "--target", "clickhouse", "--to", "1", "--wait", "10s"]);
    let outcome = run(&mut command).expect_success("up without PostgreSQL");
    let events = outcome.events();
    assert!(!events.contains(&"migrator.lock_skipped".to_owned()), "{}", outcome.stderr);
    let acquired = events.iter().position(|event| event == "clickhouse_migrator.lock_acquired");
    let applied = events.iter().position(|event| event == "clickhouse_migrator.migration_applied");
    assert!(acquired.is_some() && acquired < applied, "the lock is taken before anything runs: {events:?}");
    assert!(events.contains(&"clickhouse_migrator.lock_released".to_owned()), "{events:?}");
    assert_eq!(servers.clickhouse_versions().await, vec![nth_version(PLAN.clickhouse, 1)]);
}

#[tokio::test]
async fn without_postgres_a_clickhouse_run_waits_for_the_clickhouse_lock_another_migrator_holds() {
    let servers = Servers::new().await;
    let config = servers.clickhouse.config.clone();
    let held = tradeforge_migrator::targets::clickhouse::RunLock::acquire(&config, std::time::Duration::ZERO)
        .await
        .expect("take the ClickHouse run lock");
    let mut command = servers.migrator();
    command.env_remove("DATABASE_URL").args(["up", "--target", "clickhouse", "--to", "1", "--lock-timeout", "1s"]);
    let outcome = run(&mut command);
    assert_eq!(outcome.code, Some(5), "refused after --lock-timeout: {}", outcome.stderr);
    assert!(outcome.stderr.contains("migration_run_lock"), "{}", outcome.stderr);
    assert!(!servers.clickhouse.table_names().await.contains(&"migration_history".to_owned()), "nothing ran");
    held.release().await.expect("release the ClickHouse run lock");
}
