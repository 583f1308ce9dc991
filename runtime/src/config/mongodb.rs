//! MongoDB: the `MONGO_*` variables of the seed's migrator (no URL: the client options are built
//! field by field, so the password never sits in a string that could be printed).

use super::*;

/// The database MongoDB migrations run in, and how to reach and log in to its server.
#[derive(Clone, Debug)]
pub struct MongoConfig {
    pub host: String,
    pub port: u16,
    /// `None`: connect without authentication (neither `MONGO_USER` nor `MONGO_PASSWORD` set).
    pub user: Option<String>,
    pub password: Secret,
    pub database: String,
    pub bounds: Bounds,
    /// How long to wait for the MongoDB migration lock (`--lock-timeout`).
    pub lock_timeout: Duration,
}

impl MongoConfig {
    /// `mongodb://user@host:port/database`, for messages: never the password.
    pub fn describe(&self) -> String {
        let user = self.user.as_ref().map(|user| format!("{user}@")).unwrap_or_default();
        format!("mongodb://{user}{}:{}/{}", bracket_ipv6(&self.host), self.port, self.database)
    }

    /// `text` with the password struck out: the driver's messages are not expected to quote it,
    /// but a message that reaches a person is masked all the same.
    pub fn mask(&self, text: &str) -> String {
        let password = self.password.expose();
        if password.trim().is_empty() {
            text.to_owned()
        } else {
            text.replace(password, "***")
        }
    }
}

/// The seed's defaults: `localhost:27017`, database `trading_meta`; user `admin` and password
/// `password` only once one of the two is set, since a server without authentication (the local
/// stack's) refuses credentials.
pub(super) fn load_mongodb(environment: &Environment) -> Result<MongoConfig, ConfigError> {
    let host = variable_or(environment, "MONGO_HOST", "localhost")?.trim().to_owned();
    let port = parse_port("MONGO_PORT", variable_or(environment, "MONGO_PORT", "27017")?)?;
    let (user, password) = match (environment.get("MONGO_USER")?, environment.get("MONGO_PASSWORD")?) {
        (None, None) => (None, Secret::default()),
        (user, password) => (Some(user.unwrap_or("admin").to_owned()), Secret::new(password.unwrap_or("password"))),
    };
    let database = variable_or(environment, "MONGO_DATABASE", "trading_meta")?.to_owned();
    check_database(&database)?;
    Ok(MongoConfig {
        host,
        port,
        user,
        password,
        database,
        bounds: Bounds::default(),
        lock_timeout: DEFAULT_LOCK_TIMEOUT,
    })
}

/// MongoDB's rules for a database name, and not one of the server's own.
fn check_database(name: &str) -> Result<(), ConfigError> {
    let problem = if name.len() > 63 {
        "is longer than 63 bytes, MongoDB's limit for a database name".to_owned()
    } else if let Some(bad) = name.chars().find(|c| "/\\. \"$".contains(*c) || *c == '\0') {
        format!("holds `{bad}`, which MongoDB does not allow in a database name")
    } else if ["admin", "local", "config"].contains(&name) {
        format!("names `{name}`, one of MongoDB's own databases; name the application's database instead")
    } else {
        return Ok(());
    };
    Err(ConfigError::InvalidUrlPart { setting: "MONGO_DATABASE", problem })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(pairs: &[(&str, &str)]) -> Result<MongoConfig, ConfigError> {
        load_mongodb(&Environment::from_pairs(pairs.iter().copied()))
    }

    #[test]
    fn defaults_are_the_seeds_and_credentials_only_when_one_is_set() {
        let config = load(&[]).expect("defaults");
        assert_eq!(config.describe(), "mongodb://localhost:27017/trading_meta");
        assert!(config.user.is_none());
        let config = load(&[("MONGO_PASSWORD", "hunter2")]).expect("password alone");
        assert_eq!(config.user.as_deref(), Some("admin"));
        assert_eq!(config.describe(), "mongodb://admin@localhost:27017/trading_meta");
        assert_eq!(config.mask("bad hunter2 here"), "bad *** here");
        let config = load(&[("MONGO_USER", "app")]).expect("user alone");
        assert_eq!(config.password.expose(), "password");
    }

    #[test]
    fn bad_settings_name_the_variable() {
        let error = load(&[("MONGO_PORT", "hunter2")]).map(drop).unwrap_err().to_string();
        assert!(error.starts_with("`MONGO_PORT` must be a port number"), "{error}");
        let error = load(&[("MONGO_DATABASE", "a.b")]).map(drop).unwrap_err().to_string();
        assert!(error.starts_with("`MONGO_DATABASE` holds `.`"), "{error}");
        let error = load(&[("MONGO_DATABASE", "admin")]).map(drop).unwrap_err().to_string();
        assert!(error.contains("MongoDB's own"), "{error}");
    }
}
