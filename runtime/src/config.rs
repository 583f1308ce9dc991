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
//! | `--kafka-bootstrap-servers` | `KAFKA_BOOTSTRAP_SERVERS`    | `localhost:9092`       |
//! | `--kafka-config k=v` (many) | `KAFKA_CONFIG`               | none                   |
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

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use url::Url;

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
    /// How long a health check waits for a server that is still starting (`--wait`, default 60s).
    pub wait: Duration,
    /// Where and how long to wait for the run lock.
    pub lock: LockConfig,
}

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

/// PostgreSQL, from `DATABASE_URL` or `POSTGRES_HOST`/`PORT`/`DB`/`USER`/`PASSWORD`.
#[derive(Clone, Debug)]
pub struct PostgresConfig {
    pub host: String,
    pub port: u16,
    pub database: String,
    pub user: String,
    pub password: Secret,
    /// Extra libpq-style parameters from the URL (`sslmode`, `sslrootcert`, `application_name`…).
    pub params: Vec<(String, String)>,
    pub bounds: Bounds,
}

/// ClickHouse over HTTP, from `CLICKHOUSE_URL` or `CLICKHOUSE_HOST`/`PORT`/`USER`/`PASSWORD`,
/// with the database from `CLICKHOUSE_DB` or `?database=`.
#[derive(Clone, Debug)]
pub struct ClickHouseConfig {
    /// `http://host:port` or `https://host:port`, no credentials, no path.
    pub url: String,
    pub user: String,
    pub password: Secret,
    pub database: String,
    pub bounds: Bounds,
}

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

/// Kafka, from `KAFKA_BOOTSTRAP_SERVERS` plus any librdkafka property (`--kafka-config k=v`).
#[derive(Clone, Debug)]
pub struct KafkaConfig {
    pub bootstrap_servers: String,
    /// librdkafka properties (`security.protocol`, `sasl.username`, `sasl.password`, …). Values
    /// of keys that hold credentials are kept as [`Secret`]s.
    pub properties: Vec<(String, Secret)>,
}

impl PostgresConfig {
    /// `postgres://user@host:port/database`, for messages: never the password.
    pub fn describe(&self) -> String {
        format!("postgres://{}@{}:{}/{}", self.user, self.host, self.port, self.database)
    }
}

impl ClickHouseConfig {
    /// `http://user@host:port/database`, for messages: never the password.
    pub fn describe(&self) -> String {
        let (scheme, rest) = self.url.split_once("://").unwrap_or(("http", &self.url));
        format!("{scheme}://{}@{rest}/{}", self.user, self.database)
    }
}

impl KafkaConfig {
    /// `kafka://host:9092` plus the properties, credentials as `***`, for messages.
    pub fn describe(&self) -> String {
        let mut description = format!("kafka://{}", self.bootstrap_servers);
        if !self.properties.is_empty() {
            let properties: Vec<String> = self
                .properties
                .iter()
                .map(|(key, value)| {
                    let shown = if is_credential_key(key) { "***" } else { value.expose() };
                    format!("{key}={shown}")
                })
                .collect();
            description.push_str(&format!(" ({})", properties.join(", ")));
        }
        description
    }
}

impl KafkaConfig {
    /// `text` with the value of every credential property ([`is_credential_key`]) replaced by
    /// `***`. librdkafka quotes property values in its errors (`Invalid value "…" for
    /// configuration property "sasl.oauthbearer.client.secret"`), so every message made from one
    /// passes through here. A short value may mask more than itself, which is the safe side.
    pub fn mask(&self, text: &str) -> String {
        let mut masked = text.to_owned();
        for (key, value) in &self.properties {
            if is_credential_key(key) && !value.expose().trim().is_empty() {
                masked = masked.replace(value.expose(), "***");
            }
        }
        masked
    }
}

/// Whether a librdkafka property holds a credential, so that its value is never shown:
/// `sasl.password`, `ssl.key.password`, `sasl.oauthbearer.client.secret`, `sasl.jaas.config`,
/// `sasl.oauthbearer.config`, `ssl.key.pem`, `ssl.keystore.password`…
pub fn is_credential_key(key: &str) -> bool {
    const MARKERS: [&str; 6] = ["password", "secret", "jaas", "oauthbearer.config", "key.pem", "token"];
    let key = key.to_ascii_lowercase();
    MARKERS.iter().any(|marker| key.contains(marker))
}

