//! The run lock: one migrator at a time per PostgreSQL database.
//!
//! [`RunLock::acquire`] opens a connection of its own and takes the session-level advisory lock
//! [`RUN_LOCK_KEY`] on it, waiting up to a timeout while another migrator holds it. The lock is
//! held until [`RunLock::release`], or until the `RunLock` is dropped, which closes the
//! connection (PostgreSQL releases a session's advisory locks when the session ends, so a
//! crashed migrator never leaves the lock behind, unlike a lock *table*).
//!
//! Why a dedicated connection: the migrations run on another session, which never holds the
//! lock, so nothing a migration does can wait on it. `CREATE INDEX CONCURRENTLY` waits for every
//! transaction that could see the table; a lock held by a session that is idle outside any
//! transaction is not among them, so it does not deadlock against the lock as it does in tools
//! that take the lock on the migrating connection or inside a transaction.
//!
//! Why not behind PgBouncer: in transaction (or statement) pooling, a client connection's
//! statements run on whichever server session is free, so a session lock lands on a session
//! that is then handed to other clients and the next statement may run elsewhere: the lock
//! protects nothing. Before locking, `acquire` checks that its connection keeps one server
//! session (two statements run on the same backend, and a second connection opened meanwhile
//! gets a different one) and refuses otherwise, naming `MIGRATOR_LOCK_DATABASE_URL`: a direct,
//! non-pooled URL of the same database, used for the lock alone while migrations may still go
//! through the pooler.
//!
//! The lock is per database (PostgreSQL scopes advisory locks to the current database): every
//! migrator of one database takes the same lock, whichever targets it migrates. When the lock is
//! waited for or times out, the holder is named from `pg_locks` and `pg_stat_activity`, where the
//! lock shows as `locktype = 'advisory'`, `classid = 1952869737`, `objid = 1735549300`,
//! `objsubid = 1` (the key's high and low 32 bits). The holder's working session is named too:
//! while a migrator holds the lock, its working sessions carry ` run-lock-pid=<lock session pid>`
//! in their `application_name` (`working_application_name`), and that session, not the idle lock
//! session, is the one the message says to end when the holder is stuck.
//!
//! Nothing can keep a session alive: a server restart, a failover or `pg_terminate_backend` ends
//! it and the lock with it. So the lock is checked before every step (`RunLock::verify`, asked
//! through `targets::checkpoint`), and a run that lost it stops there.

use std::fmt;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use sqlx::postgres::PgConnection;
use sqlx::{Connection as _, Row as _};

use super::connection::connect;
use super::{describe_error, query_error, PostgresError};
use crate::config::PostgresConfig;

/// The advisory lock key every migrator takes: the ASCII bytes of `tfmigrat` as a big-endian
/// 64-bit integer (8387511655498670452). Never change it: two releases with different keys would
/// not exclude each other.
pub const RUN_LOCK_KEY: i64 = i64::from_be_bytes(*b"tfmigrat");

/// The first pause between attempts while another migrator holds the lock; each pause doubles
/// up to [`MAX_PAUSE`].
const FIRST_PAUSE: Duration = Duration::from_millis(50);
const MAX_PAUSE: Duration = Duration::from_secs(1);

// Every statement of the lock session is sent as simple-protocol text: one round trip each (a
// prepared statement costs two the first time), and it also runs through a pooler that does not
// support prepared statements, which is then reported instead of failing. So the key is written
// into the text: a constant of this code, never a value from outside (a test checks it is
// `RUN_LOCK_KEY`).
const TRY_LOCK: &str = "SELECT pg_try_advisory_lock(8387511655498670452)";
const UNLOCK: &str = "SELECT pg_advisory_unlock(8387511655498670452)";

const BACKEND_PID: &str = "SELECT pg_backend_pid()";

/// The cheapest statement there is: its answer proves the lock session lives (see `verify`).
const VERIFY: &str = "SELECT 1";

