//! The `migrations` collection: one document per applied (or part-way) version, `_id` the
//! version, updated in place as a migration moves on (MongoDB has cheap single-document
//! updates, unlike ClickHouse 18.16). The lock document (`_id: "lock"`, see `lock.rs`) lives in
//! the same collection, which migrations may not touch (the build refuses them).
//!
//! So does a `started` document, written once before the first version's. A document says how
//! far its migration got: `state` (`applied`, `partial`, `reverting`),
//! `done` of `total` commands, and `in_flight`: command `done + 1` was sent and its outcome
//! was never recorded (written before the command runs: the intent). `error` keeps MongoDB's
//! answer to the command it stopped at. A reverted version's document is deleted.

use chrono::{DateTime, TimeZone, Utc};
use futures::TryStreamExt;
use mongodb::bson::{doc, Bson, Document};
use mongodb::Database;

use crate::plan::{Migration, Reversal};
use crate::targets::{EntryState, HistoryEntry};

/// The history collection, as the seed named it.
pub const COLLECTION: &str = tradeforge_migrator_spec::mongodb::names::HISTORY_COLLECTION;

/// The `_id` of the lock document.
pub(super) const LOCK_ID: &str = "lock";

/// The `_id` of the document that says the history was started here (written before the first
/// version's): with it, a history whose versions were all reverted still exists, as an empty
/// `migration_history` table does for the SQL targets, and the next `migrate` does not mistake
/// what a declared no-op downgrade left for another tool's collections.
const STARTED_ID: &str = "started";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Applied,
    /// An upgrade stopped after `done` commands.
    Partial,
    /// A downgrade stopped after `done` of its commands.
    Reverting,
}

impl State {
    fn as_str(self) -> &'static str {
        match self {
            State::Applied => "applied",
            State::Partial => "partial",
            State::Reverting => "reverting",
        }
    }
}

/// One document of `migrations`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    pub version: u64,
    pub description: String,
    pub checksum: String,
    pub applied_at: DateTime<Utc>,
    pub execution_ms: u64,
    pub state: State,
    pub done: u32,
    pub total: u32,
    /// Command `done + 1` was started; its outcome is not recorded.
    pub in_flight: bool,
    /// The downgrade as applied: its commands one per line, or its declaration (see
    /// [`stored_downgrade`]).
    pub downgrade: String,
    pub error: Option<String>,
}

impl Record {
    /// A fresh record of `migration`, `done` of its upgrade's commands run.
    pub fn of(migration: &Migration, state: State, done: usize, total: usize) -> Record {
        Record {
            version: migration.version,
            description: migration.description.to_owned(),
            checksum: migration.checksum.to_owned(),
            applied_at: Utc::now(),
            execution_ms: 0,
            state,
            done: super::super::versioned::saturating_u32(done),
            total: super::super::versioned::saturating_u32(total),
            in_flight: false,
            downgrade: stored_downgrade(migration),
            error: None,
        }
    }

    pub fn entry(&self) -> HistoryEntry {
        let state = match self.state {
            State::Applied => EntryState::Applied,
            State::Partial => EntryState::Partial { done: self.done, total: self.total },
            State::Reverting => EntryState::Reverting { done: self.done, total: self.total },
        };
        HistoryEntry {
            version: self.version,
            description: self.description.clone(),
            checksum: self.checksum.clone(),
            applied_at: self.applied_at,
            execution_ms: self.execution_ms,
            state,
            downgrade_sql: self.downgrade.clone(),
        }
    }

    fn to_document(&self) -> Document {
        doc! {
            "_id": version_bson(self.version),
            "description": &self.description,
            "checksum": &self.checksum,
            "applied_at": mongodb::bson::DateTime::from_millis(self.applied_at.timestamp_millis()),
            "execution_ms": i64::try_from(self.execution_ms).unwrap_or(i64::MAX),
            "state": self.state.as_str(),
            "done": i64::from(self.done),
            "total": i64::from(self.total),
            "in_flight": self.in_flight,
            "downgrade": &self.downgrade,
            "error": self.error.as_ref().map_or(Bson::Null, |error| Bson::String(error.clone())),
        }
    }

    fn from_document(document: &Document) -> Result<Record, String> {
        let integer = |key: &str| -> Result<i64, String> {
            match document.get(key) {
                Some(Bson::Int32(value)) => Ok(i64::from(*value)),
                Some(Bson::Int64(value)) => Ok(*value),
                other => Err(format!("`{key}` is {other:?}, not an integer")),
            }
        };
        let text = |key: &str| document.get_str(key).map(str::to_owned).map_err(|error| format!("`{key}`: {error}"));
        let version = u64::try_from(integer("_id")?).map_err(|_| "a negative version".to_owned())?;
        let state = match document.get_str("state").map_err(|error| format!("`state`: {error}"))? {
            "applied" => State::Applied,
            "partial" => State::Partial,
            "reverting" => State::Reverting,
            other => return Err(format!("V{version} has the unknown state `{other}`")),
        };
        let applied_at = document.get_datetime("applied_at").map_err(|error| format!("`applied_at`: {error}"))?;
        let count = |key: &str| -> Result<u32, String> {
            u32::try_from(integer(key)?).map_err(|_| format!("`{key}` of V{version} is out of range"))
        };
        Ok(Record {
            version,
            description: text("description")?,
            checksum: text("checksum")?,
            applied_at: Utc.timestamp_millis_opt(applied_at.timestamp_millis()).single().unwrap_or_default(),
            execution_ms: u64::try_from(integer("execution_ms")?).unwrap_or(0),
            state,
            done: count("done")?,
            total: count("total")?,
            in_flight: document.get_bool("in_flight").unwrap_or(false),
            downgrade: text("downgrade")?,
            error: document.get_str("error").ok().map(str::to_owned),
        })
    }
}