/// The values of `--database-url`, `--clickhouse-url`, `--kafka-bootstrap-servers`,
/// `--kafka-config` and `--wait`; each wins over its environment variable.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    pub database_url: Option<String>,
    pub clickhouse_url: Option<String>,
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

/// How long a health check waits when `--wait` is not given.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(60);

/// How long a command waits for the run lock when `--lock-timeout` is not given: long enough
/// for another replica's deploy to finish its migrations, short enough that a hung one is
/// noticed in the same deploy.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(5 * 60);

/// The variables that configure PostgreSQL; setting any of them means PostgreSQL is in use.
const POSTGRES_VARIABLES: [&str; 6] =
    ["DATABASE_URL", "POSTGRES_HOST", "POSTGRES_PORT", "POSTGRES_DB", "POSTGRES_USER", "POSTGRES_PASSWORD"];

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

/// The process environment with `--env-file` under it: the variables [`Config::load`] reads.
#[derive(Clone, Debug, Default)]
pub struct Environment {
    variables: HashMap<String, String>,
    /// Names set in the environment whose values are not UTF-8; reading one is an error.
    not_unicode: BTreeSet<String>,
}

impl Environment {
    /// The process environment, plus the variables of `env_file` that it does not set already.
    /// Reads the file without changing the process environment.
    pub fn capture(env_file: Option<&Path>) -> Result<Self, ConfigError> {
        let mut environment = Environment::default();
        for (name, value) in std::env::vars_os() {
            let Ok(name) = name.into_string() else { continue };
            match value.into_string() {
                Ok(value) => {
                    environment.variables.insert(name, value);
                }
                Err(_) => {
                    environment.not_unicode.insert(name);
                }
            }
        }
        if let Some(path) = env_file {
            environment.add_env_file(path)?;
        }
        Ok(environment)
    }

    /// An environment holding exactly `pairs`, for tests and embedding.
    pub fn from_pairs<N: Into<String>, V: Into<String>>(pairs: impl IntoIterator<Item = (N, V)>) -> Self {
        let variables = pairs.into_iter().map(|(name, value)| (name.into(), value.into())).collect();
        Environment { variables, not_unicode: BTreeSet::new() }
    }

    /// Adds the variables of a dotenv file that are not set already; within the file, the first
    /// definition of a name wins (as `dotenvy` does).
    pub fn add_env_file(&mut self, path: &Path) -> Result<(), ConfigError> {
        let unreadable = |reason: String| ConfigError::EnvFileUnreadable { path: path.to_owned(), reason };
        let text = std::fs::read_to_string(path).map_err(|error| unreadable(error.to_string()))?;
        let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
        let mut from_file: HashMap<String, String> = HashMap::new();
        for item in dotenvy::from_read_iter(text.as_bytes()) {
            match item {
                Ok((name, value)) => {
                    from_file.entry(name).or_insert(value);
                }
                Err(dotenvy::Error::LineParse(line, column)) => {
                    return Err(env_file_syntax_error(path, text, &line, column));
                }
                Err(error) => return Err(unreadable(error.to_string())),
            }
        }
        for (name, value) in from_file {
            if !self.variables.contains_key(&name) && !self.not_unicode.contains(&name) {
                self.variables.insert(name, value);
            }
        }
        Ok(())
    }

    /// The value of `name`; `None` when unset or empty.
    pub fn get(&self, name: &str) -> Result<Option<&str>, ConfigError> {
        if self.not_unicode.contains(name) {
            return Err(ConfigError::NotUnicode { setting: name.to_owned() });
        }
        Ok(self.variables.get(name).map(String::as_str).filter(|value| !value.is_empty()))
    }
}

