//! Environment variables and flags → [`Config`], rejected before anything connects.
//!
//! Every value is read from a flag if one was given, else from its environment variable, else
//! from the default below (the names and defaults of the Python migrators this replaces). An
//! empty variable counts as unset. `--env-file` adds a dotenv file *under* the environment:
//! a variable already set in the environment wins over the file.
//!
//! | flag                        | variable                     | default                |
//! |-----------------------------|------------------------------|------------------------|
//! | `--database-url`            | `DATABASE_URL`               | (built from below)     |
//! |                             | `POSTGRES_HOST`              | `localhost`            |
//! |                             | `POSTGRES_PORT`              | `5432`                 |
//! |                             | `POSTGRES_DB`                | `trading_users`        |
//! |                             | `POSTGRES_USER`              | `postgres`             |
//! |                             | `POSTGRES_PASSWORD`          | `postgres`             |
//! | `--clickhouse-url`          | `CLICKHOUSE_URL`             | (built from below)     |
//! |                             | `CLICKHOUSE_HOST`            | `localhost`            |
//! |                             | `CLICKHOUSE_PORT`            | `8123` (HTTP)          |
//! |                             | `CLICKHOUSE_DB`              | `default`              |
//! |                             | `CLICKHOUSE_USER`            | `default`              |
//! |                             | `CLICKHOUSE_PASSWORD`        | empty                  |
//! | `--clickhouse-cluster`      | `CLICKHOUSE_CLUSTER`         | none (a single server) |
//! | `--kafka-bootstrap-servers` | `KAFKA_BOOTSTRAP_SERVERS`    | `localhost:9092`       |
//! | `--kafka-config k=v` (many) | `KAFKA_CONFIG`               | none                   |
//! |                             | `MONGO_HOST`                 | `localhost`            |
//! |                             | `MONGO_PORT`                 | `27017`                |
//! |                             | `MONGO_USER`                 | none (`admin` once `MONGO_PASSWORD` is set) |
//! |                             | `MONGO_PASSWORD`             | none (`password` once `MONGO_USER` is set)  |
//! |                             | `MONGO_DATABASE`             | `trading_meta`         |
//! | `--wait`                    |                              | `60s`                  |
//! | `--lock-database-url`       | `MIGRATOR_LOCK_DATABASE_URL` | (none: `DATABASE_URL`) |
//! | `--lock-timeout`            | `MIGRATOR_LOCK_TIMEOUT`      | `5m`                   |
//! | `--migration-lock-timeout`  | `MIGRATOR_MIGRATION_LOCK_TIMEOUT` | `10s`             |
//! | `--statement-timeout`       | `MIGRATOR_STATEMENT_TIMEOUT` | none                   |
//! | `--io-timeout`              | `MIGRATOR_IO_TIMEOUT`        | `30s`                  |
//!
//! The last three are the [`Bounds`] of every wait on a server; they are copied into
//! [`PostgresConfig::bounds`] and [`ClickHouseConfig::bounds`] so that each target has them.
//!
//! `DATABASE_URL` accepts `postgres://`, `postgresql://` and SQLAlchemy's
//! `postgresql+asyncpg://`, `+psycopg` and `+psycopg2`, so the URL the services already use works
//! as it is: `postgresql+asyncpg://app:p%40ss@db:5432/trading_users?sslmode=require`. User and
//! password are percent-decoded; a part the URL leaves out comes from its `POSTGRES_*` variable,
//! then the default, so a password can live in `POSTGRES_PASSWORD` beside a URL without one.
//! libpq's `host`, `port`, `user`, `password` and `dbname` query parameters are honoured;
//! `sslmode`, `sslrootcert`, `sslcert`, `sslkey`, `application_name` and `options`
//! ([`POSTGRES_PARAMETERS`]) are kept in [`PostgresConfig::params`] for the target; any other is
//! rejected.
//!
//! `CLICKHOUSE_URL` is `http://` or `https://` (the HTTP interface; the native protocol is not
//! used), with optional credentials and `?database=`: `http://default:pw@clickhouse:8123/?database=trading`.
//! The database comes from `?database=`, else `CLICKHOUSE_DB`, else `default`; user and password
//! missing from the URL come from `CLICKHOUSE_USER` / `CLICKHOUSE_PASSWORD`.
//!
//! `KAFKA_CONFIG` holds librdkafka properties as `key=value` entries separated by `;` or new
//! lines (`security.protocol=SASL_SSL;sasl.mechanism=PLAIN`); `--kafka-config` entries win over
//! it key by key. A value containing `;` can only be given with `--kafka-config`.
//!
//! The run lock (see [`LockConfig`]) is held on PostgreSQL. `MIGRATOR_LOCK_DATABASE_URL` names a
//! direct connection for it when `DATABASE_URL` goes through PgBouncer, whose transaction pooling
//! cannot keep a session's advisory lock; it is read like `DATABASE_URL`, and the parts it leaves
//! out (typically the password) come from the PostgreSQL settings above.
//!
//! A bad value is a [`ConfigError`] naming the flag or variable it came from, and never echoing a
//! value that may hold a password.