/// The lock session's first statement: its backend pid (the pooler check's first look) and,
/// in the same round trip, `idle_session_timeout` off for this session: a server-wide timeout
/// (PostgreSQL 14+) would end the idle lock session mid-run and silently release the lock.
/// `current_setting(.., true)` is NULL on older servers, which do not have the setting.
const FIRST_STATEMENT: &str = "SELECT pg_backend_pid(), (SELECT set_config('idle_session_timeout', '0', false)
    WHERE current_setting('idle_session_timeout', true) IS NOT NULL)";

/// Who holds the lock: the granted advisory lock with our key in the current database, and the
/// newest working session of that migrator, found by the `application_name` suffix it carries
/// (`working_application_name`).
const HOLDER: &str = "SELECT activity.pid, activity.application_name, activity.usename::text,
    host(activity.client_addr), activity.backend_start,
    working.pid, working.state, working.state_change
FROM pg_locks lock
JOIN pg_stat_activity activity ON activity.pid = lock.pid
LEFT JOIN LATERAL (
    SELECT candidate.pid, candidate.state, candidate.state_change FROM pg_stat_activity candidate
    WHERE candidate.application_name LIKE '% run-lock-pid=' || activity.pid
    ORDER BY candidate.backend_start DESC LIMIT 1
) working ON true
WHERE lock.locktype = 'advisory' AND lock.granted AND lock.objsubid = 1
    AND lock.database = (SELECT oid FROM pg_database WHERE datname = current_database())
    AND lock.classid::bigint = ($1::bigint >> 32) AND lock.objid::bigint = ($1::bigint & 4294967295)
    AND activity.pid <> pg_backend_pid()
LIMIT 1";

/// The `application_name` of a migrator's working sessions while it holds the lock on the
/// session with backend pid `lock_pid`: the configured name (or the default) with
/// ` run-lock-pid=<pid>` appended, so that a migrator refused the lock can name the session
/// that does the holder's work, the one worth ending when it is stuck (its idle lock session is
/// not: ending it only loses the lock).
pub fn working_application_name(configured: Option<&str>, lock_pid: i32) -> String {
    let base = configured.unwrap_or(super::connection::DEFAULT_APPLICATION_NAME);
    format!("{base} run-lock-pid={lock_pid}")
}

/// The held run lock. Release it with [`RunLock::release`]; dropping it also releases it, by
/// closing its connection.
pub struct RunLock {
    connection: PgConnection,
    server: String,
    pid: i32,
    acquired: Instant,
}

impl RunLock {
    /// Opens a connection to `config` and takes the run lock on it, waiting up to `timeout`
    /// while another session holds it (`Duration::ZERO`: one attempt). Logs
    /// `postgresql_migrator.lock_waiting`, naming the holder, once when it has to wait, and
    /// `postgresql_migrator.lock_acquired` when it has the lock.
    ///
    /// `config` is the database to lock: the migrated database itself, through a direct URL
    /// (`MIGRATOR_LOCK_DATABASE_URL`) when `DATABASE_URL` goes through a pooler.
    ///
    /// Fails with [`PostgresError::LockConnection`] when the server cannot be reached,
    /// [`PostgresError::LockBehindPooler`] when the connection does not keep one server session
    /// (PgBouncer in transaction pooling), and [`PostgresError::LockTimeout`], naming the
    /// holder, when the lock is still held after `timeout`.
    pub async fn acquire(config: &PostgresConfig, timeout: Duration) -> Result<RunLock, PostgresError> {
        let connection = connect(config).await.map_err(lock_connection_error)?;
        RunLock::acquire_on(connection, config, timeout).await
    }

