//! One lazily opened connection to the PostgreSQL server of [`PostgresConfig`], shared by the
//! postgres and indicators targets, and the translation of the server's errors into messages
//! that name the server and the fix.

use std::future::Future;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgConnection, PgDatabaseError, PgSslMode};
use sqlx::{ConnectOptions, Connection as _};

use super::PostgresError;
use crate::config::{PostgresConfig, POSTGRES_PARAMETERS};

/// How long one connection attempt may take; `crate::run` retries the health check for `--wait`.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The `application_name` of the migrator's sessions when the URL sets none.
pub(crate) const DEFAULT_APPLICATION_NAME: &str = "tradeforge-migrator";

/// A connection opened on first use and kept for the rest of the run: a migrator runs its
/// statements one after another, so a pool would only hold idle connections.
pub(crate) struct Connection {
    config: PostgresConfig,
    connection: Option<PgConnection>,
}

impl Connection {
    pub(crate) fn new(config: &PostgresConfig) -> Self {
        Connection { config: config.clone(), connection: None }
    }

    /// `postgres://user@host:port/database`, never the password.
    pub(crate) fn server(&self) -> String {
        self.config.describe()
    }

    pub(crate) fn config(&self) -> &PostgresConfig {
        &self.config
    }

    /// Connects if needed: a connection that has just completed its startup handshake is the
    /// proof, so only one kept from before is probed with `SELECT 1` (a simple query, one round
    /// trip). A connection that fails the probe is dropped, so the next attempt opens a fresh one.
    pub(crate) async fn health_check(&mut self) -> Result<(), PostgresError> {
        if self.connection.is_none() {
            self.get().await?;
            return Ok(());
        }
        let server = self.server();
        let config = self.config.clone();
        let connection = self.get().await?;
        let probe = async {
            sqlx::raw_sql("SELECT 1").execute(&mut *connection).await.map(drop).map_err(|error| PostgresError::Query {
                server: server.clone(),
                action: "run `SELECT 1`".to_owned(),
                reason: describe_error(&error),
            })
        };
        let probe = bounded(&config, &server, "running `SELECT 1`", probe).await;
        if probe.is_err() {
            self.connection = None;
        }
        probe
    }

    /// The open connection, if any, handed over.
    pub(crate) fn into_inner(self) -> Option<PgConnection> {
        self.connection
    }

    /// The open connection, connecting first if there is none.
    pub(crate) async fn get(&mut self) -> Result<&mut PgConnection, PostgresError> {
        let connection = match self.connection.take() {
            Some(connection) => connection,
            None => connect(&self.config).await?,
        };
        Ok(self.connection.insert(connection))
    }
}

/// One new connection to `config`'s server, bounded by [`CONNECT_TIMEOUT`].
pub(super) async fn connect(config: &PostgresConfig) -> Result<PgConnection, PostgresError> {
    let options = connect_options(config)?;
    match tokio::time::timeout(CONNECT_TIMEOUT, PgConnection::connect_with(&options)).await {
        Ok(Ok(connection)) => Ok(connection),
        Ok(Err(error)) => Err(connect_error(config, &error)),
        Err(_elapsed) => Err(PostgresError::Connect {
            server: config.describe(),
            reason: format!("no answer within {}", crate::targets::human_duration(CONNECT_TIMEOUT)),
            fix: "is the server running and reachable from here? check POSTGRES_HOST / POSTGRES_PORT / DATABASE_URL"
                .to_owned(),
            permanent: false,
        }),
    }
}

/// `work`, one or a few round trips on a connection to `server`, bounded by `--io-timeout`: a
/// stalled connection ends in [`PostgresError::Stalled`] naming the server, the bound and the
/// setting, instead of holding the run lock for minutes.
pub(crate) async fn bounded<T>(
    config: &PostgresConfig,
    server: &str,
    action: &str,
    work: impl Future<Output = Result<T, PostgresError>>,
) -> Result<T, PostgresError> {
    let io_timeout = config.bounds.io_timeout;
    tokio::time::timeout(io_timeout, work).await.unwrap_or_else(|_| {
        Err(PostgresError::Stalled {
            server: server.to_owned(),
            action: action.to_owned(),
            waited: crate::targets::human_duration(io_timeout).to_string(),
            reason: "no answer arrived".to_owned(),
            consequence: "nothing was changed by this step".to_owned(),
        })
    })
}