/// Where in the file `dotenvy` stopped, without quoting the line (it may hold a password).
fn env_file_syntax_error(path: &Path, text: &str, line: &str, column: usize) -> ConfigError {
    let line_number = text.find(line).map(|offset| text[..offset].matches('\n').count() + 1).unwrap_or(0);
    let variable = line
        .split_once('=')
        .map(|(name, _)| name.trim().trim_start_matches("export ").trim().to_owned())
        .filter(|name| !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.'));
    ConfigError::EnvFileSyntax { path: path.to_owned(), line: line_number, column, variable }
}

/// Whether `migrate` should run, from `MIGRATE`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MigrateSwitch {
    /// `MIGRATE` is unset, `enabled` or `true`.
    Enabled,
    /// `MIGRATE` is `disabled` or `false`, as written.
    Disabled(String),
}

impl MigrateSwitch {
    /// Unset, `enabled` or `true` runs; `disabled` or `false` turns `migrate` into a no-op, so a
    /// compose file can keep the migrator service and switch it off per environment. Case does
    /// not matter. Any other value is refused: a typo (`enbaled`) or a guess (`yes`) must not
    /// silently skip a deploy's migrations.
    pub fn from_environment(environment: &Environment) -> Result<Self, ConfigError> {
        let Some(value) = environment.get("MIGRATE")? else { return Ok(MigrateSwitch::Enabled) };
        match value.trim().to_ascii_lowercase().as_str() {
            "enabled" | "true" => Ok(MigrateSwitch::Enabled),
            "disabled" | "false" => Ok(MigrateSwitch::Disabled(value.to_owned())),
            _ => Err(ConfigError::InvalidMigrateSwitch { value: value.to_owned() }),
        }
    }
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
        Ok(Config {
            lock: load_lock(environment, overrides, &postgres)?,
            postgres,
            clickhouse,
            kafka: load_kafka(environment, overrides)?,
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

const POSTGRES_URL_SHAPE: &str = "`postgresql://user:password@host:5432/database` (also `postgres://`, `postgresql+asyncpg://`, `postgresql+psycopg://`, `postgresql+psycopg2://`)";
const POSTGRES_SCHEMES: [&str; 5] =
    ["postgres", "postgresql", "postgresql+asyncpg", "postgresql+psycopg", "postgresql+psycopg2"];

fn load_postgres(environment: &Environment, overrides: &Overrides) -> Result<PostgresConfig, ConfigError> {
    let mut config = postgres_from_variables(environment)?;
    if let Some((setting, url)) =
        pick(overrides.database_url.as_deref(), "--database-url", environment, "DATABASE_URL")?
    {
        apply_postgres_url(&mut config, setting, url)?;
    }
    Ok(config)
}

fn postgres_from_variables(environment: &Environment) -> Result<PostgresConfig, ConfigError> {
    Ok(PostgresConfig {
        host: variable_or(environment, "POSTGRES_HOST", "localhost")?.to_owned(),
        port: parse_port("POSTGRES_PORT", variable_or(environment, "POSTGRES_PORT", "5432")?)?,
        database: variable_or(environment, "POSTGRES_DB", "trading_users")?.to_owned(),
        user: variable_or(environment, "POSTGRES_USER", "postgres")?.to_owned(),
        password: Secret::new(variable_or(environment, "POSTGRES_PASSWORD", "postgres")?),
        params: Vec::new(),
        bounds: Bounds::default(),
    })
}

/// Overwrites `config` with every part the URL gives; the parts it leaves out keep the values
/// of the `POSTGRES_*` variables.
fn apply_postgres_url(config: &mut PostgresConfig, setting: &'static str, text: &str) -> Result<(), ConfigError> {
    let url = parse_url(setting, text, POSTGRES_URL_SHAPE)?;
    if !POSTGRES_SCHEMES.contains(&url.scheme()) {
        return Err(ConfigError::UnknownScheme {
            setting,
            scheme: url.scheme().to_owned(),
            expected: POSTGRES_URL_SHAPE,
        });
    }
    if let Some(host) = url_host(&url) {
        config.host = host;
    }
    if let Some(port) = url.port() {
        config.port = check_port(setting, port)?;
    }
    if !url.username().is_empty() {
        config.user = percent_decode(setting, "user", url.username())?;
    }
    if let Some(password) = url.password() {
        config.password = Secret::new(percent_decode(setting, "password", password)?);
    }
    let database = url.path().trim_start_matches('/');
    if !database.is_empty() {
        config.database = percent_decode(setting, "database", database)?;
    }
    for (key, value) in url.query_pairs() {
        apply_postgres_param(config, setting, &key, &value)?;
    }
    Ok(())
}

/// The `DATABASE_URL` query parameters kept in [`PostgresConfig::params`] for the target; any
/// other is rejected here, before anything connects, rather than silently ignored.
pub const POSTGRES_PARAMETERS: [&str; 6] =
    ["sslmode", "sslrootcert", "sslcert", "sslkey", "application_name", "options"];

/// libpq lets the connection parts be query parameters too (`?host=/var/run/postgresql`).
fn apply_postgres_param(
    config: &mut PostgresConfig,
    setting: &'static str,
    key: &str,
    value: &str,
) -> Result<(), ConfigError> {
    match key {
        "host" => config.host = value.to_owned(),
        "port" => config.port = parse_port(setting, value)?,
        "user" => config.user = value.to_owned(),
        "password" => config.password = Secret::new(value),
        "dbname" if value.trim().is_empty() => {
            return Err(ConfigError::InvalidUrlPart {
                setting,
                problem: "has an empty `?dbname=`; name the database, or leave it out".to_owned(),
            })
        }
        "dbname" => config.database = value.to_owned(),
        // A key given again (the lock URL over DATABASE_URL's parameters) replaces the value.
        _ if POSTGRES_PARAMETERS.contains(&key) => {
            config.params.retain(|(existing, _)| existing != key);
            config.params.push((key.to_owned(), value.to_owned()));
        }
        // The value is not shown: an unknown key such as `sslpassword` may hold a credential.
        _ => {
            return Err(ConfigError::InvalidUrlPart {
                setting,
                problem: format!(
                    "has the query parameter `{key}`, which the migrator does not use; supported: {}, and libpq's \
                     host, port, user, password and dbname",
                    POSTGRES_PARAMETERS.join(", ")
                ),
            })
        }
    }
    Ok(())
}

const CLICKHOUSE_URL_SHAPE: &str =
    "`http://user:password@host:8123/?database=name` or `https://…` (the HTTP interface)";

fn load_clickhouse(environment: &Environment, overrides: &Overrides) -> Result<ClickHouseConfig, ConfigError> {
    let mut config = ClickHouseConfig {
        url: String::new(),
        user: variable_or(environment, "CLICKHOUSE_USER", "default")?.to_owned(),
        password: Secret::new(environment.get("CLICKHOUSE_PASSWORD")?.unwrap_or_default()),
        database: variable_or(environment, "CLICKHOUSE_DB", "default")?.to_owned(),
        bounds: Bounds::default(),
    };
    match pick(overrides.clickhouse_url.as_deref(), "--clickhouse-url", environment, "CLICKHOUSE_URL")? {
        Some((setting, url)) => apply_clickhouse_url(&mut config, setting, url)?,
        None => {
            let host = variable_or(environment, "CLICKHOUSE_HOST", "localhost")?;
            let port = parse_port("CLICKHOUSE_PORT", variable_or(environment, "CLICKHOUSE_PORT", "8123")?)?;
            config.url = format!("http://{}:{port}", bracket_ipv6(host));
        }
    }
    // A `?database=system` was refused above; this one can only come from the variable.
    check_clickhouse_database("CLICKHOUSE_DB", &config.database)?;
    Ok(config)
}

fn apply_clickhouse_url(config: &mut ClickHouseConfig, setting: &'static str, text: &str) -> Result<(), ConfigError> {
    let url = parse_url(setting, text, CLICKHOUSE_URL_SHAPE)?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(ConfigError::UnknownScheme {
            setting,
            scheme: url.scheme().to_owned(),
            expected: CLICKHOUSE_URL_SHAPE,
        });
    }
    let host = url_host(&url).ok_or_else(|| ConfigError::InvalidUrlPart {
        setting,
        problem: format!("has no host; expected {CLICKHOUSE_URL_SHAPE}"),
    })?;
    if !matches!(url.path(), "" | "/") {
        return Err(ConfigError::InvalidUrlPart {
            setting,
            problem: format!("has the path `{}`; give the database as `?database=name` instead", url.path()),
        });
    }
    // `http` and `https` URLs always have a known default port.
    let port = check_port(setting, url.port_or_known_default().unwrap_or(8123))?;
    config.url = format!("{}://{}:{port}", url.scheme(), bracket_ipv6(&host));
    if !url.username().is_empty() {
        config.user = percent_decode(setting, "user", url.username())?;
    }
    if let Some(password) = url.password() {
        config.password = Secret::new(percent_decode(setting, "password", password)?);
    }
    for (key, value) in url.query_pairs() {
        match key.as_ref() {
            "database" => config.database = check_clickhouse_database(setting, &value)?.to_owned(),
            other => {
                return Err(ConfigError::InvalidUrlPart {
                    setting,
                    problem: format!("has the unknown query parameter `{other}`; only `?database=` is read"),
                })
            }
        }
    }
    Ok(())
}

/// `?database=` must name the application's database: empty would fall back to the server's
/// `default` unnoticed, and `system` is ClickHouse's own, where the history table must not go.
fn check_clickhouse_database<'a>(setting: &'static str, database: &'a str) -> Result<&'a str, ConfigError> {
    let problem = if database.trim().is_empty() {
        "has an empty `?database=`; name the database to migrate, or leave `?database=` out to use CLICKHOUSE_DB"
    } else if database.eq_ignore_ascii_case("system") {
        "names the database `system`, ClickHouse's own; name the application's database instead"
    } else {
        return Ok(database);
    };
    Err(ConfigError::InvalidUrlPart { setting, problem: problem.to_owned() })
}

fn load_kafka(environment: &Environment, overrides: &Overrides) -> Result<KafkaConfig, ConfigError> {
    let (setting, bootstrap_servers) = pick(
        overrides.kafka_bootstrap_servers.as_deref(),
        "--kafka-bootstrap-servers",
        environment,
        "KAFKA_BOOTSTRAP_SERVERS",
    )?
    .unwrap_or(("KAFKA_BOOTSTRAP_SERVERS", "localhost:9092"));
    check_bootstrap_servers(setting, bootstrap_servers)?;
    let mut properties = Vec::new();
    if let Some(text) = environment.get("KAFKA_CONFIG")? {
        let entries = text.split(['\n', ';']).map(str::trim).filter(|entry| !entry.is_empty());
        add_kafka_properties(&mut properties, "KAFKA_CONFIG", entries)?;
    }
    add_kafka_properties(&mut properties, "--kafka-config", overrides.kafka_config.iter().map(String::as_str))?;
    Ok(KafkaConfig { bootstrap_servers: bootstrap_servers.to_owned(), properties })
}

/// Parses `key=value` entries into `properties`; a key given again replaces the earlier value.
fn add_kafka_properties<'a>(
    properties: &mut Vec<(String, Secret)>,
    setting: &'static str,
    entries: impl Iterator<Item = &'a str>,
) -> Result<(), ConfigError> {
    for (index, entry) in entries.enumerate() {
        let position = index + 1;
        let (key, value) =
            entry.split_once('=').ok_or(ConfigError::KafkaPropertyWithoutEquals { setting, position })?;
        let key = key.trim();
        if key.is_empty() {
            return Err(ConfigError::KafkaPropertyEmptyKey { setting, position });
        }
        if key == "bootstrap.servers" || key == "metadata.broker.list" {
            return Err(ConfigError::KafkaBootstrapInProperties { setting });
        }
        properties.retain(|(existing, _)| existing != key);
        properties.push((key.to_owned(), Secret::new(value)));
    }
    Ok(())
}

/// Catches a typo in the broker list now rather than after `--wait` of failed connects.
fn check_bootstrap_servers(setting: &'static str, servers: &str) -> Result<(), ConfigError> {
    for server in servers.split(',').map(str::trim) {
        let invalid = |problem: String| ConfigError::InvalidBootstrapServers { setting, problem };
        // librdkafka accepts an optional `PLAINTEXT://`-style prefix per broker.
        let address = server.split_once("://").map_or(server, |(_, address)| address);
        if address.is_empty() {
            return Err(invalid("has an empty entry".to_owned()));
        }
        let port = match address.rsplit_once(':') {
            // An IPv6 address without a port (`[::1]`) has its colons inside the brackets.
            Some((host, port)) if !port.contains(']') => {
                if host.is_empty() {
                    return Err(invalid(format!("`{server}` has no host")));
                }
                Some(port)
            }
            _ => None,
        };
        if let Some(port) = port {
            parse_port(setting, port)?;
        }
    }
    Ok(())
}

fn load_wait(overrides: &Overrides) -> Result<Duration, ConfigError> {
    match overrides.wait.as_deref() {
        None => Ok(DEFAULT_WAIT),
        Some(text) => parse_duration("--wait", text),
    }
}

fn load_lock(
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

fn load_bounds(environment: &Environment, overrides: &Overrides) -> Result<Bounds, ConfigError> {
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

fn parse_duration(setting: &'static str, text: &str) -> Result<Duration, ConfigError> {
    humantime::parse_duration(text.trim())
        .map_err(|error| ConfigError::InvalidDuration { setting, reason: error.to_string() })
}

fn parse_url(setting: &'static str, text: &str, expected: &'static str) -> Result<Url, ConfigError> {
    refuse_unescaped_password(setting, text)?;
    // `url`'s messages name the problem (`invalid port number`) without echoing the input,
    // which may hold a password.
    Url::parse(text.trim()).map_err(|error| match error {
        url::ParseError::InvalidPort => ConfigError::InvalidUrlPart {
            setting,
            problem: "has a port that is not a number from 1 to 65535".to_owned(),
        },
        other => ConfigError::InvalidUrl { setting, reason: other.to_string(), expected },
    })
}

/// A password with an unescaped `/`, `?` or `#` ends the URL's host part early: the rest of the
/// password would then be read as a port, a path (the database, shown in every log line's
/// address) or a query, and quoted in messages. The `@` that should have ended the credentials
/// is then still to come; no real database name, path or query holds one unescaped.
fn refuse_unescaped_password(setting: &'static str, text: &str) -> Result<(), ConfigError> {
    let Some((_, rest)) = text.trim().split_once("://") else { return Ok(()) };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    if !rest[..authority_end].contains('@') && rest[authority_end..].contains('@') {
        return Err(ConfigError::UnescapedPassword { setting });
    }
    Ok(())
}

/// The URL's host without IPv6 brackets, `None` when empty.
fn url_host(url: &Url) -> Option<String> {
    match url.host()? {
        url::Host::Domain("") => None,
        url::Host::Domain(domain) => Some(domain.to_owned()),
        url::Host::Ipv4(address) => Some(address.to_string()),
        url::Host::Ipv6(address) => Some(address.to_string()),
    }
}

fn bracket_ipv6(host: &str) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_owned()
    }
}

fn parse_port(setting: &'static str, text: &str) -> Result<u16, ConfigError> {
    let invalid = || ConfigError::InvalidPort { setting };
    let port = text.trim().parse::<u16>().map_err(|_| invalid())?;
    check_port(setting, port).map_err(|_| invalid())
}

fn check_port(setting: &'static str, port: u16) -> Result<u16, ConfigError> {
    if port == 0 {
        return Err(ConfigError::InvalidPort { setting });
    }
    Ok(port)
}

/// Decodes `%XX` escapes in a URL's user, password or database (`p%40ss` → `p@ss`).
fn percent_decode(setting: &'static str, part: &str, text: &str) -> Result<String, ConfigError> {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let escaped = (bytes[index] == b'%')
            .then(|| bytes.get(index + 1..index + 3))
            .flatten()
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                decoded.push(byte);
                index += 3;
            }
            None => {
                decoded.push(bytes[index]);
                index += 1;
            }
        }
    }
    String::from_utf8(decoded).map_err(|_| ConfigError::InvalidUrlPart {
        setting,
        problem: format!("has a {part} that is not valid UTF-8 once percent-decoded"),
    })
}

#[cfg(test)]
mod tests {
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
