//! MongoDB: applies `plan.mongodb` to the configured database (`MONGO_DATABASE`), one command at
//! a time, recording progress after every command; a backend of the versioned engine
//! (`targets::versioned`), which makes every decision (what to run, drift, refusals), as for
//! PostgreSQL and ClickHouse. The plan carries each migration's commands as canonical JSON
//! strings (its `statements`), built and checked at compile time (`spec::mongodb`).
//!
//! # History and progress
//!
//! `migrations` holds one document per version (see the `history` submodule): description,
//! checksum, when, how long, the downgrade as applied, and how far it got: `state`
//! (`applied`, `partial`, `reverting`), `done` of `total` commands, `in_flight`. MongoDB's DDL is
//! not transactional, so a migration is recorded as it goes:
//!
//! 1. Before command `k`, the document says `done: k-1, in_flight: true` (the intent: the
//!    commands before ran, `k` is being sent); after the last, `applied` with the execution time.
//! 2. When MongoDB refuses command `k`, the document says `partial`, `done: k-1`, not in flight,
//!    with MongoDB's answer in `error`, and `migrate` stops naming the command. With no answer
//!    (a cut connection), it stays in flight: the command may have run.
//! 3. The next `migrate` resumes a `partial` migration at command `k`: commands `1..k-1` never
//!    run again. An in-flight command is settled first from the catalog: `create`/`drop` by the
//!    collection, `createIndexes`/`dropIndexes` by the index names, `renameCollection` by both
//!    names; a `collMod` or a data command cannot be told and stops the run, asking for `repair`.
//! 4. A signal or a lost lock between two commands leaves `partial` at the last command done.
//!
//! `down` runs downgrades newest first the same way (`reverting`, `done` of the downgrade's
//! commands); the document of a reverted version is deleted. A version the plan does not know
//! is undone with the downgrade stored in its document.
//!
//! # The lock
//!
//! Every command that changes the database (`migrate`, `up`, `down`, `baseline`, `repair`)
//! holds the MongoDB migration lock (`lock` submodule) from before it reads the history until
//! it is done, so three migrators at once apply each command once.

/// The driver, for tests and tools that check what the server holds (the root crate does not
/// depend on it directly).
pub use ::mongodb as driver;

mod command;
mod connection;
pub mod history;
mod lock;
pub mod schema;

use std::time::{Duration, Instant};

use self::command::Effect;
use self::connection::{Connection, Refusal};
pub use self::history::{Record, State};
use super::versioned::runner::Backend;
use super::versioned::schedule::command as resume_command;
pub use super::versioned::Direction;
use super::versioned::{self, elapsed_ms, Step, Unsettled, VersionedError};
use super::{
    ApplyOptions, Changes, Checkpoint, EntryState, Failure, HistoryEntry, SafePoint, Status, Stop, Target, TargetName,
    VersionedTarget,
};
use crate::config::MongoConfig;
use crate::plan::{Migration, Plan, Reversal};