/// How history keeps a migration's downgrade: its commands one per line (each canonical JSON
/// is one line), or the SQL migrations' directive line for a declared downgrade, so that the
/// engine's one rule (`irreversible::refuse_crossing`) reads it for a version the plan forgot.
pub fn stored_downgrade(migration: &Migration) -> String {
    use tradeforge_migrator_spec::migrations::{IRREVERSIBLE, NO_OP};
    match migration.reversal {
        Reversal::Script => migration.downgrade.statements.join("\n"),
        Reversal::NoOp { reason } => format!("{NO_OP} {reason}"),
        Reversal::Irreversible { reason } => format!("{IRREVERSIBLE} {reason}"),
    }
}

fn version_bson(version: u64) -> Bson {
    // The build keeps versions within int64.
    Bson::Int64(i64::try_from(version).unwrap_or(i64::MAX))
}

/// Every version document, ascending; `None` when the history was never started here: then the
/// engine checks the database for collections another tool made.
pub async fn read(database: &Database) -> Result<Option<Vec<Record>>, ReadError> {
    let collection = database.collection::<Document>(COLLECTION);
    let cursor = collection.find(doc! { "_id": { "$ne": LOCK_ID } }).await?;
    let documents: Vec<Document> = cursor.try_collect().await?;
    let started = documents.iter().any(|document| document.get_str("_id") == Ok(STARTED_ID));
    let mut records = documents
        .iter()
        .filter(|document| document.get_str("_id") != Ok(STARTED_ID))
        .map(Record::from_document)
        .collect::<Result<Vec<_>, _>>()?;
    records.sort_by_key(|record| record.version);
    Ok((started || !records.is_empty()).then_some(records))
}

/// Writes the document that says the history was started, unless it is there.
pub async fn start(database: &Database) -> Result<(), mongodb::error::Error> {
    let collection = database.collection::<Document>(COLLECTION);
    let at = mongodb::bson::DateTime::from_millis(Utc::now().timestamp_millis());
    collection.update_one(doc! { "_id": STARTED_ID }, doc! { "$setOnInsert": { "at": at } }).upsert(true).await?;
    Ok(())
}

/// Why the history could not be read: the server's error, or a document this release cannot read.
#[derive(Debug)]
pub enum ReadError {
    Server(mongodb::error::Error),
    Invalid(String),
}

impl From<mongodb::error::Error> for ReadError {
    fn from(error: mongodb::error::Error) -> Self {
        ReadError::Server(error)
    }
}

impl From<String> for ReadError {
    fn from(reason: String) -> Self {
        ReadError::Invalid(reason)
    }
}

/// Writes `record` whole (insert or replace).
pub async fn write(database: &Database, record: &Record) -> Result<(), mongodb::error::Error> {
    let collection = database.collection::<Document>(COLLECTION);
    collection.replace_one(doc! { "_id": version_bson(record.version) }, record.to_document()).upsert(true).await?;
    Ok(())
}

/// Writes every record in one request (baseline).
pub async fn write_all(database: &Database, records: &[Record]) -> Result<(), mongodb::error::Error> {
    if records.is_empty() {
        return Ok(());
    }
    let collection = database.collection::<Document>(COLLECTION);
    collection.insert_many(records.iter().map(Record::to_document)).await?;
    Ok(())
}

/// Deletes the document of `version`: reverted, it reads as never applied.
pub async fn remove(database: &Database, version: u64) -> Result<(), mongodb::error::Error> {
    let collection = database.collection::<Document>(COLLECTION);
    collection.delete_one(doc! { "_id": version_bson(version) }).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Script;

    const SCRIPT: Script = Script { path: "d.yml", sql: "", statements: &["{\"drop\":\"a\"}"], transactional: false };
    const MIGRATION: Migration = Migration {
        version: 3,
        description: "a",
        checksum: "sha256:x",
        upgrade: SCRIPT,
        downgrade: SCRIPT,
        data: None,
        reversal: Reversal::Script,
    };

    #[test]
    fn a_record_reads_back_as_written() {
        let mut record = Record::of(&MIGRATION, State::Partial, 1, 2);
        record.in_flight = true;
        record.error = Some("refused".into());
        record.applied_at = Utc.timestamp_millis_opt(1_700_000_000_123).single().expect("valid");
        assert_eq!(Record::from_document(&record.to_document()), Ok(record.clone()));
        assert_eq!(record.entry().state, EntryState::Partial { done: 1, total: 2 });
    }

    #[test]
    fn a_declared_downgrade_is_stored_as_its_directive() {
        let irreversible = Migration { reversal: Reversal::Irreversible { reason: "data is gone" }, ..MIGRATION };
        let stored = stored_downgrade(&irreversible);
        assert_eq!(tradeforge_migrator_spec::migrations::irreversible_reason(&stored), Some("data is gone"));
        assert_eq!(stored_downgrade(&MIGRATION), "{\"drop\":\"a\"}");
    }
}