    /// [`RunLock::acquire`] on a connection to `config` that is already open (the one the
    /// health check opened), which then belongs to the lock.
    pub async fn acquire_on(
        mut connection: PgConnection,
        config: &PostgresConfig,
        timeout: Duration,
    ) -> Result<RunLock, PostgresError> {
        let server = config.describe();
        let pid = refuse_pooled_session(&mut connection, config, &server).await?;
        let waited = wait_for_lock(&mut connection, &server, timeout).await?;
        tracing::info!(
            event = "postgresql_migrator.lock_acquired",
            target = "postgres",
            key = RUN_LOCK_KEY,
            waited_ms = u64::try_from(waited.as_millis()).unwrap_or(u64::MAX),
            "took the run lock on {server}"
        );
        Ok(RunLock { connection, server, pid, acquired: Instant::now() })
    }

    /// Whether the lock is still held: one round trip on the lock session. A session cannot
    /// lose its advisory lock while it lives (only this code runs statements on it, and none
    /// unlocks before `release`), so an answer proves the lock; an error means the session
    /// ended (server restart, failover, `pg_terminate_backend`) and the lock with it. Returns
    /// the server's reason on loss.
    pub async fn verify(&mut self) -> Result<(), String> {
        sqlx::raw_sql(VERIFY).execute(&mut self.connection).await.map(drop).map_err(|error| describe_error(&error))
    }

    /// The backend pid of the lock session.
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// `postgres://user@host:port/database` of the locked database.
    pub fn server(&self) -> &str {
        &self.server
    }

    /// Releases the lock and closes its connection. An error here means the session is already
    /// gone, and with it the lock.
    pub async fn release(mut self) -> Result<(), PostgresError> {
        let released: bool = sqlx::raw_sql(UNLOCK)
            .fetch_one(&mut self.connection)
            .await
            .and_then(|row| row.try_get(0))
            .map_err(|error| query_error(&self.server, "release the run lock", &error))?;
        // Closing ends the session, which would release the lock anyway; a failed goodbye
        // changes nothing.
        let _ = self.connection.close().await;
        let held_ms = u64::try_from(self.acquired.elapsed().as_millis()).unwrap_or(u64::MAX);
        if released {
            tracing::info!(
                event = "postgresql_migrator.lock_released",
                target = "postgres",
                held_ms,
                "released the run lock on {}",
                self.server
            );
        } else {
            // A session cannot lose a lock it holds while it lives; say so if it ever happens.
            tracing::warn!(
                event = "postgresql_migrator.lock_lost",
                target = "postgres",
                held_ms,
                "the run lock on {} was no longer held when released",
                self.server
            );
        }
        Ok(())
    }
}

impl fmt::Debug for RunLock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunLock").field("server", &self.server).field("key", &RUN_LOCK_KEY).finish()
    }
}

fn lock_connection_error(error: PostgresError) -> PostgresError {
    PostgresError::LockConnection { source: Box::new(error) }
}

/// Refuses a connection that does not keep one server session: its statements might not run
/// where the lock is, and the lock's session would serve other clients. Returns its backend pid.
async fn refuse_pooled_session(
    connection: &mut PgConnection,
    config: &PostgresConfig,
    server: &str,
) -> Result<i32, PostgresError> {
    let first =
        sqlx::raw_sql(FIRST_STATEMENT).fetch_one(&mut *connection).await.and_then(|row| row.try_get(0)).map_err(
            |error| query_error(server, "prepare the run-lock session (`pg_backend_pid()`, `set_config`)", &error),
        )?;
    let mut other_connection = connect(config).await.map_err(lock_connection_error)?;
    let other = backend_pid(&mut other_connection, server).await;
    let _ = other_connection.close().await;
    let other = other?;
    let second = backend_pid(connection, server).await?;
    if session_is_pinned(first, other, second) {
        return Ok(first);
    }
    Err(PostgresError::LockBehindPooler { server: server.to_owned(), first, other, second })
}

/// Whether a connection keeps its own server session, from the backend pid of a statement on
/// it (`first`), of a statement on another connection opened after it (`other`), then of a
/// second statement on it (`second`). Direct and session-pooled connections always keep theirs.
/// A transaction pooler either moves the connection between backends (`first != second`) or,
/// handing out its idle backends most-recently-used first (PgBouncer's default), gives the other
/// connection the same backend (`other == first`).
fn session_is_pinned(first: i32, other: i32, second: i32) -> bool {
    first == second && other != first
}

