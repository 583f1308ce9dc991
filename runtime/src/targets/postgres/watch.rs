//! Bounds on the waits of a running migration, watched from a second session.
//!
//! A migration's own SQL may rightly run for an hour (an index on a big table) and sends nothing
//! back meanwhile, so a plain read timeout on its connection would kill it. Instead, once a step
//! has run for a second, [`watched`] opens a second session and looks at the migration's backend
//! in `pg_stat_activity` every second:
//! - the sessions it waits for (`pg_blocking_pids`) are logged once, as
//!   `postgresql_migrator.migration_blocked`, and kept to name them when `lock_timeout` fires;
//! - a step running longer than `--io-timeout` is logged once (`postgresql_migrator.migration_running`);
//! - the backend idle (the server has answered, the answer never arrived) or gone for longer
//!   than `--io-timeout`, or the second session unanswered for that long, is a stalled
//!   connection: the step is abandoned with [`PostgresError::Stalled`].
//!
//! A second session that cannot be opened for another reason (no free connection slot) only
//! stops the watching: it must never fail a healthy migration.

use std::cell::RefCell;
use std::future::Future;
use std::time::{Duration, Instant};

use sqlx::postgres::PgConnection;
use sqlx::{Connection as _, Row as _};

use super::connection::connect;
use super::PostgresError;
use crate::config::PostgresConfig;
use crate::targets::human_duration;

/// How long a step runs before the watcher first looks: most migrations are done by then.
const FIRST_LOOK: Duration = Duration::from_secs(1);
const LOOK_EVERY: Duration = Duration::from_secs(1);

/// The watched backend and the sessions blocking it; `self` is true for the former.
const LOOK: &str = "SELECT activity.pid, activity.pid = $1 AS self, coalesce(activity.state, ''),
    coalesce(activity.application_name, ''), left(coalesce(activity.query, ''), 300)
FROM pg_stat_activity activity
WHERE activity.pid = $1 OR activity.pid = ANY(pg_blocking_pids($1))";

/// A session the migration waited for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Blocker {
    pub(crate) pid: i32,
    pub(crate) state: String,
    pub(crate) application_name: String,
    /// Its current or last statement, cut at 300 characters.
    pub(crate) query: String,
}

impl Blocker {
    /// `pid 4242 (application `psql`, idle in transaction, last statement `LOCK TABLE orders`)`.
    pub(crate) fn describe(&self) -> String {
        let query: String = self.query.split_whitespace().collect::<Vec<_>>().join(" ");
        let application = if self.application_name.is_empty() {
            String::new()
        } else {
            format!("application `{}`, ", self.application_name)
        };
        format!("pid {} ({application}{}, last statement `{query}`)", self.pid, self.state)
    }
}

/// `blockers` described, `; ` between them.
pub(crate) fn describe_blockers(blockers: &[Blocker]) -> String {
    blockers.iter().map(Blocker::describe).collect::<Vec<_>>().join("; ")
}

/// How a watched step ended.
pub(crate) enum Watched<T> {
    /// The step's own outcome, with the sessions it was last seen waiting for.
    Done(T, Vec<Blocker>),
    /// The connection stalled: why, in words for the error.
    Stalled(String),
}

/// Runs `work` (a step on the session of backend `pid`) while watching it (see the module doc).
/// `sql_only`: the step only sends SQL, so an idle session means a lost answer (a data
/// migration's Rust code may keep its session idle while it works).
pub(crate) async fn watched<T>(
    work: impl Future<Output = T>,
    config: &PostgresConfig,
    pid: i32,
    label: &str,
    sql_only: bool,
) -> Watched<T> {
    let blockers = RefCell::new(Vec::new());
    tokio::select! {
        output = work => Watched::Done(output, blockers.take()),
        reason = watch(config, pid, label, sql_only, &blockers) => Watched::Stalled(reason),
    }
}