#[derive(Debug, thiserror::Error)]
pub enum MongoError {
    /// A refusal of the versioned engine, boxed to keep the error small.
    #[error(transparent)]
    Versioned(Box<VersionedError>),
    #[error(
        "cannot reach MongoDB at `{server}`: {reason}; check that the server is running and that MONGO_HOST and \
         MONGO_PORT point at it"
    )]
    Unreachable { server: String, reason: String },
    #[error(
        "cannot log in to MongoDB at `{server}`: {reason}; check MONGO_USER and MONGO_PASSWORD (leave both unset \
         for a server without authentication)"
    )]
    Authentication { server: String, reason: String },
    #[error("`{server}`: cannot {action}: {reason}")]
    Request { server: String, action: String, reason: String },
    #[error(
        "`{server}`: the `migrations` collection cannot be read: {reason}; it was written by another tool or a newer \
         migrator"
    )]
    InvalidHistory { server: String, reason: String },
    #[error(transparent)]
    Command(Box<CommandError>),
    #[error(
        "`{server}`: another migrator holds the MongoDB migration lock (`{owner}`, until {expires_at}) and did not \
         release it within {waited} (`--lock-timeout`); wait for it to finish, or, if its process is gone, for the \
         lock to expire ({ttl}s after its last renewal)",
        ttl = lock::TIME_TO_LIVE.as_secs()
    )]
    LockHeld { server: String, owner: String, expires_at: String, waited: String },
    #[error(
        "{path}: the downgrade of V{version} {description} stopped after {done} of {recorded_total} commands on \
         `{server}`, but it now has {total} commands, so where to resume cannot be known; finish the downgrade by \
         hand and run repair, which records V{version} as reverted"
    )]
    DowngradeChanged {
        server: String,
        path: String,
        version: u64,
        description: String,
        done: u32,
        recorded_total: u32,
        total: usize,
    },
    /// The run lock (or the MongoDB lock) was lost, or a signal asked to stop.
    #[error("{0}")]
    Stopped(#[from] Stop),
    /// A stop between two commands of one migration: its document says how far it got.
    #[error(
        "{source}, after command {done}/{total} of {what}: `migrations` records it as {state} at {done}/{total}, and \
         the next {} resumes at command {next}/{total}",
        resume_command(*.direction),
        what = match .direction { Direction::Upgrade => format!("V{}", .version), Direction::Downgrade => format!("the downgrade of V{}", .version) },
        state = match .direction { Direction::Upgrade => "partial", Direction::Downgrade => "reverting" },
        next = .done + 1
    )]
    StoppedPartWay { source: Stop, direction: Direction, version: u64, done: usize, total: usize },
}

/// A migration command MongoDB refused or did not answer.
#[derive(Debug, thiserror::Error)]
#[error(
    "{path}: {what} {description} stopped at command {number}/{total} (`{summary}`) on `{server}`: {reason}; {after}",
    what = match .direction { Direction::Upgrade => format!("V{}", .version), Direction::Downgrade => format!("the downgrade of V{}", .version) },
    after = self.after()
)]
pub struct CommandError {
    pub server: String,
    pub path: String,
    pub direction: Direction,
    pub version: u64,
    pub description: String,
    /// 1-based.
    pub number: usize,
    pub total: usize,
    pub summary: String,
    pub reason: String,
    /// No answer came: the command may have run.
    pub lost: bool,
}

impl CommandError {
    fn after(&self) -> String {
        let done = match self.number - 1 {
            0 => "no command before it ran".to_owned(),
            1 => "command 1 stays applied".to_owned(),
            count => format!("commands 1-{count} stay applied"),
        };
        let state = match self.direction {
            Direction::Upgrade => "partial",
            Direction::Downgrade => "reverting",
        };
        let command = resume_command(self.direction);
        if self.lost {
            format!(
                "{done}; the answer was lost, so it may have run: `migrations` records it as started, and the next \
                 {command} settles it from the catalog before going on (or asks for repair when it cannot tell)"
            )
        } else {
            format!(
                "{done} and `migrations` records V{} as {state}; fix the cause, then run {command} again: it resumes \
                 at command {}/{} without re-running the ones before it (or finish it by hand and run repair)",
                self.version, self.number, self.total
            )
        }
    }
}

impl MongoError {
    /// The engine's refusal this error wraps, if it is one.
    pub fn versioned(&self) -> Option<&VersionedError> {
        match self {
            MongoError::Versioned(refusal) => Some(refusal),
            _ => None,
        }
    }
}

impl From<VersionedError> for MongoError {
    fn from(error: VersionedError) -> Self {
        MongoError::Versioned(Box::new(error))
    }
}

/// Applies `plan.mongodb` to one database. Contacts the server on first use (normally the
/// health check).
pub struct MongoTarget {
    connection: Connection,
    checkpoint: Checkpoint,
    lock_timeout: Duration,
    /// Held by the commands that write, from before they read the history.
    lock: Option<lock::Held>,
    /// The records as last read by the engine's runner.
    read: Vec<Record>,
}

impl MongoTarget {
    pub fn new(config: &MongoConfig) -> Self {
        MongoTarget {
            connection: Connection::new(config),
            checkpoint: Checkpoint::default(),
            lock_timeout: config.lock_timeout,
            lock: None,
            read: Vec::new(),
        }
    }

    /// Every version document, ascending; empty when there is none. Creates nothing.
    pub async fn records(&mut self) -> Result<Vec<Record>, MongoError> {
        Ok(self.read_records().await?.unwrap_or_default())
    }

