//! `verify-downgrades` against the stack's real servers: the repository's own migrations are
//! proven on both databases through the binary with `--create-scratch` (and the scratch databases
//! are gone afterwards); a fixture whose downgrade forgets an index (PostgreSQL) or a column
//! (ClickHouse) fails naming that migration and its downgrade file; a database with history is
//! refused before anything changes.

mod common;

use std::process::Command;

use tradeforge_migrator::commands::verify::{self, VerifyError, VerifyOptions};
use tradeforge_migrator::commands::versions::Session;
use tradeforge_migrator::commands::CommandError;
use tradeforge_migrator::config::{Config, Environment, Overrides};
use tradeforge_migrator::plan::{Plan, SqlTarget};
use tradeforge_migrator::targets::postgres::PostgresTarget;
use tradeforge_migrator::targets::VersionedTarget;

mod pg_broken {
    tradeforge_migrator_macros::plan!("fixtures/verify_pg_broken");
}

mod ch_broken {
    tradeforge_migrator_macros::plan!("fixtures/verify_ch_broken");
}

mod pg_declared {
    tradeforge_migrator_macros::plan!("fixtures/verify_pg_declared");
}

/// A configuration whose databases are the test's own.
fn config(postgres: &common::postgres::TestDatabase, clickhouse: &common::clickhouse::TestDatabase) -> Config {
    let mut config = Config::load(&Environment::from_pairs([("MIGRATE", "enabled")]), &Overrides::default())
        .expect("a valid configuration");
    config.postgres = postgres.config();
    config.clickhouse = clickhouse.config.clone();
    config
}

async fn verify_on(plan: &Plan, config: &Config, target: SqlTarget) -> (Result<(), CommandError>, String) {
    verify_with(plan, config, target, VerifyOptions::default()).await
}

async fn verify_with(
    plan: &Plan,
    config: &Config,
    target: SqlTarget,
    options: VerifyOptions,
) -> (Result<(), CommandError>, String) {
    let mut out = Vec::new();
    let result = verify::verify_downgrades(Session { plan, config }, &[target], options, &mut out).await;
    (result, String::from_utf8(out).expect("UTF-8 output"))
}

fn stack_env(command: &mut Command) -> &mut Command {
    for variable in [
        "DATABASE_URL",
        "CLICKHOUSE_URL",
        "CLICKHOUSE_DB",
        "CLICKHOUSE_USER",
        "CLICKHOUSE_PASSWORD",
        "MONGO_HOST",
        "MONGO_PORT",
    ] {
        if let Ok(value) = std::env::var(variable) {
            command.env(variable, value);
        }
    }
    command
}

/// The scratch database names the output reports as created.
fn scratch_names(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter_map(|line| line.split_once("created scratch database `"))
        .filter_map(|(_, rest)| rest.split_once('`'))
        .map(|(name, _)| name.to_owned())
        .collect()
}

#[test]
fn the_repository_downgrades_undo_their_upgrades_on_scratch_databases() {
    let output = stack_env(Command::new(env!("CARGO_BIN_EXE_migrator")).env_clear())
        .args(["--log-format", "json", "verify-downgrades", "--create-scratch", "--wait", "30s"])
        .output()
        .expect("run migrator");
    let stdout = String::from_utf8(output.stdout).expect("UTF-8 stdout");
    let stderr = String::from_utf8(output.stderr).expect("UTF-8 stderr");
    assert_eq!(output.status.code(), Some(0), "stdout:\n{stdout}\nstderr:\n{stderr}");
    for target in ["postgres", "clickhouse", "mongodb"] {
        assert!(
            stdout.contains(&format!("{target}: every downgrade undoes its upgrade")),
            "no verdict for {target}:\n{stdout}"
        );
        assert!(stdout.contains(&format!("{target}: dropped scratch database `tfm_verify_")), "{stdout}");
    }
    let steps = stderr.lines().filter(|line| line.contains("\"event\":\"verify.step\"")).count();
    let plan = &tradeforge_migrator::PLAN;
    let migrations = plan.postgres.len() + plan.clickhouse.len() + plan.mongodb.len();
    assert_eq!(steps, 3 * migrations, "up, down and up again per migration:\n{stderr}");

    let names = scratch_names(&stdout);
    // MongoDB creates a database on first write: it says "using scratch database" instead.
    assert_eq!(names.len(), 2, "postgres and clickhouse: {stdout}");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let admin = std::env::var("TFM_STACK_ADMIN_DATABASE_URL").expect("TFM_STACK_ADMIN_DATABASE_URL");
        let mut connection = <sqlx::PgConnection as sqlx::Connection>::connect(&admin).await.expect("connect");
        let left: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_database WHERE datname = ANY($1)")
            .bind(&names)
            .fetch_one(&mut connection)
            .await
            .expect("read pg_database");
        assert_eq!(left, 0, "the PostgreSQL scratch database was dropped");
        let url = std::env::var("CLICKHOUSE_URL").unwrap_or_else(|_| "http://127.0.0.1:58123".to_owned());
        let client = clickhouse::Client::default().with_url(url).with_validation(false);
        let left: u64 = client
            .query("SELECT count() FROM system.databases WHERE name IN (?, ?)")
            .bind(names[0].as_str())
            .bind(names[1].as_str())
            .fetch_one()
            .await
            .expect("read system.databases");
        assert_eq!(left, 0, "the ClickHouse scratch database was dropped");
    });
}

