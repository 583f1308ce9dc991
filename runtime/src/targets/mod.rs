//! The five targets behind one trait, the seed's `BaseMigrator`: a health check, a status and an
//! apply. `crate::run` drives them in the fixed order PostgreSQL → ClickHouse → MongoDB → Kafka →
//! indicators; each module here owns everything about its server and nothing else.

pub mod checkpoint;
pub mod clickhouse;
pub mod indicators;
pub mod kafka;
pub mod mongodb;
pub mod postgres;
pub mod versioned;

use std::fmt;

pub use self::checkpoint::{Checkpoint, SafePoint, Stop};
use crate::plan::Plan;

/// Which target, in the order `migrate` runs them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, clap::ValueEnum)]
pub enum TargetName {
    Postgres,
    Clickhouse,
    Mongodb,
    Kafka,
    Indicators,
}

impl TargetName {
    /// Every target, in run order.
    pub const ALL: [TargetName; 5] =
        [TargetName::Postgres, TargetName::Clickhouse, TargetName::Mongodb, TargetName::Kafka, TargetName::Indicators];

    pub fn as_str(self) -> &'static str {
        match self {
            TargetName::Postgres => "postgres",
            TargetName::Clickhouse => "clickhouse",
            TargetName::Mongodb => "mongodb",
            TargetName::Kafka => "kafka",
            TargetName::Indicators => "indicators",
        }
    }

    /// The prefix of this target's log events, as the seed's migrators named them
    /// (`postgresql_migrator.migration_started`).
    pub fn event_prefix(self) -> &'static str {
        match self {
            TargetName::Postgres => "postgresql_migrator",
            TargetName::Clickhouse => "clickhouse_migrator",
            TargetName::Mongodb => "mongodb_migrator",
            TargetName::Kafka => "kafka_migrator",
            TargetName::Indicators => "indicators_migrator",
        }
    }
}

impl fmt::Display for TargetName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What `apply` may do beyond the safe default.
#[derive(Clone, Debug, Default)]
pub struct ApplyOptions {
    /// Delete topics that `kafka_topics.yml` keeps as tombstones (`deleted: true`).
    pub allow_delete: bool,
}

/// What a target did, one human-readable line per change (`V3 add_orders (12 ms)`,
/// `created topic market.ticks`). Empty when the server was already at the plan.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Changes(pub Vec<String>);

impl Changes {
    pub fn push(&mut self, change: impl Into<String>) {
        self.0.push(change.into());
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Where a target stands against the plan, without changing anything.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Status {
    /// What the server is at (`V7 create_notifications`, `12 topics`), if anything.
    pub current: Option<String>,
    /// What `migrate` would do, one line each.
    pub pending: Vec<String>,
    /// What does not match the plan and `migrate` will not fix by itself (drift, a half-applied
    /// migration, a refused topic change), one line each.
    pub problems: Vec<String>,
    /// What is worth knowing but is not the plan's business, one line each (topics on the
    /// cluster that `kafka_topics.yml` does not declare): never counts against the plan.
    pub notes: Vec<String>,
}

impl Status {
    pub fn is_at_plan(&self) -> bool {
        self.pending.is_empty() && self.problems.is_empty()
    }
}

/// An `apply` that stopped part-way: the error, and what had been done before it.
#[derive(Debug)]
pub struct Failure<E> {
    pub error: E,
    pub done: Changes,
}

impl<E> Failure<E> {
    pub fn new(error: E, done: Changes) -> Self {
        Failure { error, done }
    }
}

impl<E> From<E> for Failure<E> {
    fn from(error: E) -> Self {
        Failure { error, done: Changes::default() }
    }
}

/// One system `migrate` brings to the plan.
#[allow(async_fn_in_trait)] // Used through generics only; no `Send` bound is needed on the futures.
pub trait Target {
    /// The target's typed error; its message names the target's server and the fix, and never
    /// contains a password.
    type Error: std::error::Error + Send + Sync + 'static;

    fn name(&self) -> TargetName;

    /// The checkpoint to ask before each step (see `targets::checkpoint`); until it is set, every
    /// step may run. The SQL targets ask it before each migration and statement; Kafka and the
    /// indicators, whose changes go out as one batch, keep this default, since `crate::run` asks
    /// before each target.
    fn set_checkpoint(&mut self, _checkpoint: Checkpoint) {}

    /// One attempt to reach the server and check it can be used. `crate::run` retries it with
    /// backoff for up to `--wait`, so a server that is still starting is waited for.
    async fn health_check(&mut self) -> Result<(), Self::Error>;

    /// Whether a failed health check will fail the same way however long `crate::run` retries
    /// it (a refused password, a missing database, a TLS mismatch, a bad client setting): the
    /// run then stops at once with this error instead of waiting out `--wait`. Each target
    /// decides it where it turns the server's answer into its error.
    fn is_permanent(error: &Self::Error) -> bool;

    /// Where the server stands against `plan`; changes nothing.
    async fn status(&mut self, plan: &Plan) -> Result<Status, Self::Error>;

    /// Brings the server to `plan`. Stops at the first error, reporting what it did before it.
    async fn apply(&mut self, plan: &Plan, options: &ApplyOptions) -> Result<Changes, Failure<Self::Error>>;
}

/// One row of a SQL target's history, the same shape for PostgreSQL and ClickHouse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryEntry {
    pub version: u64,
    pub description: String,
    pub checksum: String,
    pub applied_at: chrono::DateTime<chrono::Utc>,
    pub execution_ms: u64,
    /// Applied completely, or (ClickHouse only) an upgrade or downgrade stopped part-way.
    pub state: EntryState,
    /// The downgrade as it was when the migration was applied: an older binary that does not
    /// know this version can still undo it.
    pub downgrade_sql: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryState {
    Applied,
    Partial {
        done: u32,
        total: u32,
    },
    /// (ClickHouse only) a downgrade stopped after `done` of its `total` statements.
    Reverting {
        done: u32,
        total: u32,
    },
}

/// Where `up` and `down` stop: a version, or `base` (before the first migration).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum VersionTarget {
    Base,
    Version(u64),
}

/// What the operator commands need from a SQL target (PostgreSQL, ClickHouse) beyond
/// [`Target`]: the versioned-migration engine (`targets::versioned`) over the target's
/// primitives ([`versioned::runner::Backend`]). Every method checks drift first, as `apply`
/// does, except `repair`, which exists to accept it.
#[allow(async_fn_in_trait)] // Used through generics only.
pub trait VersionedTarget: versioned::runner::Backend + Sized {
    /// Every history entry, ascending by version; empty when the history table does not exist.
    async fn history_entries(&mut self) -> Result<Vec<HistoryEntry>, Self::Error> {
        Ok(self.read_history().await?.unwrap_or_default())
    }