async fn backend_pid(connection: &mut PgConnection, server: &str) -> Result<i32, PostgresError> {
    let row = sqlx::raw_sql(BACKEND_PID)
        .fetch_one(connection)
        .await
        .map_err(|error| query_error(server, "run `SELECT pg_backend_pid()` on the run-lock connection", &error))?;
    row.try_get(0).map_err(|error| query_error(server, "read `pg_backend_pid()`", &error))
}

/// Tries the lock until it is granted or `timeout` has passed; returns how long it waited.
async fn wait_for_lock(
    connection: &mut PgConnection,
    server: &str,
    timeout: Duration,
) -> Result<Duration, PostgresError> {
    let started = Instant::now();
    let mut pause = FIRST_PAUSE;
    let mut announced = false;
    loop {
        if try_lock(connection, server).await? {
            return Ok(started.elapsed());
        }
        let waited = started.elapsed();
        if waited >= timeout {
            let holder = holder(connection).await;
            return Err(PostgresError::LockTimeout {
                server: server.to_owned(),
                waited: humantime::format_duration(Duration::from_millis(
                    u64::try_from(waited.as_millis()).unwrap_or(u64::MAX),
                ))
                .to_string(),
                pid: holder.as_ref().ok().map(Holder::pid_to_end),
                working: holder.as_ref().is_ok_and(|holder| holder.working.is_some()),
                holder: describe_holder(&holder),
            });
        }
        if !announced {
            announced = true;
            let holder = holder(connection).await;
            tracing::info!(
                event = "postgresql_migrator.lock_waiting",
                target = "postgres",
                key = RUN_LOCK_KEY,
                holder_pid = holder.as_ref().ok().map(|holder| holder.pid),
                timeout_ms = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX),
                "another migrator holds the run lock on {server} ({}); waiting up to {}",
                describe_holder(&holder),
                humantime::format_duration(timeout)
            );
        }
        tokio::time::sleep(pause.min(timeout.saturating_sub(waited))).await;
        pause = (pause * 2).min(MAX_PAUSE);
    }
}

async fn try_lock(connection: &mut PgConnection, server: &str) -> Result<bool, PostgresError> {
    sqlx::raw_sql(TRY_LOCK)
        .fetch_one(connection)
        .await
        .and_then(|row| row.try_get(0))
        .map_err(|error| query_error(server, "take the run lock (`pg_try_advisory_lock`)", &error))
}

/// The session holding the lock, as far as this user may see it.
#[derive(Debug)]
struct Holder {
    pid: i32,
    application_name: Option<String>,
    user: Option<String>,
    client: Option<String>,
    since: Option<DateTime<Utc>>,
    /// The holder's working session, when it is a migrator that names it.
    working: Option<WorkingSession>,
}

#[derive(Debug)]
struct WorkingSession {
    pid: i32,
    state: Option<String>,
    since: Option<DateTime<Utc>>,
}

impl Holder {
    /// The session to end when the holder is stuck: its working session if known.
    fn pid_to_end(&self) -> i32 {
        self.working.as_ref().map_or(self.pid, |working| working.pid)
    }
}

impl fmt::Display for Holder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "held by pid {}", self.pid)?;
        let mut details = Vec::new();
        if let Some(name) = self.application_name.as_deref().filter(|name| !name.is_empty()) {
            details.push(format!("application `{name}`"));
        }
        if let Some(user) = &self.user {
            details.push(format!("user `{user}`"));
        }
        // No client address means a Unix-socket connection.
        details.push(format!("client {}", self.client.as_deref().unwrap_or("local socket")));
        if let Some(since) = self.since {
            details.push(format!("connected since {}", since.format("%Y-%m-%d %H:%M:%S UTC")));
        }
        write!(f, " ({})", details.join(", "))?;
        if let Some(working) = &self.working {
            write!(f, "; its working session is pid {}", working.pid)?;
            if let Some(state) = &working.state {
                write!(f, ", {state}")?;
            }
            if let Some(since) = working.since {
                write!(f, " since {}", since.format("%Y-%m-%d %H:%M:%S UTC"))?;
            }
        }
        Ok(())
    }
}