#[tokio::test]
async fn a_postgres_downgrade_that_forgets_an_index_is_named() {
    let postgres = common::postgres::TestDatabase::new().await;
    let clickhouse = common::clickhouse::TestDatabase::new();
    let config = config(&postgres, &clickhouse);
    let (result, out) = verify_on(&pg_broken::PLAN, &config, SqlTarget::Postgres).await;
    let error = result.expect_err("the broken downgrade is found");
    let CommandError::Verify(VerifyError::DowngradeDiffers { version, path, differences, .. }) = &error else {
        panic!("unexpected error: {error}\n{out}");
    };
    assert_eq!(*version, 2, "{error}");
    assert!(path.ends_with("downgrade/V2-account_notes.sql"), "{path}");
    assert!(differences.missing.is_empty(), "{differences:?}");
    assert_eq!(differences.unexpected.len(), 1, "{differences:?}");
    assert!(
        differences.unexpected[0].starts_with("index public.accounts_email_lower_idx: CREATE INDEX"),
        "{differences:?}"
    );
    let message = error.to_string();
    assert!(message.contains("V2 account_notes") && message.contains("accounts_email_lower_idx"), "{message}");
    assert!(out.contains("postgres: V3 orders down: schema as before its upgrade"), "{out}");
    assert!(out.contains("postgres: V2 account_notes down: SCHEMA DIFFERS"), "{out}");
    assert!(out.contains("    + index public.accounts_email_lower_idx"), "{out}");

    // The database holds what the failed downgrade left: V1 applied, the index still there.
    let mut connection = postgres.connect().await;
    let versions: Vec<i64> = sqlx::query_scalar("SELECT version FROM migration_history ORDER BY version")
        .fetch_all(&mut connection)
        .await
        .expect("read migration_history");
    assert_eq!(versions, [1]);
    let index: Option<String> = sqlx::query_scalar("SELECT to_regclass('accounts_email_lower_idx')::text")
        .fetch_one(&mut connection)
        .await
        .expect("look for the index");
    assert_eq!(index.as_deref(), Some("accounts_email_lower_idx"));
}

#[tokio::test]
async fn a_clickhouse_downgrade_that_forgets_a_column_is_named() {
    let postgres = common::postgres::TestDatabase::new().await;
    let clickhouse = common::clickhouse::TestDatabase::new();
    let config = config(&postgres, &clickhouse);
    let (result, out) = verify_on(&ch_broken::PLAN, &config, SqlTarget::ClickHouse).await;
    let error = result.expect_err("the broken downgrade is found");
    let CommandError::Verify(VerifyError::DowngradeDiffers { version, path, differences, .. }) = &error else {
        panic!("unexpected error: {error}\n{out}");
    };
    assert_eq!(*version, 2, "{error}");
    assert!(path.ends_with("downgrade/V2-prices.sql"), "{path}");
    assert!(
        differences.unexpected.iter().any(|line| line.starts_with("column `orders`.`price` position=3 type=Float64")),
        "{differences:?}"
    );
    assert!(out.contains("clickhouse: V3 order_count down: schema as before its upgrade"), "{out}");
    let columns: Vec<String> = clickhouse
        .client
        .query("SELECT name FROM system.columns WHERE database = ? AND table = 'orders'")
        .bind(clickhouse.name())
        .fetch_all()
        .await
        .expect("read system.columns");
    assert_eq!(columns, ["id", "symbol", "price"], "the column the downgrade forgot is still there");
}