    /// The database's collections, options, validators and indexes as sorted text lines,
    /// `migrations` left out: what `verify-downgrades` compares.
    pub async fn schema_dump(&mut self) -> Result<String, MongoError> {
        schema::dump(&self.connection).await
    }

    /// Drops the configured database (`verify-downgrades`' scratch database only).
    pub async fn drop_database(&self) -> Result<(), MongoError> {
        let database = self.connection.database()?;
        self.connection.bounded("drop the scratch database", database.drop()).await
    }

    async fn read_records(&self) -> Result<Option<Vec<Record>>, MongoError> {
        let database = self.connection.database()?;
        let server = self.connection.server().to_owned();
        let timeout = self.connection.config().bounds.io_timeout;
        match tokio::time::timeout(timeout, history::read(&database)).await {
            Ok(Ok(records)) => Ok(records),
            Ok(Err(history::ReadError::Server(error))) => Err(self.connection.error("read `migrations`", &error)),
            Ok(Err(history::ReadError::Invalid(reason))) => Err(MongoError::InvalidHistory { server, reason }),
            Err(_) => Err(MongoError::Request {
                server,
                action: "read `migrations`".to_owned(),
                reason: "no answer within `--io-timeout`".to_owned(),
            }),
        }
    }

    async fn write(&self, record: &Record, action: &str) -> Result<(), MongoError> {
        let database = self.connection.database()?;
        self.connection.bounded(action, history::write(&database, record)).await
    }

    /// Takes the MongoDB migration lock (see `lock`).
    async fn acquire(&mut self) -> Result<(), MongoError> {
        let database = self.connection.database()?;
        let server = self.connection.server().to_owned();
        match lock::acquire(&database, &server, self.lock_timeout).await {
            Ok(held) => {
                self.lock = Some(held);
                Ok(())
            }
            Err(lock::AcquireError::Server(error)) => Err(self.connection.error("take the migration lock", &error)),
            Err(lock::AcquireError::Held(holder)) => Err(MongoError::LockHeld {
                server,
                owner: holder.owner,
                expires_at: holder.expires_at,
                waited: humantime::format_duration(self.lock_timeout).to_string(),
            }),
        }
    }

    async fn release(&mut self) {
        if let Some(held) = self.lock.take() {
            held.release().await;
        }
    }

    /// The checkpoint, and this target's own lock.
    async fn may_continue(&self, checkpoint: &Checkpoint) -> Result<(), Stop> {
        checkpoint.reached(SafePoint::Recorded).await?;
        match &self.lock {
            Some(held) => held.verify(),
            None => Ok(()),
        }
    }

    fn record(&self, version: u64) -> Option<&Record> {
        self.read.iter().find(|record| record.version == version)
    }

    /// The commands `step` runs, the file (or history) they come from, and the description.
    fn step_commands(&self, step: &Step<'_>) -> (Vec<String>, String, String) {
        match step {
            Step::Upgrade { migration, .. } => (
                migration.upgrade.statements.iter().map(|command| (*command).to_owned()).collect(),
                migration.upgrade.path.to_owned(),
                migration.description.to_owned(),
            ),
            Step::Downgrade { entry, planned: Some(migration) } => {
                let commands = match migration.reversal {
                    Reversal::Script => migration.downgrade.statements.iter().map(|c| (*c).to_owned()).collect(),
                    Reversal::NoOp { .. } | Reversal::Irreversible { .. } => Vec::new(),
                };
                (commands, migration.downgrade.path.to_owned(), entry.description.clone())
            }
            Step::Downgrade { entry, planned: None } => (
                command::stored_commands(&entry.downgrade_sql),
                format!("the downgrade of V{} stored in `migrations`", entry.version),
                entry.description.clone(),
            ),
        }
    }

