//! The process environment with `--env-file` under it, and the `MIGRATE` switch.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use super::*;

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
