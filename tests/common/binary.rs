//! The real `migrator` binary, as the tests that run it start it, and what one run left.

use std::process::{Command, Stdio};

use serde_json::Value;

use super::clickhouse::TestDatabase as ClickHouseDatabase;
use super::postgres::{database_url, TestDatabase as PostgresDatabase};

/// The binary with an empty environment, so nothing from the developer's shell (a stack's
/// `DATABASE_URL`, `RUST_LOG`, `MIGRATE`) leaks in, and stdin closed, so it is never a terminal.
pub fn migrator() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_migrator"));
    command.env_clear().stdin(Stdio::null());
    command
}

/// [`migrator`] pointed at one test's PostgreSQL and ClickHouse databases, logging JSON, and at a
/// MongoDB database name of its own on the stack's server (created only if the test migrates it).
pub fn migrator_for(postgres: &PostgresDatabase, clickhouse: &ClickHouseDatabase) -> Command {
    let mut command = migrator();
    command
        .env("MONGO_HOST", super::mongodb::host())
        .env("MONGO_PORT", super::mongodb::port().to_string())
        .env("MONGO_DATABASE", super::unique_name("tfm_test"))
        .env("DATABASE_URL", database_url(&postgres.config()))
        .env("CLICKHOUSE_URL", &clickhouse.config.url)
        .env("CLICKHOUSE_USER", &clickhouse.config.user)
        .env("CLICKHOUSE_PASSWORD", clickhouse.config.password.expose())
        .env("CLICKHOUSE_DB", clickhouse.name())
        .args(["--log-format", "json"]);
    command
}

/// What one run of the binary left.
#[derive(Debug)]
pub struct Outcome {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Outcome {
    pub fn expect_success(self, what: &str) -> Outcome {
        assert_eq!(self.code, Some(0), "{what} failed:\nstdout: {}\nstderr: {}", self.stdout, self.stderr);
        self
    }

    /// The events of the JSON log lines on stderr.
    pub fn events(&self) -> Vec<String> {
        self.stderr
            .lines()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .filter_map(|line| line["event"].as_str().map(str::to_owned))
            .collect()
    }
}

/// Runs `command` to its end.
pub fn run(command: &mut Command) -> Outcome {
    let output = command.output().expect("run migrator");
    Outcome {
        code: output.status.code(),
        stdout: String::from_utf8(output.stdout).expect("UTF-8 stdout"),
        stderr: String::from_utf8(output.stderr).expect("UTF-8 stderr"),
    }
}