/// Builds the options field by field rather than from a URL, so the password never passes
/// through a string that an error could quote.
fn connect_options(config: &PostgresConfig) -> Result<PgConnectOptions, PostgresError> {
    let options = PgConnectOptions::new_without_pgpass();
    // libpq's convention: a host that is a path names the directory of a Unix socket.
    let options = if config.host.starts_with('/') { options.socket(&config.host) } else { options.host(&config.host) };
    let mut options = options
        .port(config.port)
        .username(&config.user)
        .database(&config.database)
        // Names our sessions in `pg_stat_activity` (and so the run lock's holder in messages)
        // unless the URL gives an `application_name` of its own.
        .application_name(DEFAULT_APPLICATION_NAME)
        // Our own events report each migration's duration; sqlx's statement log would repeat
        // whole migration scripts into the deploy log.
        .disable_statement_logging();
    if !config.password.is_empty() {
        options = options.password(config.password.expose());
    }
    for (key, value) in &config.params {
        options = apply_parameter(options, config, key, value)?;
    }
    Ok(options)
}

fn apply_parameter(
    options: PgConnectOptions,
    config: &PostgresConfig,
    key: &str,
    value: &str,
) -> Result<PgConnectOptions, PostgresError> {
    Ok(match key {
        "sslmode" => options.ssl_mode(ssl_mode(config, value)?),
        "sslrootcert" => options.ssl_root_cert(value),
        "sslcert" => options.ssl_client_cert(value),
        "sslkey" => options.ssl_client_key(value),
        "application_name" => options.application_name(value),
        "options" => options.options(libpq_options(value)),
        _ => {
            return Err(PostgresError::UnsupportedParameter {
                server: config.describe(),
                key: key.to_owned(),
                supported: POSTGRES_PARAMETERS.join(", "),
            })
        }
    })
}

fn ssl_mode(config: &PostgresConfig, value: &str) -> Result<PgSslMode, PostgresError> {
    value.parse().map_err(|_| PostgresError::InvalidSslMode { server: config.describe(), value: value.to_owned() })
}

/// `options=-c search_path=app -c statement_timeout=0` → `[("search_path", "app"), …]`.
fn libpq_options(value: &str) -> Vec<(String, String)> {
    value
        .split("-c")
        .filter_map(|setting| setting.trim().split_once('='))
        .map(|(key, value)| (key.trim().to_owned(), value.trim().to_owned()))
        .collect()
}

/// Turns a failed connection attempt into what went wrong and what to check, and decides once
/// whether waiting could help: a refused password, a missing database, a missing privilege or a
/// TLS mismatch stay so however long `--wait` is, so they are `permanent` and fail at once.
fn connect_error(config: &PostgresConfig, error: &sqlx::Error) -> PostgresError {
    let server = config.describe();
    let check_address =
        "is the server running and reachable from here? check POSTGRES_HOST / POSTGRES_PORT / DATABASE_URL";
    let (reason, fix, permanent) = match error {
        sqlx::Error::Database(database_error) => match database_error.code().as_deref() {
            Some("28P01") | Some("28000") => (
                format!("password authentication failed for user `{}`", config.user),
                "check POSTGRES_PASSWORD / DATABASE_URL (and POSTGRES_USER)".to_owned(),
                true,
            ),
            Some("3D000") => (
                format!("database `{}` does not exist", config.database),
                format!(
                    "create it (`CREATE DATABASE {}` or `createdb -h {} -p {} -U {} {}`), or fix POSTGRES_DB / the path of DATABASE_URL",
                    quote_identifier(&config.database),
                    shell_quote(&config.host),
                    config.port,
                    shell_quote(&config.user),
                    shell_quote(&config.database)
                ),
                true,
            ),
            Some("42501") => (
                describe_error(error),
                format!(
                    "grant the user the right to connect (`GRANT CONNECT ON DATABASE {} TO {}`), or use another POSTGRES_USER",
                    quote_identifier(&config.database),
                    quote_identifier(&config.user)
                ),
                true,
            ),
            _ => (describe_error(error), "check the server's log".to_owned(), false),
        },
        sqlx::Error::Io(io_error) => (io_error.to_string(), check_address.to_owned(), false),
        sqlx::Error::Tls(tls_error) => (
            format!("TLS: {tls_error}"),
            "check `sslmode` and `sslrootcert` in DATABASE_URL against the server's certificate".to_owned(),
            true,
        ),
        other => (other.to_string(), "check POSTGRES_HOST / POSTGRES_PORT / DATABASE_URL".to_owned(), false),
    };
    PostgresError::Connect { server, reason, fix, permanent }
}

