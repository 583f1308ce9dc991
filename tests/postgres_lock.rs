//! The run lock against the stack's real PostgreSQL: waiting, timing out with the holder named,
//! release on drop, no deadlock with `CREATE INDEX CONCURRENTLY`, and refusal behind a PgBouncer
//! in transaction pooling (a real pgbouncer, started here; `scripts/stack up` installs it, and the
//! tests fail without it).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::free_port;
use common::postgres::TestDatabase;
use sqlx::PgConnection;
use tradeforge_migrator::config::PostgresConfig;
use tradeforge_migrator::targets::postgres::{PostgresError, PostgresTarget, RunLock, RUN_LOCK_KEY};
use tradeforge_migrator::targets::{ApplyOptions, Target};

mod ops {
    tradeforge_migrator_macros::plan!("fixtures/pg_ops");
}

/// The pids of the sessions holding the run lock on the test's database.
async fn holders(connection: &mut PgConnection) -> Vec<i32> {
    sqlx::query_scalar(
        "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1
         AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
         AND classid::bigint = ($1::bigint >> 32) AND objid::bigint = ($1::bigint & 4294967295)",
    )
    .bind(RUN_LOCK_KEY)
    .fetch_all(connection)
    .await
    .expect("read pg_locks")
}

fn named(config: &PostgresConfig, application_name: &str) -> PostgresConfig {
    let mut config = config.clone();
    config.params.retain(|(key, _)| key != "application_name");
    config.params.push(("application_name".to_owned(), application_name.to_owned()));
    config
}

