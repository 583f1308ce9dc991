//! The run stops at a safe point when it must (`targets::checkpoint`): the run lock's session is
//! terminated mid-run (as `pg_terminate_backend`, a restart or a failover would), or the real
//! `migrator` binary gets SIGTERM or SIGINT at a random point of a long run. Each stop must say
//! why, exit with its own code, leave history honest, run no statement twice (every statement of
//! the test plans writes a row to `executions`), and the next run must converge.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use sqlx::{Connection, PgConnection};
use tradeforge_migrator::cli::exit_code;
use tradeforge_migrator::config::{Config, Environment, Overrides};
use tradeforge_migrator::plan::Plan;
use tradeforge_migrator::run::{self, Request, RunError};
use tradeforge_migrator::targets::{ApplyOptions, TargetName};

use common::postgres::{database_url, history_versions, TestDatabase};

mod slow {
    tradeforge_migrator_macros::plan!("fixtures/guard_slow");
}

fn config(pairs: &[(&str, &str)], lock_timeout: &str) -> Config {
    let overrides =
        Overrides { wait: Some("10s".to_owned()), lock_timeout: Some(lock_timeout.to_owned()), ..Overrides::default() };
    Config::load(&Environment::from_pairs(pairs.iter().copied()), &overrides).expect("a valid configuration")
}

async fn migrate(plan: &Plan, config: &Config, target: TargetName) -> Result<run::Applied, RunError> {
    let request = Request { plan, config, targets: vec![target], options: ApplyOptions::default() };
    run::migrate(&request, &mut std::io::sink()).await
}

async fn admin() -> PgConnection {
    let admin_url = std::env::var("TFM_STACK_ADMIN_DATABASE_URL")
        .expect("TFM_STACK_ADMIN_DATABASE_URL is not set; run `eval \"$(scripts/stack env)\"`");
    PgConnection::connect(&admin_url).await.expect("connect to the admin database")
}

/// Waits until a migrator's working session on `database` runs a statement containing `marker`;
/// returns its pid and the pid of the run lock's session, read from its `application_name`
/// (`… run-lock-pid=<pid>`).
async fn working_session(admin: &mut PgConnection, database: &str, marker: &str) -> (i32, i32) {
    let started = Instant::now();
    loop {
        let row: Option<(i32, String)> = sqlx::query_as(
            "SELECT pid, application_name FROM pg_stat_activity
             WHERE datname = $1 AND application_name LIKE '% run-lock-pid=%' AND state = 'active'
                 AND query LIKE '%' || $2 || '%' AND pid <> pg_backend_pid()",
        )
        .bind(database)
        .bind(marker)
        .fetch_optional(&mut *admin)
        .await
        .expect("read pg_stat_activity");
        if let Some((pid, application_name)) = row {
            let lock_pid = application_name.rsplit('=').next().and_then(|pid| pid.parse().ok()).expect("a lock pid");
            return (pid, lock_pid);
        }
        assert!(started.elapsed() < Duration::from_secs(60), "no migrator ran `{marker}` on {database}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The lock session must be the one holding the advisory lock; then it is terminated.
async fn terminate_lock_session(database: &str, marker: &str) {
    let mut admin = admin().await;
    let (_, lock_pid) = working_session(&mut admin, database, marker).await;
    let holds: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE pid = $1 AND locktype = 'advisory' AND granted)",
    )
    .bind(lock_pid)
    .fetch_one(&mut admin)
    .await
    .expect("read pg_locks");
    assert!(holds, "session {lock_pid}, named by the working session, holds the run lock");
    let terminated: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1)")
        .bind(lock_pid)
        .fetch_one(&mut admin)
        .await
        .expect("terminate");
    assert!(terminated);
    let _ = admin.close().await;
}