    /// Applies pending migrations up to and including `to` (all of them for `None`).
    async fn upgrade_to(&mut self, plan: &Plan, to: Option<u64>) -> Result<Changes, Failure<Self::Error>> {
        let checkpoint = self.checkpoint().clone();
        versioned::runner::upgrade(self, Self::migrations(plan), to, &checkpoint).await
    }

    /// Runs downgrades newest first until the target is at `to`. A version the plan does not
    /// know is undone with the downgrade SQL stored at apply time.
    async fn downgrade_to(&mut self, plan: &Plan, to: VersionTarget) -> Result<Changes, Failure<Self::Error>> {
        let checkpoint = self.checkpoint().clone();
        versioned::runner::downgrade(self, Self::migrations(plan), to, &checkpoint).await
    }

    /// Records every plan migration up to `version` as applied without running anything, for a
    /// database created by another tool. Refuses when the history is not empty.
    async fn baseline(&mut self, plan: &Plan, version: u64) -> Result<Changes, Self::Error> {
        versioned::runner::baseline(self, Self::migrations(plan), version).await
    }

    /// Accepts the server's current state after a person fixed it by hand: clears a half-applied
    /// mark (the migration counts as applied), records gaps as applied (see `versioned`), updates
    /// checksums and stored downgrades of edited migrations to the plan's. Says what it changed.
    async fn repair(&mut self, plan: &Plan) -> Result<Changes, Self::Error>;

    /// The lines of [`VersionedTarget::repair`] that write something, as it would write them
    /// now, writing nothing: what the operator confirms before `repair` runs. (Lines that only
    /// say a version is left as it is need no confirmation.)
    async fn repair_preview(&mut self, plan: &Plan) -> Result<Changes, Self::Error>;

    /// The statements `upgrade_to(plan, to)` would run against the server as it is now, in order,
    /// each with the migration it belongs to: for `migrate --dry-run`.
    async fn pending_sql(&mut self, plan: &Plan, to: Option<u64>) -> Result<Vec<PlannedStatement>, Self::Error> {
        versioned::runner::planned(self, Self::migrations(plan), to).await
    }
}

/// One statement a dry run or `plan --sql` prints.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedStatement {
    pub version: u64,
    pub description: &'static str,
    pub path: &'static str,
    pub sql: String,
}

/// A duration as people write it, rounded so that it reads at a glance: `6.9s`, `250ms`,
/// `2m 30s`, never `6s 885ms 660us 643ns`.
pub fn human_duration(duration: std::time::Duration) -> humantime::FormattedDuration {
    use std::time::Duration;
    let rounded = if duration < Duration::from_secs(1) {
        Duration::from_millis(duration.as_millis() as u64)
    } else if duration < Duration::from_secs(60) {
        Duration::from_millis((duration.as_millis() as u64 + 50) / 100 * 100)
    } else {
        Duration::from_secs((duration.as_millis() as u64 + 500) / 1000)
    };
    humantime::format_duration(rounded)
}

/// `error: cause: cause` on one line, skipping a cause whose text the outer message already
/// includes (hyper and sqlx repeat their own message as a source).
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text.replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::human_duration;

    #[test]
    fn durations_read_as_people_write_them() {
        assert_eq!(human_duration(Duration::new(6, 885_660_643)).to_string(), "6s 900ms");
        assert_eq!(human_duration(Duration::from_nanos(250_400_000)).to_string(), "250ms");
        assert_eq!(human_duration(Duration::from_millis(150_400)).to_string(), "2m 30s");
        assert_eq!(human_duration(Duration::from_secs(60)).to_string(), "1m");
    }
}