    /// Whether the in-flight command ran, from the catalog; `Err` with why it cannot be told.
    async fn settle(&self, json: &str) -> Result<bool, String> {
        let database = self.connection.database().map_err(|error| error.to_string())?;
        let collections = || async {
            self.connection
                .bounded("list collections", database.list_collection_names())
                .await
                .map_err(|error| error.to_string())
        };
        let indexes = |collection: String| {
            let database = database.clone();
            async move {
                let names = self
                    .connection
                    .bounded(
                        "list indexes",
                        database.collection::<mongodb::bson::Document>(&collection).list_index_names(),
                    )
                    .await;
                match names {
                    Ok(names) => Ok(names),
                    // No collection, no index.
                    Err(MongoError::Request { reason, .. }) if reason.contains("NamespaceNotFound") => Ok(Vec::new()),
                    Err(error) => Err(error.to_string()),
                }
            }
        };
        match command::effect(json) {
            Effect::Created(name) => Ok(collections().await?.contains(&name)),
            Effect::Dropped(name) => Ok(!collections().await?.contains(&name)),
            Effect::IndexesCreated { collection, names } => {
                let present = indexes(collection).await?;
                Ok(names.iter().all(|name| present.contains(name)))
            }
            Effect::IndexDropped { collection, name } => Ok(!indexes(collection).await?.contains(&name)),
            Effect::Renamed { from, to } => {
                let names = collections().await?;
                Ok(!names.contains(&from) && names.contains(&to))
            }
            Effect::Unreadable(why) => Err(why.to_owned()),
        }
    }

    /// Runs `commands[first..]` of one step, recording progress in `record` before and after
    /// each; on success the step's last record is the caller's to write.
    #[allow(clippy::too_many_arguments)]
    async fn run_commands(
        &self,
        record: &mut Record,
        direction: Direction,
        commands: &[String],
        first: usize,
        path: &str,
        checkpoint: &Checkpoint,
    ) -> Result<(), MongoError> {
        let total = commands.len();
        let database = &self.connection.config().database;
        for (index, json) in commands.iter().enumerate().skip(first) {
            if index > first {
                if let Err(stop) = self.may_continue(checkpoint).await {
                    record.in_flight = false;
                    self.write(record, "record where the migration stopped").await?;
                    return Err(MongoError::StoppedPartWay {
                        source: stop,
                        direction,
                        version: record.version,
                        done: index,
                        total,
                    });
                }
            } else if let Some(held) = &self.lock {
                held.verify()?;
            }
            record.done = versioned::saturating_u32(index);
            record.in_flight = true;
            self.write(record, "record the command it starts in `migrations`").await?;
            let outcome = match command::prepare(json, database) {
                Ok((on, document)) => self.connection.run_command(&on, document).await,
                Err(reason) => Err(Refusal::Refused(reason)),
            };
            let failed = |reason: String, lost: bool| {
                MongoError::Command(Box::new(CommandError {
                    server: self.connection.server().to_owned(),
                    path: path.to_owned(),
                    direction,
                    version: record.version,
                    description: record.description.clone(),
                    number: index + 1,
                    total,
                    summary: command::summary(json),
                    reason,
                    lost,
                }))
            };
            match outcome {
                Ok(()) => {
                    tracing::debug!(
                        event = "mongodb_migrator.command_applied",
                        target = "mongodb",
                        version = record.version,
                        command = index + 1,
                        "{}",
                        command::summary(json)
                    );
                }
                Err(Refusal::Refused(reason)) => {
                    record.in_flight = false;
                    record.error = Some(reason.clone());
                    self.write(record, "record the refused command in `migrations`").await?;
                    return Err(failed(reason, false));
                }
                Err(Refusal::Lost(reason)) => return Err(failed(reason, true)),
            }
        }
        record.done = versioned::saturating_u32(total);
        record.in_flight = false;
        record.error = None;
        Ok(())
    }

    /// Where a step resumes: after the recorded commands, and after an in-flight one that the
    /// catalog shows ran.
    async fn resume_at(&self, step: &Step<'_>, commands: &[String], path: &str) -> Result<usize, MongoError> {
        let Some(record) = self.record(step.version()) else { return Ok(0) };
        let done = match (step, record.state) {
            (Step::Upgrade { resume: Some(_), .. }, State::Partial) => record.done as usize,
            (Step::Downgrade { .. }, State::Reverting) => record.done as usize,
            _ => return Ok(0),
        };
        if !record.in_flight {
            return Ok(done);
        }
        let Some(json) = commands.get(done) else { return Ok(done) };
        match self.settle(json).await {
            Ok(true) => Ok(done + 1),
            Ok(false) => Ok(done),
            Err(why) => Err(VersionedError::Unsettled(Box::new(Unsettled {
                server: self.connection.server().to_owned(),
                target: TargetName::Mongodb,
                path: leak(path),
                version: record.version,
                description: leak(&record.description),
                number: done + 1,
                total: commands.len(),
                first_line: command::summary(json),
                why,
            }))
            .into()),
        }
    }
}

