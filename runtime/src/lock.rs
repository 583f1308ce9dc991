//! The run lock around every command that changes a server (`migrate`, `up`, `down`, `redo`,
//! `baseline`, `repair`): PostgreSQL's advisory lock (`targets::postgres::RunLock`), held from
//! before the first target runs until the last is done.
//!
//! ClickHouse has no session locks and Kafka none at all, so the PostgreSQL lock guards them too:
//! it is taken whenever PostgreSQL is in use, even when the run migrates only ClickHouse or
//! Kafka. "In use" means a postgres or indicators target runs, or PostgreSQL was configured
//! explicitly (`DATABASE_URL`, `--database-url`, a `POSTGRES_*` variable, or
//! `MIGRATOR_LOCK_DATABASE_URL`). A run that uses no PostgreSQL but runs ClickHouse holds
//! ClickHouse's own lock instead (`targets::clickhouse::RunLock`: a table only one migrator can
//! create, across every node of a cluster); a Kafka-only run holds none, and says so in a
//! warning.
//!
//! The lock's server is health-checked first like any target (`health::wait_for`, up to `--wait`,
//! logged as `postgresql_migrator.started`), so a PostgreSQL that is still starting is waited
//! for and one that never answers fails the run as the postgres target would (exit 3); the lock
//! then takes over the connection the health check opened. A lock
//! held by another migrator is then waited for up to `--lock-timeout` (exit 5 after it).
//!
//! From the start of `acquire` until the process ends, SIGINT and SIGTERM stop the command at
//! the next safe point instead of killing it (`targets::checkpoint`); one received while the
//! lock is still awaited stops the command at once, since nothing ran yet. The [`Guard`]'s
//! [`Checkpoint`] is what the targets ask before each step: it says no once the lock is lost or
//! a signal arrived.

use std::time::Instant;

use crate::config::{Config, PostgresConfig};
use crate::health::{log_started, wait_for};
use crate::outcome::{Applied, RunError};
use crate::targets::checkpoint::RunLock;
use crate::targets::checkpoint::Signals;
use crate::targets::clickhouse;
use crate::targets::postgres::{self, working_application_name, PostgresTarget};
use crate::targets::{error_chain, Checkpoint, Stop, TargetName};

/// The run lock while a command runs (or nothing when no PostgreSQL is in use), and the
/// checkpoint its targets ask before each step.
#[derive(Debug)]
pub struct Guard {
    checkpoint: Checkpoint,
    lock_pid: Option<i32>,
}

/// The database to hold the lock on: the direct lock URL if one was given, else the migrated
/// PostgreSQL when it is in use (`postgres_runs`: a postgres or indicators target runs).
pub fn lock_database(config: &Config, postgres_runs: bool) -> Option<&PostgresConfig> {
    match &config.lock.database {
        Some(database) => Some(database),
        None if postgres_runs || config.lock.postgres_configured => Some(&config.postgres),
        None => None,
    }
}

/// Takes the run lock when PostgreSQL is in use (or ClickHouse's when only ClickHouse is:
/// `targets` are the ones the command changes), and starts listening for SIGINT and SIGTERM
/// (see the module doc).
pub async fn acquire(config: &Config, targets: &[TargetName]) -> Result<Guard, RunError> {
    let postgres_runs = targets.iter().any(|name| matches!(name, TargetName::Postgres | TargetName::Indicators));
    let clickhouse_runs = targets.contains(&TargetName::Clickhouse);
    let signals = Signals::listen();
    let lock = tokio::select! {
        lock = take(config, postgres_runs, clickhouse_runs) => lock?,
        signal = signals.wait() => {
            return Err(RunError::stopped(&Stop::Signal(signal), Applied::default(), Vec::new()));
        }
    };
    let lock_pid = match &lock {
        Some(RunLock::Postgres(lock)) => Some(lock.pid()),
        _ => None,
    };
    Ok(Guard { checkpoint: Checkpoint::new(lock, signals), lock_pid })
}

async fn take(config: &Config, postgres_runs: bool, clickhouse_runs: bool) -> Result<Option<RunLock>, RunError> {
    let Some(database) = lock_database(config, postgres_runs) else {
        if clickhouse_runs {
            return take_clickhouse(config).await.map(Some);
        }
        tracing::warn!(
            event = "migrator.lock_skipped",
            "no PostgreSQL is configured, so this run holds no run lock; set DATABASE_URL (or \
             MIGRATOR_LOCK_DATABASE_URL) so that two migrators can never run at once"
        );
        return Ok(None);
    };
    let address = database.describe();
    let mut server = PostgresTarget::new(database);
    log_started(TargetName::Postgres, &address);
    wait_for(&mut server, &address, config.wait, Instant::now(), &Applied::default()).await?;
    // The health check's connection becomes the lock's.
    let lock = match server.into_connection() {
        Some(connection) => postgres::RunLock::acquire_on(connection, database, config.lock.timeout).await,
        None => postgres::RunLock::acquire(database, config.lock.timeout).await,
    };
    lock.map(|lock| Some(RunLock::Postgres(Box::new(lock)))).map_err(RunError::Lock)
}