/// `name` as a PostgreSQL identifier, safe to paste into SQL whatever it holds: in double
/// quotes, each `"` doubled.
pub(crate) fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `text` as one POSIX shell word: as it is when plain, else in single quotes.
fn shell_quote(text: &str) -> String {
    if !text.is_empty() && text.chars().all(|c| c.is_ascii_alphanumeric() || "-_./:@".contains(c)) {
        return text.to_owned();
    }
    format!("'{}'", text.replace('\'', "'\\''"))
}

/// The server's message with its SQLSTATE, detail and hint; other errors as sqlx words them.
pub(crate) fn describe_error(error: &sqlx::Error) -> String {
    let Some(database_error) = database_error(error) else {
        return error.to_string();
    };
    let mut text = format!("{} (SQLSTATE {})", database_error.message(), database_error.code());
    if let Some(detail) = database_error.detail() {
        text.push_str(&format!("; detail: {detail}"));
    }
    if let Some(hint) = database_error.hint() {
        text.push_str(&format!("; hint: {hint}"));
    }
    text
}

/// The PostgreSQL error behind `error`, if the server sent one.
/// Whether `error` is PostgreSQL's `undefined_table` (42P01): the reads of `migration_history`
/// and `system_indicators` learn from it that the table is not there yet, instead of asking first.
pub(crate) fn is_undefined_table(error: &sqlx::Error) -> bool {
    database_error(error).is_some_and(|database_error| database_error.code() == "42P01")
}

pub(crate) fn database_error(error: &sqlx::Error) -> Option<&PgDatabaseError> {
    match error {
        sqlx::Error::Database(database_error) => database_error.try_downcast_ref::<PgDatabaseError>(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;

    fn config(params: &[(&str, &str)]) -> PostgresConfig {
        PostgresConfig {
            host: "db.internal".to_owned(),
            port: 5432,
            database: "tradeforge".to_owned(),
            user: "migrator".to_owned(),
            password: Secret::new("hunter2"),
            params: params.iter().map(|(key, value)| (key.to_string(), value.to_string())).collect(),
            bounds: crate::config::Bounds::default(),
        }
    }

    #[test]
    fn connect_options_take_every_field_and_parameter() {
        let options = connect_options(&config(&[("sslmode", "require"), ("application_name", "migrator")]));
        let options = options.expect("valid parameters");
        assert_eq!(options.get_host(), "db.internal");
        assert_eq!(options.get_port(), 5432);
        assert_eq!(options.get_username(), "migrator");
        assert_eq!(options.get_database(), Some("tradeforge"));
        assert!(matches!(options.get_ssl_mode(), PgSslMode::Require));
        assert_eq!(options.get_application_name(), Some("migrator"));
    }

    #[test]
    fn sessions_are_named_unless_the_url_names_them() {
        let options = connect_options(&config(&[])).expect("valid");
        assert_eq!(options.get_application_name(), Some(DEFAULT_APPLICATION_NAME));
    }

    #[test]
    fn host_that_is_a_path_is_a_unix_socket_directory() {
        let mut config = config(&[]);
        config.host = "/var/run/postgresql".to_owned();
        let options = connect_options(&config).expect("valid");
        assert_eq!(options.get_socket(), Some(&std::path::PathBuf::from("/var/run/postgresql")));
    }

    #[test]
    fn unknown_parameter_is_rejected_by_name_without_the_password() {
        let error = connect_options(&config(&[("connect_timeout", "5")])).expect_err("rejected");
        let message = error.to_string();
        assert!(message.contains("`connect_timeout`"), "{message}");
        assert!(!message.contains("hunter2"), "{message}");
    }

    #[test]
    fn bad_sslmode_lists_the_valid_ones() {
        let error = connect_options(&config(&[("sslmode", "sometimes")])).expect_err("rejected");
        assert!(error.to_string().contains("verify-full"), "{error}");
    }

    #[test]
    fn suggested_sql_quotes_names_safely() {
        assert_eq!(quote_identifier("trading"), "\"trading\"");
        assert_eq!(quote_identifier("a\"; DROP TABLE x; --"), "\"a\"\"; DROP TABLE x; --\"");
        assert_eq!(shell_quote("trading"), "trading");
        assert_eq!(shell_quote("it's $HOME"), "'it'\\''s $HOME'");
    }

    #[test]
    fn libpq_options_become_settings() {
        assert_eq!(
            libpq_options("-c search_path=app -c statement_timeout=0"),
            vec![("search_path".to_owned(), "app".to_owned()), ("statement_timeout".to_owned(), "0".to_owned())]
        );
    }
}