/// A message's `&'static str` for a path or description read at run time (once per refusal).
fn leak(text: &str) -> &'static str {
    Box::leak(text.to_owned().into_boxed_str())
}

impl Target for MongoTarget {
    type Error = MongoError;

    fn name(&self) -> TargetName {
        TargetName::Mongodb
    }

    fn set_checkpoint(&mut self, checkpoint: Checkpoint) {
        self.checkpoint = checkpoint;
    }

    async fn health_check(&mut self) -> Result<(), MongoError> {
        self.connection.health_check().await
    }

    /// Refused credentials: the server answered, and will answer the same until the settings change.
    fn is_permanent(error: &MongoError) -> bool {
        matches!(error, MongoError::Authentication { .. })
    }

    async fn status(&mut self, plan: &Plan) -> Result<Status, MongoError> {
        let records = self.read_records().await?;
        let entries: Vec<HistoryEntry> = records.iter().flatten().map(Record::entry).collect();
        let mut status = versioned::drift::status(plan.mongodb, &entries);
        let in_flight = records.iter().flatten().filter(|record| record.in_flight).map(|record| {
            format!(
                "V{} {}: command {}/{} was started and its outcome never recorded; the next {} settles it from the \
                 catalog",
                record.version,
                record.description,
                record.done + 1,
                record.total,
                if record.state == State::Reverting { "down" } else { "migrate" }
            )
        });
        status.problems.splice(0..0, in_flight);
        if records.is_none() && !plan.mongodb.is_empty() {
            let collections = self.objects_without_history().await?;
            let server = self.connection.server().to_owned();
            if let Err(refusal) =
                versioned::refuse_schema_without_history(plan.mongodb, collections, &server, TargetName::Mongodb)
            {
                status.problems.push(refusal.to_string());
            }
        }
        Ok(status)
    }

    async fn apply(&mut self, plan: &Plan, _options: &ApplyOptions) -> Result<Changes, Failure<MongoError>> {
        self.upgrade_to(plan, None).await
    }
}

impl VersionedTarget for MongoTarget {
    async fn upgrade_to(&mut self, plan: &Plan, to: Option<u64>) -> Result<Changes, Failure<MongoError>> {
        self.acquire().await?;
        let checkpoint = self.checkpoint.clone();
        let result = versioned::runner::upgrade(self, plan.mongodb, to, &checkpoint).await;
        self.release().await;
        result
    }

    async fn downgrade_to(&mut self, plan: &Plan, to: super::VersionTarget) -> Result<Changes, Failure<MongoError>> {
        self.acquire().await?;
        let checkpoint = self.checkpoint.clone();
        let result = versioned::runner::downgrade(self, plan.mongodb, to, &checkpoint).await;
        self.release().await;
        result
    }

    async fn baseline(&mut self, plan: &Plan, version: u64) -> Result<Changes, MongoError> {
        self.acquire().await?;
        let result = versioned::runner::baseline(self, plan.mongodb, version).await;
        self.release().await;
        result
    }

    /// One line per version it changed; each document is written on its own, so after an
    /// error the lines logged before it were written.
    async fn repair(&mut self, plan: &Plan) -> Result<Changes, MongoError> {
        self.acquire().await?;
        let result = self.repair_locked(plan, true).await;
        self.release().await;
        result
    }

    async fn repair_preview(&mut self, plan: &Plan) -> Result<Changes, MongoError> {
        self.repair_locked(plan, false).await
    }
}