#[tokio::test]
async fn second_locker_waits_until_the_first_releases() {
    let database = TestDatabase::new().await;
    let first = RunLock::acquire(&database.config(), Duration::ZERO).await.expect("the first takes the lock");
    let mut connection = database.connect().await;
    assert_eq!(holders(&mut connection).await.len(), 1);
    let config = database.config();
    let second = tokio::spawn(async move { RunLock::acquire(&config, Duration::from_secs(30)).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!second.is_finished(), "the second waits while the first holds the lock");

    first.release().await.expect("release");

    let second = tokio::time::timeout(Duration::from_secs(10), second)
        .await
        .expect("the second gets the lock soon after the release")
        .expect("task")
        .expect("the second takes the lock");
    assert_eq!(holders(&mut connection).await.len(), 1, "held once, by the second");
    second.release().await.expect("release");
    assert_eq!(holders(&mut connection).await, Vec::<i32>::new());
}

#[tokio::test]
async fn second_locker_times_out_naming_the_holder() {
    let database = TestDatabase::new().await;
    let first = RunLock::acquire(&named(&database.config(), "tfm-lock-holder"), Duration::ZERO).await.expect("lock");
    let holder_pid = holders(&mut database.connect().await).await[0];
    let started = Instant::now();

    let error = RunLock::acquire(&database.config(), Duration::from_millis(400)).await.expect_err("times out");

    assert!(started.elapsed() >= Duration::from_millis(400), "waited the whole timeout");
    assert!(started.elapsed() < Duration::from_secs(5), "and not much longer: {:?}", started.elapsed());
    assert!(matches!(error, PostgresError::LockTimeout { pid: Some(pid), .. } if pid == holder_pid), "{error:?}");
    let message = error.to_string();
    assert!(message.contains(&format!("held by pid {holder_pid} (application `tfm-lock-holder`")), "{message}");
    assert!(message.contains("--lock-timeout"), "{message}");
    assert!(message.contains(&format!("pg_terminate_backend({holder_pid})")), "{message}");
    first.release().await.expect("release");
}

#[tokio::test]
async fn dropping_the_lock_releases_it() {
    let database = TestDatabase::new().await;
    let first = RunLock::acquire(&database.config(), Duration::ZERO).await.expect("lock");

    drop(first);

    // The server ends the session when it sees the connection closed, a moment later.
    let second = RunLock::acquire(&database.config(), Duration::from_secs(10)).await.expect("lock again");
    second.release().await.expect("release");
}

#[tokio::test]
async fn the_lock_is_per_database() {
    let database = TestDatabase::new().await;
    let other = TestDatabase::new().await;
    let first = RunLock::acquire(&database.config(), Duration::ZERO).await.expect("lock");

    let second = RunLock::acquire(&other.config(), Duration::ZERO).await.expect("another database is not locked");

    second.release().await.expect("release");
    first.release().await.expect("release");
}

#[tokio::test]
async fn create_index_concurrently_runs_while_the_lock_is_held() {
    let database = TestDatabase::new().await;
    let lock = RunLock::acquire(&database.config(), Duration::ZERO).await.expect("lock");
    let mut target = PostgresTarget::new(&database.config());
    assert!(!ops::PLAN.postgres[2].upgrade.transactional, "V3 creates its indexes concurrently");

    let applied = tokio::time::timeout(Duration::from_secs(60), target.apply(&ops::PLAN, &ApplyOptions::default()))
        .await
        .expect("CREATE INDEX CONCURRENTLY does not wait on the lock's session")
        .expect("apply");

    assert_eq!(applied.0.len(), 4, "{applied:?}");
    let valid: Vec<bool> = sqlx::query_scalar(
        "SELECT index.indisvalid FROM pg_index index JOIN pg_class class ON class.oid = index.indexrelid
         WHERE class.relname IN ('orders_account_id_idx', 'orders_side_idx')",
    )
    .fetch_all(&mut database.connect().await)
    .await
    .expect("look up the indexes");
    assert_eq!(valid, [true, true]);
    lock.release().await.expect("release");
}

#[tokio::test]
async fn lock_through_pgbouncer_in_transaction_pooling_is_refused() {
    let database = TestDatabase::new().await;
    let direct = database.config();
    let pgbouncer = PgBouncer::start(&direct, "transaction");
    let mut pooled = direct.clone();
    pooled.host = "127.0.0.1".to_owned();
    pooled.port = pgbouncer.port;

    let error = RunLock::acquire(&pooled, Duration::ZERO).await.expect_err("a pooled session cannot hold the lock");

    assert!(matches!(error, PostgresError::LockBehindPooler { .. }), "{error:?}");
    assert!(error.to_string().contains("MIGRATOR_LOCK_DATABASE_URL"), "{error}");
    assert_eq!(holders(&mut database.connect().await).await, Vec::<i32>::new(), "no lock left on a pooled session");
    // The fix the message names: lock through a direct URL of the same database.
    let lock = RunLock::acquire(&direct, Duration::ZERO).await.expect("a direct connection holds the lock");
    lock.release().await.expect("release");
}

#[tokio::test]
async fn lock_through_pgbouncer_in_session_pooling_is_held() {
    let database = TestDatabase::new().await;
    let pgbouncer = PgBouncer::start(&database.config(), "session");
    let mut pooled = database.config();
    pooled.host = "127.0.0.1".to_owned();
    pooled.port = pgbouncer.port;

    let lock = RunLock::acquire(&pooled, Duration::ZERO).await.expect("session pooling keeps one server session");

    assert_eq!(holders(&mut database.connect().await).await.len(), 1);
    lock.release().await.expect("release");
}

/// A pgbouncer in front of the stack's PostgreSQL, on a free loopback port, killed on drop.
struct PgBouncer {
    child: Child,
    port: u16,
    _directory: tempfile::TempDir,
}

impl PgBouncer {
    /// Panics when pgbouncer is not installed: `scripts/stack up` installs it, and a test that
    /// passed without it would prove nothing.
    fn start(upstream: &PostgresConfig, pool_mode: &str) -> PgBouncer {
        let binary = pgbouncer_binary().unwrap_or_else(|| {
            panic!(
                "pgbouncer is not installed (looked in /usr/sbin, /usr/bin, /usr/local/bin); `scripts/stack up` \
                 installs it, or `apt-get install pgbouncer`"
            )
        });
        let directory = tempfile::tempdir().expect("temporary directory");
        let port = free_port();
        write_config(directory.path(), upstream, port, pool_mode);
        let mut command = Command::new(binary);
        // pgbouncer refuses to run as root; `-u` makes it switch to the `postgres` user.
        if is_root() {
            command.args(["-u", "postgres"]);
        }
        let child = command
            .arg(directory.path().join("pgbouncer.ini"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start pgbouncer");
        let pgbouncer = PgBouncer { child, port, _directory: directory };
        pgbouncer.wait_until_listening();
        pgbouncer
    }

    fn wait_until_listening(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "pgbouncer did not listen on 127.0.0.1:{} within 10 s", self.port);
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for PgBouncer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn pgbouncer_binary() -> Option<PathBuf> {
    ["/usr/sbin/pgbouncer", "/usr/bin/pgbouncer", "/usr/local/bin/pgbouncer"]
        .into_iter()
        .map(PathBuf::from)
        .find(|path| path.is_file())
}

/// Client authentication is `trust` on loopback; pgbouncer logs in to PostgreSQL with the
/// password from `userlist.txt`. `extra_float_digits` is a startup parameter sqlx sends.
fn write_config(directory: &Path, upstream: &PostgresConfig, port: u16, pool_mode: &str) {
    use std::os::unix::fs::PermissionsExt;
    let users = format!("\"{}\" \"{}\"\n", upstream.user, upstream.password.expose());
    std::fs::write(directory.join("userlist.txt"), users).expect("write userlist.txt");
    let config = format!(
        "[databases]\n* = host={host} port={upstream_port}\n\n[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = {port}\n\
         unix_socket_dir =\nauth_type = trust\nauth_file = {users}\npool_mode = {pool_mode}\ndefault_pool_size = 2\n\
         ignore_startup_parameters = extra_float_digits\n",
        host = upstream.host,
        upstream_port = upstream.port,
        users = directory.join("userlist.txt").display(),
    );
    std::fs::write(directory.join("pgbouncer.ini"), config).expect("write pgbouncer.ini");
    // The `postgres` user pgbouncer switches to must be able to read both files.
    for (path, mode) in [
        (directory.to_path_buf(), 0o755),
        (directory.join("userlist.txt"), 0o644),
        (directory.join("pgbouncer.ini"), 0o644),
    ] {
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).expect("chmod");
    }
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|output| output.stdout.starts_with(b"0\n"))
}