async fn pg_executions(connection: &mut PgConnection) -> Vec<i64> {
    sqlx::query_scalar("SELECT version::bigint FROM executions ORDER BY version")
        .fetch_all(connection)
        .await
        .expect("read executions")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_lost_run_lock_stops_postgres_before_the_next_migration_and_the_next_run_converges() {
    let database = TestDatabase::new().await;
    let config = config(&[("DATABASE_URL", &database_url(&database.config()))], "30s");
    let (result, ()) = tokio::join!(
        migrate(&slow::PLAN, &config, TargetName::Postgres),
        terminate_lock_session(&database.name, "pg_sleep"),
    );
    let error = result.expect_err("the run stops");
    let message = run::error_chain(&error);
    assert_eq!(error.exit_code(), exit_code::LOCK_LOST, "{message}");
    assert!(message.starts_with("run lock lost: "), "{message}");
    assert!(message.contains("not applied yet: postgres"), "{message}");

    // Honest: every migration that ran is recorded, and only those (the one in flight finished
    // and committed with its row; nothing after it ran).
    let mut connection = database.connect().await;
    let recorded = history_versions(&mut connection).await;
    let ran = pg_executions(&mut connection).await;
    assert!(recorded.len() >= 2 && recorded.len() < 6, "stopped part-way: {recorded:?}");
    assert_eq!(recorded[1..], ran[..], "history records exactly what ran");

    migrate(&slow::PLAN, &config, TargetName::Postgres).await.expect("the next run converges");
    assert_eq!(history_versions(&mut connection).await, [1, 2, 3, 4, 5, 6]);
    assert_eq!(pg_executions(&mut connection).await, [2, 3, 4, 5, 6], "each migration ran once");
    let _ = connection.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_lost_run_lock_stops_clickhouse_before_the_next_statement_and_none_runs_twice() {
    let lock_database = TestDatabase::new().await;
    let clickhouse = common::clickhouse::TestDatabase::new();
    let url = database_url(&lock_database.config());
    let config = config(
        &[
            ("DATABASE_URL", &url),
            ("CLICKHOUSE_URL", &clickhouse.config.url),
            ("CLICKHOUSE_USER", &clickhouse.config.user),
            ("CLICKHOUSE_PASSWORD", clickhouse.config.password.expose()),
            ("CLICKHOUSE_DB", clickhouse.name()),
        ],
        "30s",
    );
    // The ClickHouse-only run holds the lock on PostgreSQL; its only PostgreSQL session is the
    // lock's, found here by the advisory lock it holds once a ClickHouse statement sleeps.
    let terminate = async {
        let mut admin = admin().await;
        let started = Instant::now();
        let lock_pid: i32 = loop {
            let sleeping: u64 = clickhouse_query_count(
                &clickhouse,
                "SELECT count() FROM system.processes WHERE query LIKE 'SELECT sleep%'",
            )
            .await;
            let pid: Option<i32> = sqlx::query_scalar(
                "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted
                     AND database = (SELECT oid FROM pg_database WHERE datname = $1)",
            )
            .bind(&lock_database.name)
            .fetch_optional(&mut admin)
            .await
            .expect("read pg_locks");
            if let (Some(pid), true) = (pid, sleeping > 0) {
                break pid;
            }
            assert!(started.elapsed() < Duration::from_secs(60), "the ClickHouse run never slept");
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        let _: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1)")
            .bind(lock_pid)
            .fetch_one(&mut admin)
            .await
            .expect("terminate");
    };
    let (result, ()) = tokio::join!(migrate(&slow::PLAN, &config, TargetName::Clickhouse), terminate);
    let error = result.expect_err("the run stops");
    let message = run::error_chain(&error);
    assert_eq!(error.exit_code(), exit_code::LOCK_LOST, "{message}");
    assert!(message.starts_with("run lock lost: "), "{message}");
    assert_clickhouse_history_matches_executions(&clickhouse).await;

    migrate(&slow::PLAN, &config, TargetName::Clickhouse).await.expect("the next run converges");
    let executions: Vec<(u32, u32)> = clickhouse
        .client
        .query("SELECT version, statement FROM executions ORDER BY version, statement")
        .fetch_all()
        .await
        .expect("read executions");
    let expected: Vec<(u32, u32)> =
        [2, 3, 4].into_iter().flat_map(|version| [1, 3, 5].map(|statement| (version, statement))).collect();
    assert_eq!(executions, expected, "every statement ran exactly once");
}

/// The case: a ClickHouse run whose lock is on a PostgreSQL that restarts mid-run (a
/// server of the test's own). Before the check, the run went on unguarded and exited 0 while a
/// second migrator could take the lock; now it stops with "run lock lost".
#[tokio::test(flavor = "multi_thread")]
async fn a_postgres_restart_mid_run_stops_a_clickhouse_run_with_run_lock_lost() {
    let server = tokio::task::spawn_blocking(common::private_postgres::PrivatePostgres::start).await.expect("start");
    let server = std::sync::Arc::new(server);
    let clickhouse = common::clickhouse::TestDatabase::new();
    let url = server.url("postgres");
    let config = config(
        &[
            ("DATABASE_URL", &url),
            ("CLICKHOUSE_URL", &clickhouse.config.url),
            ("CLICKHOUSE_USER", &clickhouse.config.user),
            ("CLICKHOUSE_PASSWORD", clickhouse.config.password.expose()),
            ("CLICKHOUSE_DB", clickhouse.name()),
        ],
        "30s",
    );
    let restart = async {
        let started = Instant::now();
        while clickhouse_query_count(
            &clickhouse,
            "SELECT count() FROM system.processes WHERE query LIKE 'SELECT sleep%'",
        )
        .await
            == 0
        {
            assert!(started.elapsed() < Duration::from_secs(60), "the ClickHouse run never slept");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // pg_ctl blocks: off the task that also drives the run.
        let server = std::sync::Arc::clone(&server);
        tokio::task::spawn_blocking(move || server.restart()).await.expect("restart");
    };
    let (result, ()) = tokio::join!(migrate(&slow::PLAN, &config, TargetName::Clickhouse), restart);
    let error = result.expect_err("the run stops");
    let message = run::error_chain(&error);
    assert_eq!(error.exit_code(), exit_code::LOCK_LOST, "{message}");
    assert!(message.starts_with("run lock lost: "), "{message}");
    assert_clickhouse_history_matches_executions(&clickhouse).await;

    migrate(&slow::PLAN, &config, TargetName::Clickhouse).await.expect("the next run converges");
    let executions: Vec<(u32, u32)> = clickhouse
        .client
        .query("SELECT version, statement FROM executions ORDER BY version, statement")
        .fetch_all()
        .await
        .expect("read executions");
    let expected: Vec<(u32, u32)> =
        [2, 3, 4].into_iter().flat_map(|version| [1, 3, 5].map(|statement| (version, statement))).collect();
    assert_eq!(executions, expected, "every statement ran exactly once");
}

/// History is honest on ClickHouse: each version's recorded progress (`statements_done`)
/// accounts for exactly the `executions` rows its statements wrote (statements 1, 3 and 5 write
/// one each; 2 and 4 sleep), and no unrecorded version wrote any.
async fn assert_clickhouse_history_matches_executions(clickhouse: &common::clickhouse::TestDatabase) {
    let progress: Vec<(u64, u32)> = clickhouse
        .client
        .query("SELECT version, statements_done FROM migration_history FINAL WHERE version > 1 ORDER BY version")
        .fetch_all()
        .await
        .expect("read migration_history");
    let executions: Vec<(u32, u32)> = clickhouse
        .client
        .query("SELECT version, statement FROM executions ORDER BY version, statement")
        .fetch_all()
        .await
        .expect("read executions");
    let expected: Vec<(u32, u32)> = progress
        .iter()
        .flat_map(|&(version, done)| {
            [1, 3, 5]
                .into_iter()
                .filter(move |statement| *statement <= done)
                .map(move |statement| (version as u32, statement))
        })
        .collect();
    assert_eq!(executions, expected, "history {progress:?} accounts for exactly what ran");
}

async fn clickhouse_query_count(database: &common::clickhouse::TestDatabase, sql: &str) -> u64 {
    database.client.query(sql).fetch_one().await.unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_migrator_refused_the_lock_names_the_holders_working_session() {
    let database = TestDatabase::new().await;
    let url = database_url(&database.config());
    let holder_config = config(&[("DATABASE_URL", &url)], "30s");
    let refused_config = config(&[("DATABASE_URL", &url)], "0s");
    let refused = async {
        let mut admin = admin().await;
        let (working_pid, lock_pid) = working_session(&mut admin, &database.name, "pg_sleep").await;
        let error = migrate(&slow::PLAN, &refused_config, TargetName::Postgres).await.expect_err("refused");
        let _ = admin.close().await;
        (error, working_pid, lock_pid)
    };
    let (holder, (error, working_pid, lock_pid)) =
        tokio::join!(migrate(&slow::PLAN, &holder_config, TargetName::Postgres), refused);
    holder.expect("the holder finishes");
    let message = run::error_chain(&error);
    assert_eq!(error.exit_code(), exit_code::LOCKED, "{message}");
    assert!(message.contains(&format!("held by pid {lock_pid} ")), "{message}");
    assert!(message.contains(&format!("its working session is pid {working_pid}")), "{message}");
    assert!(message.contains(&format!("pg_terminate_backend({working_pid})")), "{message}");
}

// Signals, on the real binary ----------------------------------------------------------------

/// Installs, in `database`, an event trigger that logs every DDL command into `probe.ddl_log` (in the
/// command's own transaction, so only committed commands stay logged) and sleeps 0.2 s after
/// each: the repository's migrations then take many seconds, long enough to be signalled.
async fn slow_down_ddl(connection: &mut PgConnection) {
    sqlx::raw_sql(
        "CREATE SCHEMA probe;
         CREATE TABLE probe.ddl_log (tag text, identity text);
         CREATE FUNCTION log_and_sleep() RETURNS event_trigger LANGUAGE plpgsql AS $$
         DECLARE command record;
         BEGIN
             FOR command IN SELECT * FROM pg_event_trigger_ddl_commands() LOOP
                 INSERT INTO probe.ddl_log VALUES (command.command_tag, command.object_identity);
             END LOOP;
             PERFORM pg_sleep(0.2);
         END $$;
         CREATE EVENT TRIGGER log_and_sleep ON ddl_command_end EXECUTE FUNCTION log_and_sleep();",
    )
    .execute(connection)
    .await
    .expect("install the slowing event trigger");
}

/// `CREATE …` commands logged more than once: a statement that ran twice.
async fn repeated_creates(connection: &mut PgConnection) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT tag || ' ' || identity FROM probe.ddl_log
         WHERE tag LIKE 'CREATE%' AND identity NOT LIKE '%migration_history%'
         GROUP BY tag, identity HAVING count(*) > 1",
    )
    .fetch_all(connection)
    .await
    .expect("read ddl_log")
}

fn migrator(database: &TestDatabase, args: &[&str]) -> Command {
    let mut command = common::binary::migrator();
    command
        .env("DATABASE_URL", database_url(&database.config()))
        .env("CLICKHOUSE_URL", std::env::var("CLICKHOUSE_URL").unwrap_or_default())
        .env("CLICKHOUSE_USER", std::env::var("CLICKHOUSE_USER").unwrap_or_else(|_| "default".to_owned()))
        .env("CLICKHOUSE_PASSWORD", std::env::var("CLICKHOUSE_PASSWORD").unwrap_or_default())
        .args(["--log-format", "json"])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

fn send(child: &Child, signal: &str) {
    let status = Command::new("kill").args([signal, &child.id().to_string()]).status().expect("run kill");
    assert!(status.success(), "kill {signal}");
}

/// 0..`bound` milliseconds, different on every run, printed so a failure can be replayed.
fn random_delay(bound: u64) -> Duration {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |elapsed| elapsed.subsec_nanos());
    let delay = Duration::from_millis(u64::from(nanos) % bound);
    eprintln!("signalling after {delay:?}");
    delay
}

struct Finished {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn finish(mut child: Child) -> Finished {
    let mut stdout = String::new();
    let mut stderr = String::new();
    child.stdout.take().expect("stdout").read_to_string(&mut stdout).expect("read stdout");
    child.stderr.take().expect("stderr").read_to_string(&mut stderr).expect("read stderr");
    let status = child.wait().expect("wait for migrator");
    eprintln!("migrator exited with {status}\n--- stdout\n{stdout}--- stderr\n{stderr}");
    Finished { code: status.code(), stdout, stderr }
}

/// SIGTERM or SIGINT at a random point of `migrate postgres` on a database where every DDL is
/// slow: the run stops at a safe point with the signal's code, says what was and was not
/// applied, releases the lock, leaves history honest, and the next run converges.
async fn signal_stops_the_run_at_a_safe_point(signal: &str, expected_code: u8) {
    let database = TestDatabase::new().await;
    let mut connection = database.connect().await;
    slow_down_ddl(&mut connection).await;
    let child = migrator(&database, &["migrate", "postgres"]).spawn().expect("start migrator");
    let mut admin = admin().await;
    working_session(&mut admin, &database.name, "").await;
    tokio::time::sleep(random_delay(4000)).await;
    send(&child, signal);
    let finished = finish(child);

    let recorded = history_versions(&mut connection).await;
    let planned = tradeforge_migrator::PLAN.postgres.len();
    assert_eq!(finished.code, Some(i32::from(expected_code)), "exit code");
    assert!(recorded.len() < planned, "stopped before the end: {recorded:?}");
    let error_line = finished.stderr.lines().find(|line| line.starts_with("error: ")).expect("an error line");
    assert!(error_line.contains(&format!("stopped by {} at a safe point", signal_name(signal))), "{error_line}");
    assert!(error_line.contains("not applied yet: postgres"), "{error_line}");
    assert!(finished.stderr.contains("postgresql_migrator.lock_released"), "the lock was released");
    assert!(repeated_creates(&mut connection).await.is_empty());
    let lock_left: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database()))",
    )
    .fetch_one(&mut connection)
    .await
    .expect("read pg_locks");
    assert!(!lock_left, "no run lock is left behind");

    let again = finish(migrator(&database, &["migrate", "postgres"]).spawn().expect("start migrator"));
    assert_eq!(again.code, Some(0), "the next run converges");
    assert!(again.stdout.contains("postgres: applied"), "{}", again.stdout);
    assert_eq!(history_versions(&mut connection).await.len(), planned);
    assert_eq!(repeated_creates(&mut connection).await, Vec::<String>::new(), "no statement ran twice");
    let _ = admin.close().await;
    let _ = connection.close().await;
}

