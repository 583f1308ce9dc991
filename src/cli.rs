//! The command line: clap types whose doc comments are the `--help` text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::config::Overrides;
use crate::logging::LogFormat;
use crate::target::TargetName;

/// The exit codes, for `--help` and for deploy scripts.
pub mod exit_code {
    /// Every selected target is at the plan, or `MIGRATE` switched migrations off.
    pub const SUCCESS: u8 = 0;
    /// A target failed part-way; the error line says what was applied before it.
    pub const FAILED: u8 = 1;
    /// A bad flag, variable or env file; nothing was contacted.
    pub const USAGE: u8 = 2;
    /// A server did not pass its health check within `--wait`; nothing of it was changed.
    pub const UNREACHABLE: u8 = 3;
    /// `status` only: a target has pending changes or problems.
    pub const NOT_AT_PLAN: u8 = 4;
}

const MAIN_AFTER_HELP: &str = "\
Examples:
  migrator plan                          print what this binary would apply; contacts no server
  migrator migrate                       apply everything: PostgreSQL, ClickHouse, Kafka, indicators
  migrator migrate postgres clickhouse   only these targets, still in that order
  migrator status                        what migrate would do; changes nothing
  migrator --env-file .env migrate --wait 2m

Exit codes:
  0  success (or MIGRATE set to something other than `enabled`)
  1  a target failed; the error line says what was already applied
  2  bad command line, environment variable or env file; nothing was contacted
  3  a server did not answer its health check within --wait
  4  (status) a target has pending changes or problems";

/// Trade Forge Migrator: applies the migrations, Kafka topics and indicator catalogue compiled
/// into this binary.
///
/// Logs go to stderr, the plan and the summaries to stdout.
#[derive(Debug, Parser)]
#[command(name = "migrator", version, after_help = MAIN_AFTER_HELP)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// Read variables from this dotenv file before the environment; a variable already set in the
    /// environment wins over the file.
    #[arg(long, global = true, value_name = "PATH")]
    pub env_file: Option<PathBuf>,

    /// Log format on stderr: `json` (one object per line), `text`, or `auto` (text when stderr
    /// is a terminal, JSON otherwise).
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Auto, value_name = "FORMAT")]
    pub log_format: LogFormat,

    /// Log level or filter directives (`debug`, `info,sqlx=warn`) [default: `RUST_LOG`, else
    /// `info`].
    #[arg(long, global = true, value_name = "FILTER")]
    pub log_level: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply the plan: PostgreSQL → ClickHouse → Kafka → indicators, stopping at the first
    /// failure.
    ///
    /// Each target is health-checked first (retried until `--wait` runs out), then brought to the
    /// plan; a second run with nothing to do changes nothing. When `MIGRATE` is set to anything
    /// but `enabled`, logs that migrations are disabled and exits 0 without contacting a server.
    #[command(after_long_help = MIGRATE_AFTER_HELP, after_help = MIGRATE_AFTER_HELP)]
    Migrate(MigrateArgs),

    /// Show where each target stands against the plan (current position, pending changes,
    /// problems such as drift) without changing anything.
    ///
    /// Exits 0 when every selected target is at the plan and 4 when something is pending or
    /// wrong, so a deploy can check a database before starting the services.
    #[command(after_help = STATUS_AFTER_HELP)]
    Status(StatusArgs),

    /// Print the plan compiled into this binary (migrations, topics, indicators and the plan
    /// fingerprint) without contacting any server.
    #[command(after_help = PLAN_AFTER_HELP)]
    Plan,
}

const PLAN_AFTER_HELP: &str = "\
Example:
  migrator plan > plan.txt     # review it, or compare the fingerprint with the one `migrate` logs";

const STATUS_AFTER_HELP: &str = "\
Examples:
  migrator status
  migrator status postgres clickhouse && echo \"databases are at the plan\"

Connections are configured as for `migrate` (see `migrator migrate --help`).";

const MIGRATE_AFTER_HELP: &str = "\
Examples:
  migrator migrate
  migrator migrate postgres kafka --wait 2m
  DATABASE_URL=postgresql+asyncpg://app@db:5432/trading_users POSTGRES_PASSWORD=… migrator migrate
  migrator migrate kafka --kafka-config security.protocol=SASL_SSL