/// The holder, or why it cannot be named: the lock was released meanwhile, or it is held by
/// another user's session that this role may not see.
async fn holder(connection: &mut PgConnection) -> Result<Holder, String> {
    type Row = (
        i32,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<DateTime<Utc>>,
        Option<i32>,
        Option<String>,
        Option<DateTime<Utc>>,
    );
    let row: Option<Row> = sqlx::query_as(HOLDER)
        .bind(RUN_LOCK_KEY)
        .fetch_optional(connection)
        .await
        .map_err(|error| format!("cannot look it up: {}", super::describe_error(&error)))?;
    let (pid, application_name, user, client, since, working_pid, working_state, working_since) =
        row.ok_or_else(|| "its holder is not visible to this user".to_owned())?;
    let working = working_pid.map(|pid| WorkingSession { pid, state: working_state, since: working_since });
    Ok(Holder { pid, application_name, user, client, since, working })
}

fn describe_holder(holder: &Result<Holder, String>) -> String {
    match holder {
        Ok(holder) => holder.to_string(),
        Err(reason) => reason.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_statements_name_the_key() {
        for statement in [TRY_LOCK, UNLOCK] {
            assert!(statement.ends_with(&format!("({RUN_LOCK_KEY})")), "{statement}");
        }
    }

    #[test]
    fn key_is_the_documented_constant_and_pg_locks_halves() {
        assert_eq!(RUN_LOCK_KEY, 8_387_511_655_498_670_452);
        assert_eq!(RUN_LOCK_KEY >> 32, 1_952_869_737, "pg_locks.classid");
        assert_eq!(RUN_LOCK_KEY & 0xFFFF_FFFF, 1_735_549_300, "pg_locks.objid");
    }

    #[test]
    fn a_direct_connection_keeps_its_session() {
        assert!(session_is_pinned(101, 202, 101));
    }

    #[test]
    fn moving_between_backends_is_pooling() {
        assert!(!session_is_pinned(101, 202, 303));
    }

    #[test]
    fn sharing_the_backend_with_another_connection_is_pooling() {
        assert!(!session_is_pinned(101, 101, 101));
    }

    #[test]
    fn working_sessions_carry_the_lock_sessions_pid() {
        assert_eq!(working_application_name(None, 42), "tradeforge-migrator run-lock-pid=42");
        assert_eq!(working_application_name(Some("deploy"), 42), "deploy run-lock-pid=42");
    }

    #[test]
    fn holder_names_its_working_session_to_end() {
        let holder = Holder {
            pid: 7,
            application_name: None,
            user: None,
            client: Some("10.0.0.1".to_owned()),
            since: None,
            working: Some(WorkingSession { pid: 8, state: Some("active".to_owned()), since: None }),
        };
        assert_eq!(holder.pid_to_end(), 8);
        assert_eq!(holder.to_string(), "held by pid 7 (client 10.0.0.1); its working session is pid 8, active");
    }

    #[test]
    fn holder_is_described_with_what_is_visible() {
        let holder = Holder {
            pid: 4242,
            application_name: Some("tradeforge-migrator".to_owned()),
            user: Some("migrator".to_owned()),
            client: None,
            since: Some(DateTime::<Utc>::UNIX_EPOCH),
            working: None,
        };
        assert_eq!(
            holder.to_string(),
            "held by pid 4242 (application `tradeforge-migrator`, user `migrator`, client local socket, \
             connected since 1970-01-01 00:00:00 UTC)"
        );
    }
}