/// ClickHouse's run lock, after the same health check as the target's.
async fn take_clickhouse(config: &Config) -> Result<RunLock, RunError> {
    let address = config.clickhouse.describe();
    let mut server = clickhouse::ClickHouseTarget::new(&config.clickhouse);
    log_started(TargetName::Clickhouse, &address);
    wait_for(&mut server, &address, config.wait, Instant::now(), &Applied::default()).await?;
    clickhouse::RunLock::acquire(&config.clickhouse, config.lock.timeout)
        .await
        .map(|lock| RunLock::ClickHouse(Box::new(lock)))
        .map_err(|error| RunError::ClickHouseLock(Box::new(error)))
}

impl Guard {
    /// What the targets ask before each step.
    pub fn checkpoint(&self) -> Checkpoint {
        self.checkpoint.clone()
    }

    /// `config` with the PostgreSQL sessions of the work named after the lock session
    /// (`working_application_name`), so a migrator refused the lock can name them.
    pub fn working_config(&self, config: &Config) -> Config {
        let mut config = config.clone();
        if let Some(lock_pid) = self.lock_pid {
            let params = &mut config.postgres.params;
            let configured = params.iter().position(|(key, _)| key == "application_name");
            let configured_name = configured.map(|index| params.remove(index).1);
            let name = working_application_name(configured_name.as_deref(), lock_pid);
            params.push(("application_name".to_owned(), name));
        }
        config
    }

    /// Releases the lock, unless it was lost (already reported). A failure is only logged: the
    /// session is gone then, and the lock with it, and the command's own outcome is what the
    /// exit code must tell.
    pub async fn release(self) {
        match self.checkpoint.take_lock().await {
            Some(RunLock::Postgres(lock)) => {
                if let Err(error) = (*lock).release().await {
                    tracing::warn!(
                        event = "postgresql_migrator.lock_release_failed",
                        target = "postgres",
                        error = error_chain(&error),
                        "could not release the run lock cleanly; its session is closed, which releases it"
                    );
                }
            }
            Some(RunLock::ClickHouse(lock)) => {
                let server = lock.server().to_owned();
                if let Err(reason) = (*lock).release().await {
                    tracing::warn!(
                        event = "clickhouse_migrator.lock_release_failed",
                        target = "clickhouse",
                        error = reason,
                        "could not release the run lock of {server}: drop its table `migration_run_lock` by hand once \
                         no migrator runs"
                    );
                }
            }
            None => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Environment, Overrides};

    fn config(pairs: &[(&str, &str)]) -> Config {
        Config::load(&Environment::from_pairs(pairs.iter().copied()), &Overrides::default()).expect("valid config")
    }

    #[test]
    fn the_lock_is_taken_when_postgres_runs_or_is_configured() {
        let bare = config(&[]);
        assert!(lock_database(&bare, false).is_none(), "nothing configured, only ClickHouse/Kafka run");
        assert_eq!(lock_database(&bare, true).map(|database| database.host.as_str()), Some("localhost"));
        let configured = config(&[("DATABASE_URL", "postgres://app@db:5432/trading")]);
        assert_eq!(lock_database(&configured, false).map(|database| database.host.as_str()), Some("db"));
        let by_variable = config(&[("POSTGRES_HOST", "db")]);
        assert!(lock_database(&by_variable, false).is_some());
    }

    #[test]
    fn the_lock_url_wins_and_inherits_what_it_leaves_out() {
        let config = config(&[
            ("DATABASE_URL", "postgres://app:secret@pgbouncer:6432/trading?sslmode=require"),
            ("MIGRATOR_LOCK_DATABASE_URL", "postgres://db-primary:5432/trading"),
        ]);
        let database = lock_database(&config, false).expect("a lock database");
        assert_eq!((database.host.as_str(), database.port), ("db-primary", 5432));
        assert_eq!((database.user.as_str(), database.password.expose()), ("app", "secret"));
        assert_eq!(database.params, vec![("sslmode".to_owned(), "require".to_owned())]);
    }
}