mod bounds;
mod clickhouse;
mod environment;
mod kafka;
mod lock;
mod mongodb;
mod postgres;
mod urls;

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use self::bounds::{load_bounds, load_wait, parse_duration};
pub use self::bounds::{Bounds, DEFAULT_IO_TIMEOUT, DEFAULT_MIGRATION_LOCK_TIMEOUT, DEFAULT_WAIT};
use self::clickhouse::load_clickhouse;
pub use self::clickhouse::{ClickHouseConfig, ClusterConfig};
pub use self::environment::{Environment, MigrateSwitch};
use self::kafka::load_kafka;
pub use self::kafka::{is_credential_key, KafkaConfig};
use self::lock::load_lock;
pub use self::lock::{LockConfig, DEFAULT_LOCK_TIMEOUT};
use self::mongodb::load_mongodb;
pub use self::mongodb::MongoConfig;
use self::postgres::{apply_postgres_url, load_postgres};
pub use self::postgres::{PostgresConfig, POSTGRES_PARAMETERS};
use self::urls::{bracket_ipv6, check_port, parse_port, parse_url, percent_decode, url_host};

/// A password or other credential. Its `Debug` and `Display` print `***`, so it cannot reach a
/// log line or an error message by accident; [`Secret::expose`] is the one way to read it.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Everything `migrate` needs to reach the servers.
#[derive(Clone, Debug)]
pub struct Config {
    pub postgres: PostgresConfig,
    pub clickhouse: ClickHouseConfig,
    pub kafka: KafkaConfig,
    pub mongodb: MongoConfig,
    /// How long a health check waits for a server that is still starting (`--wait`, default 60s).
    pub wait: Duration,
    /// Where and how long to wait for the run lock.
    pub lock: LockConfig,
}

/// The values of `--database-url`, `--clickhouse-url`, `--kafka-bootstrap-servers`,
/// `--kafka-config` and `--wait`; each wins over its environment variable.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    pub database_url: Option<String>,
    pub clickhouse_url: Option<String>,
    /// `--clickhouse-cluster`, winning over `CLICKHOUSE_CLUSTER`.
    pub clickhouse_cluster: Option<String>,
    /// `--allow-lagging-replicas`: go on when a host of the ClickHouse cluster does not answer.
    pub allow_lagging_replicas: bool,
    pub kafka_bootstrap_servers: Option<String>,
    pub kafka_config: Vec<String>,
    /// As typed, in humantime form (`60s`, `2m`); `None` means the default of 60 seconds.
    pub wait: Option<String>,
    /// `--lock-database-url`, winning over `MIGRATOR_LOCK_DATABASE_URL`.
    pub lock_database_url: Option<String>,
    /// `--lock-timeout` as typed, winning over `MIGRATOR_LOCK_TIMEOUT`; default 5 minutes.
    pub lock_timeout: Option<String>,
    /// `--migration-lock-timeout`, winning over `MIGRATOR_MIGRATION_LOCK_TIMEOUT`.
    pub migration_lock_timeout: Option<String>,
    /// `--statement-timeout`, winning over `MIGRATOR_STATEMENT_TIMEOUT`.
    pub statement_timeout: Option<String>,
    /// `--io-timeout`, winning over `MIGRATOR_IO_TIMEOUT`.
    pub io_timeout: Option<String>,
}

