//! PostgreSQL: `DATABASE_URL` (with SQLAlchemy's schemes and libpq's query parameters) and the
//! `POSTGRES_*` variables.

use super::*;

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

impl PostgresConfig {
    /// `postgres://user@host:port/database`, for messages: never the password.
    pub fn describe(&self) -> String {
        format!("postgres://{}@{}:{}/{}", self.user, self.host, self.port, self.database)
    }
}

const POSTGRES_URL_SHAPE: &str = "`postgresql://user:password@host:5432/database` (also `postgres://`, `postgresql+asyncpg://`, `postgresql+psycopg://`, `postgresql+psycopg2://`)";

const POSTGRES_SCHEMES: [&str; 5] =
    ["postgres", "postgresql", "postgresql+asyncpg", "postgresql+psycopg", "postgresql+psycopg2"];

pub(super) fn load_postgres(environment: &Environment, overrides: &Overrides) -> Result<PostgresConfig, ConfigError> {
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
pub(super) fn apply_postgres_url(
    config: &mut PostgresConfig,
    setting: &'static str,
    text: &str,
) -> Result<(), ConfigError> {
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