impl MongoTarget {
    /// Accepts the database as it is: a part-way upgrade counts as applied, a part-way downgrade
    /// as reverted, an edited file's checksum and downgrade become the plan's, a version missing
    /// from the plan below its head is forgotten, and gaps are recorded as applied.
    async fn repair_locked(&mut self, plan: &Plan, write: bool) -> Result<Changes, MongoError> {
        let records = self.records().await?;
        let entries: Vec<HistoryEntry> = records.iter().map(Record::entry).collect();
        let head = versioned::drift::plan_head(plan.mongodb);
        let database = self.connection.database()?;
        let mut done = Changes::default();
        for record in &records {
            let planned = versioned::drift::find(plan.mongodb, record.version);
            let label = format!("V{} {}", record.version, record.description);
            let (line, change): (String, Option<Option<Record>>) = match (record.state, planned) {
                (State::Partial, planned) => {
                    let mut fixed = record.clone();
                    fixed.state = State::Applied;
                    fixed.in_flight = false;
                    fixed.error = None;
                    if let Some(migration) = planned {
                        fixed.checksum = migration.checksum.to_owned();
                        fixed.downgrade = history::stored_downgrade(migration);
                    }
                    let line = format!(
                        "{label}: recorded as applied (the migrator had run {} of its {} commands; the rest were \
                         finished by hand)",
                        record.done, record.total
                    );
                    (line, Some(Some(fixed)))
                }
                (State::Reverting, _) => (
                    format!(
                        "{label}: recorded as reverted (the migrator had run {} of its downgrade's {} commands; the \
                         rest were finished by hand)",
                        record.done, record.total
                    ),
                    Some(None),
                ),
                (State::Applied, Some(migration)) if migration.checksum != record.checksum => {
                    let mut fixed = record.clone();
                    fixed.checksum = migration.checksum.to_owned();
                    fixed.downgrade = history::stored_downgrade(migration);
                    (format!("{label}: checksum updated to the file's ({})", migration.checksum), Some(Some(fixed)))
                }
                (State::Applied, None) if record.version < head => {
                    (format!("{label}: forgotten (not in the plan; what it changed stays in the database)"), Some(None))
                }
                _ => continue,
            };
            if write {
                let action = format!("write `migrations` ({line})");
                match change {
                    Some(Some(fixed)) => self.connection.bounded(&action, history::write(&database, &fixed)).await?,
                    Some(None) => self.connection.bounded(&action, history::remove(&database, record.version)).await?,
                    None => {}
                }
                tracing::info!(event = "mongodb_migrator.repaired", target = "mongodb", "{line}");
            }
            done.push(line);
        }
        let applied_head = versioned::applied_head(plan.mongodb, &entries);
        for migration in versioned::unrecorded_gaps(plan.mongodb, &entries) {
            let line = versioned::gap_repair_line(migration, applied_head);
            if write {
                let total = migration.upgrade.statements.len();
                let record = Record::of(migration, State::Applied, total, total);
                self.write(&record, &format!("write `migrations` ({line})")).await?;
                tracing::info!(event = "mongodb_migrator.repaired", target = "mongodb", "{line}");
            }
            done.push(line);
        }
        Ok(done)
    }
}