fn signal_name(signal: &str) -> &'static str {
    match signal {
        "-TERM" => "SIGTERM",
        "-INT" => "SIGINT",
        _ => unreachable!("a signal of this test"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_stops_migrate_at_a_safe_point_with_143() {
    signal_stops_the_run_at_a_safe_point("-TERM", exit_code::TERMINATED).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sigint_stops_migrate_at_a_safe_point_with_130() {
    signal_stops_the_run_at_a_safe_point("-INT", exit_code::INTERRUPTED).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_signal_stops_at_once_and_the_next_run_converges() {
    let database = TestDatabase::new().await;
    let mut connection = database.connect().await;
    slow_down_ddl(&mut connection).await;
    let mut child = migrator(&database, &["migrate", "postgres"]).spawn().expect("start migrator");
    // The log, line by line: the signals are sent when a slow migration has just started (so it
    // is still running when the second arrives), the second once the first was seen.
    let (lines, log) = std::sync::mpsc::channel();
    let stderr = BufReader::new(child.stderr.take().expect("stderr"));
    let reader = std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            let _ = lines.send(line);
        }
    });
    let version = 2 + random_delay(5).as_millis(); // V2..V6, each several slow DDL statements.
    let started_version = format!("\"version\":{version},");
    let mut stderr = String::new();
    let mut wait_for = |markers: &[&str]| {
        for line in log.iter() {
            stderr.push_str(&line);
            stderr.push('\n');
            if markers.iter().all(|marker| line.contains(marker)) {
                return;
            }
        }
        panic!("the log never showed {markers:?}:\n{stderr}");
    };
    wait_for(&["\"postgresql_migrator.migration_started\"", &started_version]);
    send(&child, "-TERM");
    wait_for(&["\"migrator.stopping\""]);
    send(&child, "-TERM");
    let status = child.wait().expect("wait for migrator");
    reader.join().expect("the log reader");
    stderr.extend(log.try_iter().map(|line| line + "\n"));
    eprintln!("migrator exited with {status}\n--- stderr\n{stderr}");
    assert_eq!(status.code(), Some(i32::from(exit_code::TERMINATED)));
    assert!(stderr.contains("migrator.stopped_at_once"), "stopped by the second signal");
    let recorded = history_versions(&mut connection).await;
    assert!(!recorded.contains(&(version as i64)), "V{version}, stopped in flight, rolled back: {recorded:?}");

    let again = finish(migrator(&database, &["migrate", "postgres"]).spawn().expect("start migrator"));
    assert_eq!(again.code, Some(0), "the next run converges");
    assert_eq!(history_versions(&mut connection).await.len(), tradeforge_migrator::PLAN.postgres.len());
    assert_eq!(repeated_creates(&mut connection).await, Vec::<String>::new(), "no statement ran twice");
    let _ = connection.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn verify_downgrades_drops_its_scratch_database_on_sigterm() {
    // The scratch database is made by the migrator; the test slows its DDL as soon as it exists.
    let database = TestDatabase::new().await;
    let mut child = migrator(&database, &["verify-downgrades", "--target", "postgres", "--create-scratch"])
        .spawn()
        .expect("start migrator");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    stdout.read_line(&mut line).expect("read the first line");
    let scratch = line.split('`').nth(1).expect("the scratch database's name").to_owned();
    let mut scratch_url =
        url::Url::parse(&std::env::var("TFM_STACK_ADMIN_DATABASE_URL").expect("admin URL")).expect("admin URL parses");
    scratch_url.set_path(&scratch);
    let mut scratch_connection = PgConnection::connect(scratch_url.as_str()).await.expect("connect to the scratch");
    slow_down_ddl(&mut scratch_connection).await;
    let _ = scratch_connection.close().await;
    tokio::time::sleep(Duration::from_millis(500) + random_delay(1000)).await;
    send(&child, "-TERM");
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).expect("read stdout");
    let mut stderr = String::new();
    child.stderr.take().expect("stderr").read_to_string(&mut stderr).expect("read stderr");
    let status = child.wait().expect("wait for migrator");
    eprintln!("migrator exited with {status}\n--- stdout\n{line}{rest}--- stderr\n{stderr}");
    assert_eq!(status.code(), Some(i32::from(exit_code::TERMINATED)));
    assert!(rest.contains(&format!("dropped scratch database `{scratch}`")), "{rest}");
    let mut admin = admin().await;
    let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
        .bind(&scratch)
        .fetch_one(&mut admin)
        .await
        .expect("read pg_database");
    assert!(!exists, "the scratch database `{scratch}` is gone");
    let _ = admin.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_while_waiting_for_the_lock_stops_at_once_with_nothing_applied() {
    let database = TestDatabase::new().await;
    let mut holder = database.connect().await;
    sqlx::raw_sql("SELECT pg_advisory_lock(8387511655498670452)").execute(&mut holder).await.expect("take the lock");
    let mut child = migrator(&database, &["migrate", "postgres", "--lock-timeout", "5m"]).spawn().expect("start");
    let stderr = BufReader::new(child.stderr.take().expect("stderr"));
    let mut seen = String::new();
    for line in stderr.lines().map_while(Result::ok) {
        seen.push_str(&line);
        seen.push('\n');
        if line.contains("\"postgresql_migrator.lock_waiting\"") {
            send(&child, "-TERM");
        }
    }
    let status = child.wait().expect("wait for migrator");
    eprintln!("migrator exited with {status}\n--- stderr\n{seen}");
    assert_eq!(status.code(), Some(i32::from(exit_code::TERMINATED)));
    assert!(seen.contains("error: stopped by SIGTERM at a safe point; nothing was applied"), "{seen}");
    let mut connection = database.connect().await;
    let tables: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
        .fetch_one(&mut connection)
        .await
        .expect("read pg_tables");
    assert_eq!(tables, 0, "nothing ran");
    let _ = holder.close().await;
    let _ = connection.close().await;
}