/// Never returns while the step is healthy; returns why the step's connection is stalled.
async fn watch(
    config: &PostgresConfig,
    pid: i32,
    label: &str,
    sql_only: bool,
    blockers: &RefCell<Vec<Blocker>>,
) -> String {
    let io_timeout = config.bounds.io_timeout;
    let first_look = config.bounds.migration_lock_timeout.map_or(FIRST_LOOK, |timeout| (timeout / 2).min(FIRST_LOOK));
    let started = Instant::now();
    tokio::time::sleep(first_look).await;
    let mut connection = match open(config, io_timeout).await {
        Ok(connection) => connection,
        Err(Some(reason)) => return reason,
        Err(None) => return std::future::pending().await,
    };
    let mut quiet_since: Option<Instant> = None;
    let mut said_running = false;
    loop {
        let rows = match tokio::time::timeout(io_timeout, sqlx::query(LOOK).bind(pid).fetch_all(&mut connection)).await
        {
            Err(_) => {
                return format!(
                    "a second session to the server did not answer within {} either",
                    human_duration(io_timeout)
                )
            }
            Ok(Err(error)) => {
                tracing::debug!(event = "postgresql_migrator.watch_stopped", error = %error, "stopped watching {label}");
                let _ = connection.close().await;
                return std::future::pending().await;
            }
            Ok(Ok(rows)) => rows,
        };
        let mut active = false;
        let mut seen = Vec::new();
        for row in &rows {
            if row.try_get::<bool, _>(1).unwrap_or(false) {
                active = row.try_get::<String, _>(2).is_ok_and(|state| state == "active");
            } else {
                seen.push(Blocker {
                    pid: row.try_get(0).unwrap_or_default(),
                    state: row.try_get(2).unwrap_or_default(),
                    application_name: row.try_get(3).unwrap_or_default(),
                    query: row.try_get(4).unwrap_or_default(),
                });
            }
        }
        if !seen.is_empty() && blockers.borrow().is_empty() {
            log_blocked(config, label, &seen);
        }
        if !seen.is_empty() {
            *blockers.borrow_mut() = seen;
        }
        // Between two round trips of a healthy step the backend is briefly idle, and a data
        // migration's Rust code may work for long between its queries; only an SQL step idle
        // for longer than the bound has lost its answer. A vanished session is lost either way.
        let gone = !rows.iter().any(|row| row.try_get::<bool, _>(1).unwrap_or(false));
        if active || !(sql_only || gone) {
            quiet_since = None;
        } else {
            let quiet = *quiet_since.get_or_insert_with(Instant::now);
            if quiet.elapsed() >= io_timeout {
                return format!(
                    "the server shows its session (pid {pid}) {} for {}, yet no answer arrived",
                    if gone { "gone" } else { "idle" },
                    human_duration(quiet.elapsed())
                );
            }
        }
        if !said_running && started.elapsed() >= io_timeout {
            said_running = true;
            log_running(config, label, started.elapsed());
        }
        tokio::time::sleep(LOOK_EVERY).await;
    }
}

/// The second session; `Err(Some(reason))` when the server does not answer at all (a stall),
/// `Err(None)` when it refuses (then the step is simply not watched).
async fn open(config: &PostgresConfig, io_timeout: Duration) -> Result<PgConnection, Option<String>> {
    match tokio::time::timeout(io_timeout, connect(config)).await {
        Ok(Ok(connection)) => Ok(connection),
        // `connect`'s own bound (10s) may fire before `io_timeout`: its error then says so.
        Ok(Err(PostgresError::Connect { reason, .. })) if reason.starts_with("no answer") => {
            Err(Some(format!("a second session to the server got {reason} either")))
        }
        Ok(Err(error)) => {
            tracing::debug!(event = "postgresql_migrator.watch_stopped", error = %error, "cannot watch the migration");
            Err(None)
        }
        Err(_) => {
            Err(Some(format!("a second session to the server got no answer within {}", human_duration(io_timeout))))
        }
    }
}

fn log_blocked(config: &PostgresConfig, label: &str, blockers: &[Blocker]) {
    let bound = match config.bounds.migration_lock_timeout {
        Some(timeout) => format!("gives up after {} (--migration-lock-timeout)", human_duration(timeout)),
        None => "waits without limit (--migration-lock-timeout 0s)".to_owned(),
    };
    let described = describe_blockers(blockers);
    tracing::warn!(
        event = "postgresql_migrator.migration_blocked",
        target = "postgres",
        blockers = described.as_str(),
        "{label} is waiting for a lock held by {described}; it {bound}"
    );
}

fn log_running(config: &PostgresConfig, label: &str, running: Duration) {
    let bound = match config.bounds.statement_timeout {
        Some(timeout) => format!("each statement may run {} (--statement-timeout)", human_duration(timeout)),
        None => "no statement timeout is set (--statement-timeout)".to_owned(),
    };
    tracing::info!(
        event = "postgresql_migrator.migration_running",
        target = "postgres",
        running_ms = u64::try_from(running.as_millis()).unwrap_or(u64::MAX),
        "{label} is still running after {}, its session active on the server; {bound}",
        human_duration(running)
    );
}