Environment (a flag wins over its variable; an empty variable counts as unset):
  MIGRATE                   `enabled` or unset runs; any other value skips with exit 0
  DATABASE_URL              postgres://, postgresql:// or postgresql+asyncpg|psycopg|psycopg2://
  POSTGRES_HOST             [default: localhost]  (each fills what DATABASE_URL leaves out)
  POSTGRES_PORT             [default: 5432]
  POSTGRES_DB               [default: trading_users]
  POSTGRES_USER             [default: postgres]
  POSTGRES_PASSWORD         [default: postgres]
  CLICKHOUSE_URL            http(s)://user:password@host:port/?database=name
  CLICKHOUSE_HOST           [default: localhost]
  CLICKHOUSE_PORT           [default: 8123, the HTTP interface]
  CLICKHOUSE_DB             [default: default]  (`?database=` in CLICKHOUSE_URL wins)
  CLICKHOUSE_USER           [default: default]
  CLICKHOUSE_PASSWORD       [default: empty]
  KAFKA_BOOTSTRAP_SERVERS   [default: localhost:9092]
  KAFKA_CONFIG              librdkafka `key=value` entries separated by `;` or new lines
  RUST_LOG                  log filter when --log-level is not given

Passwords are never logged or printed; prefer variables or --env-file to flags for them,
since command lines are visible to other users of the machine.";

/// `migrator migrate`.
#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// Only these targets, in the fixed order whatever order they are given in [default: all]
    #[arg(value_enum, value_name = "TARGET")]
    pub targets: Vec<TargetName>,

    /// Delete the Kafka topics that `kafka_topics.yml` marks `deleted: true`; without it they are
    /// only reported.
    #[arg(long)]
    pub allow_delete: bool,

    #[command(flatten)]
    pub connection: ConnectionArgs,
}

/// `migrator status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Only these targets, in the fixed order [default: all]
    #[arg(value_enum, value_name = "TARGET")]
    pub targets: Vec<TargetName>,

    #[command(flatten)]
    pub connection: ConnectionArgs,
}

/// Where the servers are; each flag wins over its environment variable.
#[derive(Debug, Args)]
pub struct ConnectionArgs {
    /// PostgreSQL URL [env: DATABASE_URL]
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,

    /// ClickHouse HTTP URL [env: CLICKHOUSE_URL]
    #[arg(long, value_name = "URL")]
    pub clickhouse_url: Option<String>,

    /// Kafka brokers, `host:port` separated by commas [env: KAFKA_BOOTSTRAP_SERVERS]
    #[arg(long, value_name = "SERVERS")]
    pub kafka_bootstrap_servers: Option<String>,

    /// A librdkafka property as `key=value` (`security.protocol=SASL_SSL`); repeatable, wins
    /// over the same key in `KAFKA_CONFIG`
    #[arg(long, value_name = "KEY=VALUE")]
    pub kafka_config: Vec<String>,

    /// How long to wait for each server to pass its health check (`30s`, `2m`) [default: 60s]
    #[arg(long, value_name = "DURATION")]
    pub wait: Option<String>,
}

impl MigrateArgs {
    /// The selected targets in run order, each once; all of them when none is named.
    pub fn selected_targets(&self) -> Vec<TargetName> {
        in_run_order(&self.targets)
    }
}

impl StatusArgs {
    /// The selected targets in run order, each once; all of them when none is named.
    pub fn selected_targets(&self) -> Vec<TargetName> {
        in_run_order(&self.targets)
    }
}

fn in_run_order(named: &[TargetName]) -> Vec<TargetName> {
    if named.is_empty() {
        return TargetName::ALL.to_vec();
    }
    let mut targets = named.to_vec();
    targets.sort();
    targets.dedup();
    targets
}

impl ConnectionArgs {
    pub fn overrides(&self) -> Overrides {
        Overrides {
            database_url: self.database_url.clone(),
            clickhouse_url: self.clickhouse_url.clone(),
            kafka_bootstrap_servers: self.kafka_bootstrap_servers.clone(),
            kafka_config: self.kafka_config.clone(),
            wait: self.wait.clone(),
        }
    }
}
