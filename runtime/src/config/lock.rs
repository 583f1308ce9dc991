//! The run lock's settings: `MIGRATOR_LOCK_DATABASE_URL` (a direct PostgreSQL URL when
//! `DATABASE_URL` goes through PgBouncer) and `MIGRATOR_LOCK_TIMEOUT`.

use super::*;

/// The run lock: a PostgreSQL advisory lock that commands changing the servers hold for the
/// whole run, so that two migrators never change them at once.
#[derive(Clone, Debug)]
pub struct LockConfig {
    /// `--lock-database-url` / `MIGRATOR_LOCK_DATABASE_URL`: a direct connection for the lock,
    /// completed from the PostgreSQL settings. `None` means the lock is held on [`Config::postgres`].
    pub database: Option<PostgresConfig>,
    /// How long to wait for a lock another migrator holds (`--lock-timeout`, default 5m).
    pub timeout: Duration,
    /// Whether PostgreSQL was configured explicitly (`--database-url`, `DATABASE_URL` or a
    /// `POSTGRES_*` variable) rather than left to the defaults, which name a server that a
    /// ClickHouse- or Kafka-only deployment may not have.
    pub postgres_configured: bool,
}

/// How long a command waits for the run lock when `--lock-timeout` is not given: long enough
/// for another replica's deploy to finish its migrations, short enough that a hung one is
/// noticed in the same deploy.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(5 * 60);

/// The variables that configure PostgreSQL; setting any of them means PostgreSQL is in use.
pub(super) const POSTGRES_VARIABLES: [&str; 6] =
    ["DATABASE_URL", "POSTGRES_HOST", "POSTGRES_PORT", "POSTGRES_DB", "POSTGRES_USER", "POSTGRES_PASSWORD"];

pub(super) fn load_lock(
    environment: &Environment,
    overrides: &Overrides,
    postgres: &PostgresConfig,
) -> Result<LockConfig, ConfigError> {
    let database = match pick(
        overrides.lock_database_url.as_deref(),
        "--lock-database-url",
        environment,
        "MIGRATOR_LOCK_DATABASE_URL",
    )? {
        Some((setting, url)) => {
            let mut database = postgres.clone();
            apply_postgres_url(&mut database, setting, url)?;
            Some(database)
        }
        None => None,
    };
    let timeout = match pick(overrides.lock_timeout.as_deref(), "--lock-timeout", environment, "MIGRATOR_LOCK_TIMEOUT")?
    {
        Some((setting, text)) => parse_duration(setting, text)?,
        None => DEFAULT_LOCK_TIMEOUT,
    };
    let mut postgres_configured = overrides.database_url.as_deref().is_some_and(|url| !url.is_empty());
    for variable in POSTGRES_VARIABLES {
        postgres_configured |= environment.get(variable)?.is_some();
    }
    Ok(LockConfig { database, timeout, postgres_configured })
}
