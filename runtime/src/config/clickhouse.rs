//! ClickHouse: `CLICKHOUSE_URL` (the HTTP interface) and the `CLICKHOUSE_*` variables.

use super::*;

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
    /// `--clickhouse-cluster` / `CLICKHOUSE_CLUSTER`: the cluster (as the servers' `remote_servers`
    /// name it) that the database lives on; `None` for a single server.
    pub cluster: Option<ClusterConfig>,
}

/// A ClickHouse cluster the configured server belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterConfig {
    /// The name in `system.clusters`, written into every `ON CLUSTER '{cluster}'` clause.
    pub name: String,
    /// `--allow-lagging-replicas`: run even when a host of the cluster does not answer before the
    /// run (its DDL waits in the queue until it is back).
    pub allow_lagging_replicas: bool,
}

impl ClickHouseConfig {
    /// `http://user@host:port/database`, for messages: never the password.
    pub fn describe(&self) -> String {
        let (scheme, rest) = self.url.split_once("://").unwrap_or(("http", &self.url));
        format!("{scheme}://{}@{rest}/{}", self.user, self.database)
    }
}

const CLICKHOUSE_URL_SHAPE: &str =
    "`http://user:password@host:8123/?database=name` or `https://…` (the HTTP interface)";

pub(super) fn load_clickhouse(
    environment: &Environment,
    overrides: &Overrides,
) -> Result<ClickHouseConfig, ConfigError> {
    let mut config = ClickHouseConfig {
        url: String::new(),
        user: variable_or(environment, "CLICKHOUSE_USER", "default")?.to_owned(),
        password: Secret::new(environment.get("CLICKHOUSE_PASSWORD")?.unwrap_or_default()),
        database: variable_or(environment, "CLICKHOUSE_DB", "default")?.to_owned(),
        bounds: Bounds::default(),
        cluster: None,
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
    if let Some((setting, name)) =
        pick(overrides.clickhouse_cluster.as_deref(), "--clickhouse-cluster", environment, "CLICKHOUSE_CLUSTER")?
    {
        config.cluster = Some(ClusterConfig {
            name: check_cluster_name(setting, name)?.to_owned(),
            allow_lagging_replicas: overrides.allow_lagging_replicas,
        });
    }
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

/// A cluster name as `remote_servers` allows it: letters, digits, `_`, `-` and `.`, so that it
/// reads the same in a message, in `system.clusters` and in a ZooKeeper path.
fn check_cluster_name<'a>(setting: &'static str, name: &'a str) -> Result<&'a str, ConfigError> {
    let name = name.trim();
    let valid = !name.is_empty()
        && name.chars().all(|character| character.is_ascii_alphanumeric() || matches!(character, '_' | '-' | '.'));
    if valid {
        return Ok(name);
    }
    Err(ConfigError::InvalidUrlPart {
        setting,
        problem: "must name a cluster of the servers' `remote_servers` (letters, digits, `_`, `-`, `.`), \
                  as `SELECT cluster FROM system.clusters` lists it"
            .to_owned(),
    })
}