/// A bad setting. Each message names the flag or variable and never contains a password.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read env file `{}`: {reason}; check the `--env-file` path", path.display())]
    EnvFileUnreadable { path: PathBuf, reason: String },
    // The offending line is not shown: it may hold a password.
    #[error(
        "env file `{}` line {line}{}: not a valid `NAME=value` line (at character {column}); quote values that contain spaces or `#`",
        path.display(),
        variable.as_ref().map(|name| format!(" (`{name}`)")).unwrap_or_default()
    )]
    EnvFileSyntax { path: PathBuf, line: usize, column: usize, variable: Option<String> },
    #[error("`{setting}` is not valid UTF-8")]
    NotUnicode { setting: String },
    #[error("`{setting}` is not a valid URL ({reason}); expected {expected}")]
    InvalidUrl { setting: &'static str, reason: String, expected: &'static str },
    #[error("`{setting}` has the scheme `{scheme}`; expected {expected}")]
    UnknownScheme { setting: &'static str, scheme: String, expected: &'static str },
    // The value is not shown: a port variable swapped with a password variable would print it.
    #[error("`{setting}` must be a port number from 1 to 65535")]
    InvalidPort { setting: &'static str },
    #[error(
        "`{setting}` has an `@` after its host part: its password holds a `/`, `?` or `#` that ends the host part \
         early; percent-encode the password (`/` as `%2F`, `?` as `%3F`, `#` as `%23`, `@` as `%40`)"
    )]
    UnescapedPassword { setting: &'static str },
    #[error("`{setting}` {problem}")]
    InvalidUrlPart { setting: &'static str, problem: String },
    #[error("`{setting}` is not a duration ({reason}); write it like `60s`, `90s` or `2m`")]
    InvalidDuration { setting: &'static str, reason: String },
    // The entry is not shown: without `=` its key and value cannot be told apart.
    #[error("`{setting}` entry {position} has no `=`; write librdkafka properties as `key=value`, e.g. `security.protocol=SASL_SSL`")]
    KafkaPropertyWithoutEquals { setting: &'static str, position: usize },
    #[error("`{setting}` entry {position} has an empty key; write librdkafka properties as `key=value`")]
    KafkaPropertyEmptyKey { setting: &'static str, position: usize },
    #[error("`{setting}` sets `bootstrap.servers`; give the brokers with `--kafka-bootstrap-servers` or `KAFKA_BOOTSTRAP_SERVERS` instead")]
    KafkaBootstrapInProperties { setting: &'static str },
    #[error(
        "`MIGRATE` is `{value}`; write `enabled` or `true` to run the migrations, `disabled` or `false` to skip them"
    )]
    InvalidMigrateSwitch { value: String },
    #[error(
        "`{setting}`: {problem}; expected `host:port` entries separated by commas, e.g. `kafka-1:9092,kafka-2:9092`"
    )]
    InvalidBootstrapServers { setting: &'static str, problem: String },
}

impl Config {
    /// Reads every setting from `overrides`, then `environment`, then the defaults, and checks
    /// them all; nothing connects.
    pub fn load(environment: &Environment, overrides: &Overrides) -> Result<Config, ConfigError> {
        let bounds = load_bounds(environment, overrides)?;
        let mut postgres = load_postgres(environment, overrides)?;
        postgres.bounds = bounds;
        let mut clickhouse = load_clickhouse(environment, overrides)?;
        clickhouse.bounds = bounds;
        let mut mongodb = load_mongodb(environment)?;
        mongodb.bounds = bounds;
        let lock = load_lock(environment, overrides, &postgres)?;
        mongodb.lock_timeout = lock.timeout;
        Ok(Config {
            lock,
            postgres,
            clickhouse,
            kafka: load_kafka(environment, overrides)?,
            mongodb,
            wait: load_wait(overrides)?,
        })
    }
}

/// A flag's value if given, else the variable's, with the name to blame for a bad value.
fn pick<'a>(
    flag: Option<&'a str>,
    flag_name: &'static str,
    environment: &'a Environment,
    variable: &'static str,
) -> Result<Option<(&'static str, &'a str)>, ConfigError> {
    if let Some(value) = flag.filter(|value| !value.is_empty()) {
        return Ok(Some((flag_name, value)));
    }
    Ok(environment.get(variable)?.map(|value| (variable, value)))
}

fn variable_or<'a>(environment: &'a Environment, variable: &str, default: &'a str) -> Result<&'a str, ConfigError> {
    Ok(environment.get(variable)?.unwrap_or(default))
}

#[cfg(test)]
mod tests {
    use super::lock::POSTGRES_VARIABLES;
    use super::*;

    fn load(pairs: &[(&str, &str)], overrides: Overrides) -> Result<Config, ConfigError> {
        Config::load(&Environment::from_pairs(pairs.iter().copied()), &overrides)
    }

    #[test]
    fn lock_timeout_defaults_to_five_minutes_and_the_flag_wins_over_the_variable() {
        let default = load(&[], Overrides::default()).expect("defaults");
        assert_eq!(default.lock.timeout, DEFAULT_LOCK_TIMEOUT);
        assert!(default.lock.database.is_none() && !default.lock.postgres_configured);
        let from_variable = load(&[("MIGRATOR_LOCK_TIMEOUT", "30s")], Overrides::default()).expect("variable");
        assert_eq!(from_variable.lock.timeout, Duration::from_secs(30));
        let flag = Overrides { lock_timeout: Some("0s".into()), ..Overrides::default() };
        let from_flag = load(&[("MIGRATOR_LOCK_TIMEOUT", "30s")], flag).expect("flag");
        assert_eq!(from_flag.lock.timeout, Duration::ZERO);
    }

    #[test]
    fn a_bad_lock_setting_names_where_it_came_from_without_the_password() {
        let error = load(&[("MIGRATOR_LOCK_TIMEOUT", "soon")], Overrides::default()).map(|_| ()).unwrap_err();
        assert!(error.to_string().starts_with("`MIGRATOR_LOCK_TIMEOUT` is not a duration"), "{error}");
        let flag = Overrides { lock_database_url: Some("mysql://app:hunter2@db/x".into()), ..Overrides::default() };
        let error = load(&[], flag).map(|_| ()).unwrap_err().to_string();
        assert!(error.starts_with("`--lock-database-url` has the scheme `mysql`"), "{error}");
        assert!(!error.contains("hunter2"), "{error}");
    }

    #[test]
    fn any_postgres_setting_means_postgres_is_in_use() {
        for variable in POSTGRES_VARIABLES {
            let value = if variable == "DATABASE_URL" { "postgres://db/x" } else { "5432" };
            let config = load(&[(variable, value)], Overrides::default()).expect("valid");
            assert!(config.lock.postgres_configured, "{variable}");
        }
        let flag = Overrides { database_url: Some("postgres://db/x".into()), ..Overrides::default() };
        assert!(load(&[], flag).expect("valid").lock.postgres_configured);
    }
}