/// MongoDB's primitives for the engine (`targets::versioned::runner`).
impl Backend for MongoTarget {
    fn migrations(plan: &Plan) -> &'static [Migration] {
        plan.mongodb
    }

    fn checkpoint(&self) -> &Checkpoint {
        &self.checkpoint
    }

    fn server(&self) -> String {
        self.connection.server().to_owned()
    }

    async fn read_history(&mut self) -> Result<Option<Vec<HistoryEntry>>, MongoError> {
        let records = self.read_records().await?;
        let entries = records.as_ref().map(|records| records.iter().map(Record::entry).collect());
        self.read = records.unwrap_or_default();
        Ok(entries)
    }

    /// The collections besides `migrations` and MongoDB's own `system.*`.
    async fn objects_without_history(&mut self) -> Result<Vec<String>, MongoError> {
        let database = self.connection.database()?;
        let mut names = self.connection.bounded("list collections", database.list_collection_names()).await?;
        names.retain(|name| name != history::COLLECTION && !name.starts_with("system."));
        names.sort();
        Ok(names)
    }

    /// A downgrade stopped part-way must still have the command count it stopped at.
    fn check_step(&self, step: &Step<'_>) -> Result<(), MongoError> {
        let Step::Downgrade { entry, .. } = step else { return Ok(()) };
        let EntryState::Reverting { done, total } = entry.state else { return Ok(()) };
        let (commands, path, description) = self.step_commands(step);
        if commands.len() != total as usize {
            return Err(MongoError::DowngradeChanged {
                server: self.connection.server().to_owned(),
                path,
                version: entry.version,
                description,
                done,
                recorded_total: total,
                total: commands.len(),
            });
        }
        Ok(())
    }

    /// MongoDB creates `migrations` with its first document; this one says the history was
    /// started here (see `history::start`).
    async fn prepare_history(&mut self, _direction: Direction, steps: usize) -> Result<(), MongoError> {
        if steps == 0 {
            return Ok(());
        }
        let database = self.connection.database()?;
        self.connection.bounded("start the history in `migrations`", history::start(&database)).await
    }

    async fn run_step(&mut self, step: &Step<'_>, checkpoint: &Checkpoint) -> Result<String, MongoError> {
        let (commands, path, description) = self.step_commands(step);
        let first = self.resume_at(step, &commands, &path).await?;
        let started = Instant::now();
        match step {
            Step::Upgrade { migration, .. } => {
                let mut record = match self.record(migration.version) {
                    Some(record) => Record { state: State::Partial, ..record.clone() },
                    None => Record::of(migration, State::Partial, 0, commands.len()),
                };
                record.applied_at = chrono::Utc::now();
                let again = record.error.is_some();
                self.run_commands(&mut record, Direction::Upgrade, &commands, first, &path, checkpoint)
                    .await
                    .map_err(|error| mark_again(error, again))?;
                record.state = State::Applied;
                record.execution_ms = elapsed_ms(started);
                self.write(&record, "record the applied migration in `migrations`").await?;
                tracing::info!(
                    event = "mongodb_migrator.migration_applied",
                    target = "mongodb",
                    version = migration.version,
                    duration_ms = record.execution_ms,
                    "applied V{} {}",
                    migration.version,
                    migration.description
                );
                let resumed = if first > 0 {
                    format!("resumed at command {}/{}, ", first + 1, commands.len())
                } else {
                    String::new()
                };
                Ok(format!("V{} {} ({resumed}{} ms)", migration.version, description, record.execution_ms))
            }
            Step::Downgrade { entry, .. } => {
                let mut record = match self.record(entry.version) {
                    Some(record) => record.clone(),
                    None => {
                        return Err(MongoError::InvalidHistory {
                            server: self.connection.server().to_owned(),
                            reason: format!("V{} is gone from `migrations` since it was read", entry.version),
                        })
                    }
                };
                if record.state != State::Reverting {
                    record.done = 0;
                }
                record.state = State::Reverting;
                record.total = versioned::saturating_u32(commands.len());
                self.run_commands(&mut record, Direction::Downgrade, &commands, first, &path, checkpoint).await?;
                let database = self.connection.database()?;
                self.connection
                    .bounded("delete the reverted version from `migrations`", history::remove(&database, entry.version))
                    .await?;
                tracing::info!(
                    event = "mongodb_migrator.migration_reverted",
                    target = "mongodb",
                    version = entry.version,
                    duration_ms = elapsed_ms(started),
                    "reverted V{} {}",
                    entry.version,
                    description
                );
                Ok(format!("V{} {} reverted ({} ms)", entry.version, description, elapsed_ms(started)))
            }
        }
    }

    async fn record_applied(&mut self, migrations: &[&'static Migration]) -> Result<(), MongoError> {
        let records: Vec<Record> = migrations
            .iter()
            .map(|migration| {
                let total = migration.upgrade.statements.len();
                Record::of(migration, State::Applied, total, total)
            })
            .collect();
        let database = self.connection.database()?;
        self.connection.bounded("record the baseline in `migrations`", history::write_all(&database, &records)).await
    }

    fn planned_sql(&self, step: &Step<'_>) -> Vec<String> {
        let Step::Upgrade { migration, resume } = step else { return Vec::new() };
        let first = match resume.map(|entry| entry.state) {
            Some(EntryState::Partial { done, .. }) => done as usize,
            _ => 0,
        };
        migration.upgrade.statements.iter().skip(first).map(|command| (*command).to_owned()).collect()
    }
}

/// A command that fails again where the last run stopped says so.
fn mark_again(error: MongoError, again: bool) -> MongoError {
    match error {
        MongoError::Command(mut command) if again => {
            command.reason = format!("{} (it failed there last time too)", command.reason);
            MongoError::Command(command)
        }
        other => other,
    }
}