/// V4's and V2's downgrades each forget something, V3's is a declared no-op and V1's is declared
/// irreversible: `--keep-going` names both broken files in one run, the no-op is reported as
/// declared, and the walk stops above V1.
#[tokio::test]
async fn keep_going_reports_every_broken_downgrade_and_declared_ones_are_not_failures() {
    let postgres = common::postgres::TestDatabase::new().await;
    let clickhouse = common::clickhouse::TestDatabase::new();
    let config = config(&postgres, &clickhouse);
    let options = VerifyOptions { keep_going: true, ..VerifyOptions::default() };
    let (result, out) = verify_with(&pg_declared::PLAN, &config, SqlTarget::Postgres, options).await;
    let error = result.expect_err("two broken downgrades");
    let CommandError::Verify(VerifyError::Several { errors, .. }) = &error else {
        panic!("unexpected error: {error}\n{out}");
    };
    let versions: Vec<u64> = errors
        .iter()
        .map(|error| match error {
            VerifyError::DowngradeDiffers { version, .. } => *version,
            other => panic!("unexpected finding: {other}"),
        })
        .collect();
    assert_eq!(versions, [4, 2], "{error}\n{out}");
    let message = error.to_string();
    assert!(message.contains("downgrade/V4-tags.sql") && message.contains("downgrade/V2-notes.sql"), "{message}");
    assert!(out.contains("postgres: V3 admin down: declared no-op (the admin account is harmless"), "{out}");
    assert!(out.contains("postgres: V1 accounts down: declared irreversible (accounts hold customer data"), "{out}");
    assert!(out.contains("    + column public.notes.body position=2"), "{out}");
    assert_eq!(out.matches("+ column public.notes.body").count(), 1, "reported once, under V4:\n{out}");
    assert!(out.contains("    + index public.accounts_email_idx"), "{out}");
    assert!(out.contains("postgres: V4 tags up again: schema as after its first upgrade"), "{out}");

    // Without `--keep-going` the first broken downgrade ends the run.
    let postgres = common::postgres::TestDatabase::new().await;
    let config = self::config(&postgres, &clickhouse);
    let (result, _) = verify_on(&pg_declared::PLAN, &config, SqlTarget::Postgres).await;
    let error = result.expect_err("V4 is broken");
    assert!(matches!(error, CommandError::Verify(VerifyError::DowngradeDiffers { version: 4, .. })), "{error}");
}

#[tokio::test]
async fn a_database_with_history_is_refused_before_anything_changes() {
    let postgres = common::postgres::TestDatabase::new().await;
    let clickhouse = common::clickhouse::TestDatabase::new();
    let config = config(&postgres, &clickhouse);
    let mut target = PostgresTarget::new(&config.postgres);
    target.upgrade_to(&pg_broken::PLAN, Some(1)).await.expect("apply V1");
    let before = target.schema_dump().await.expect("dump");

    let (result, out) = verify_on(&pg_broken::PLAN, &config, SqlTarget::Postgres).await;
    let error = result.expect_err("refused");
    assert!(matches!(error, CommandError::Verify(VerifyError::NotScratch { count: 1, current: 1, .. })), "{error}");
    assert!(error.to_string().contains("--create-scratch"), "{error}");
    assert!(!out.contains("V1 accounts"), "nothing ran: {out}");
    assert_eq!(target.schema_dump().await.expect("dump"), before);
    assert_eq!(target.history_entries().await.expect("history").len(), 1);
}

#[tokio::test]
async fn the_postgres_dump_shows_every_kind_of_object_and_not_the_history() {
    let postgres = common::postgres::TestDatabase::new().await;
    let mut target = PostgresTarget::new(&postgres.config());
    target.upgrade_to(&pg_broken::PLAN, None).await.expect("apply the fixture");
    let mut connection = postgres.connect().await;
    sqlx::raw_sql(
        "CREATE TYPE side AS ENUM ('buy', 'sell');
         CREATE FUNCTION one() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;
         CREATE VIEW account_emails AS SELECT email FROM accounts;",
    )
    .execute(&mut connection)
    .await
    .expect("create objects by hand");
    let dump = target.schema_dump().await.expect("dump");
    for expected in [
        "schema public",
        "relation public.accounts kind=r",
        "column public.accounts.email position=2 type=text not null",
        "column public.accounts.id position=1 type=bigint not null default nextval('accounts_id_seq'::regclass)",
        "constraint public.orders orders_account_id_fkey: FOREIGN KEY (account_id) REFERENCES accounts(id)",
        "index public.accounts_email_key: CREATE UNIQUE INDEX accounts_email_key ON public.accounts USING btree (email)",
        "sequence public.accounts_id_seq type=bigint",
        "type public.side kind=e labels='buy','sell'",
        "function public.one(): CREATE OR REPLACE FUNCTION public.one()",
        "view public.account_emails: SELECT accounts.email FROM accounts;",
    ] {
        assert!(dump.lines().any(|line| line.starts_with(expected)), "no line starting with `{expected}`:\n{dump}");
    }
    assert!(!dump.contains("migration_history"), "{dump}");
    let mut lines: Vec<&str> = dump.lines().collect();
    lines.sort();
    assert_eq!(lines, dump.lines().collect::<Vec<_>>(), "sorted");
}
