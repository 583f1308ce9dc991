//! The bounds of every wait on a server (`--wait`, the migration lock timeout, the statement
//! timeout, the I/O timeout) and how durations are read.

use super::*;

/// How long the migrator waits on a server before it stops, naming the cause and the setting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bounds {
    /// PostgreSQL `lock_timeout` of each migration (`--migration-lock-timeout`, default
    /// [`DEFAULT_MIGRATION_LOCK_TIMEOUT`]); `None`: wait for table locks without limit.
    pub migration_lock_timeout: Option<Duration>,
    /// How long one migration statement may run (`--statement-timeout`): PostgreSQL
    /// `statement_timeout`, ClickHouse `max_execution_time`. `None` (the default): no limit,
    /// since a migration may rightly take an hour (an index on a big table).
    pub statement_timeout: Option<Duration>,
    /// How long a server may leave one request unanswered (`--io-timeout`, default
    /// [`DEFAULT_IO_TIMEOUT`]); a migration's own SQL gets it on top of the statement timeout.
    pub io_timeout: Duration,
}

impl Default for Bounds {
    fn default() -> Self {
        Bounds {
            migration_lock_timeout: Some(DEFAULT_MIGRATION_LOCK_TIMEOUT),
            statement_timeout: None,
            io_timeout: DEFAULT_IO_TIMEOUT,
        }
    }
}

/// A migration waiting for a table lock queues every later query on that table behind it, so
/// the application stalls for as long as it waits: 10 seconds keeps that short, yet lets the
/// ordinary short transactions of a busy application finish first. The run fails safely
/// (rolled back, nothing recorded) and can simply be re-run.
pub const DEFAULT_MIGRATION_LOCK_TIMEOUT: Duration = Duration::from_secs(10);

/// Far longer than any answer of a healthy server to the migrator's own small requests (history
/// reads, `BEGIN`, `COMMIT`), short enough that a stalled connection does not hold the run lock
/// for minutes.
pub const DEFAULT_IO_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a health check waits when `--wait` is not given.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(60);

pub(super) fn load_wait(overrides: &Overrides) -> Result<Duration, ConfigError> {
    match overrides.wait.as_deref() {
        None => Ok(DEFAULT_WAIT),
        Some(text) => parse_duration("--wait", text),
    }
}

pub(super) fn load_bounds(environment: &Environment, overrides: &Overrides) -> Result<Bounds, ConfigError> {
    let setting = |flag: &Option<String>, flag_name, variable| -> Result<Option<Duration>, ConfigError> {
        match pick(flag.as_deref(), flag_name, environment, variable)? {
            Some((setting, text)) => parse_duration(setting, text).map(Some),
            None => Ok(None),
        }
    };
    let defaults = Bounds::default();
    // `0s` means "no limit", as it does for PostgreSQL's own timeouts.
    let limit = |duration: Duration| (!duration.is_zero()).then_some(duration);
    let migration_lock_timeout =
        setting(&overrides.migration_lock_timeout, "--migration-lock-timeout", "MIGRATOR_MIGRATION_LOCK_TIMEOUT")?
            .map_or(defaults.migration_lock_timeout, limit);
    let statement_timeout = setting(&overrides.statement_timeout, "--statement-timeout", "MIGRATOR_STATEMENT_TIMEOUT")?
        .map_or(defaults.statement_timeout, limit);
    let io_timeout = match setting(&overrides.io_timeout, "--io-timeout", "MIGRATOR_IO_TIMEOUT")? {
        Some(duration) if duration.is_zero() => {
            return Err(ConfigError::InvalidDuration {
                setting: if overrides.io_timeout.as_deref().is_some_and(|text| !text.is_empty()) {
                    "--io-timeout"
                } else {
                    "MIGRATOR_IO_TIMEOUT"
                },
                reason: "it must be more than 0s: a server that never answers would be waited for forever".to_owned(),
            })
        }
        Some(duration) => duration,
        None => defaults.io_timeout,
    };
    Ok(Bounds { migration_lock_timeout, statement_timeout, io_timeout })
}

pub(super) fn parse_duration(setting: &'static str, text: &str) -> Result<Duration, ConfigError> {
    humantime::parse_duration(text.trim())
        .map_err(|error| ConfigError::InvalidDuration { setting, reason: error.to_string() })
}
