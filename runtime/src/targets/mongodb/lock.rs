//! The MongoDB migration lock: one document `{_id: "lock", owner, expires_at}` in the history
//! collection, so that concurrent migrators apply each command once even where no PostgreSQL
//! run lock guards them.
//!
//! Taken with an upsert whose filter matches only an expired lock: when another migrator holds
//! a live one, the filter matches nothing and the upsert's insert collides with the unique
//! `_id` (E11000), which is the answer "held". The holder renews `expires_at` every
//! [`RENEW_EVERY`] from a background task while it runs (also during a long index build); if it
//! dies, the lock expires after [`TIME_TO_LIVE`] and the next migrator takes it over. Before
//! each command the holder checks that its last renewal is recent enough: a lock it can no
//! longer prove it holds stops the run (`Stop::LockLost`). Expiry is read from the clocks of the
//! migrators' machines, which must agree to well within [`TIME_TO_LIVE`].

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mongodb::bson::{doc, Document};
use mongodb::error::{ErrorKind, WriteFailure};
use mongodb::Database;

use super::history::{COLLECTION, LOCK_ID};
use crate::targets::Stop;

/// How long a lock lives without renewal.
pub const TIME_TO_LIVE: Duration = Duration::from_secs(60);

/// How often the holder renews it.
pub const RENEW_EVERY: Duration = Duration::from_secs(10);

/// A holder that has not renewed for this long no longer trusts its lock: another migrator may
/// take it over once it expires, shortly after.
const TRUSTED_FOR: Duration = Duration::from_secs(45);

/// How often a waiting migrator tries again.
const RETRY_EVERY: Duration = Duration::from_millis(500);

/// A lock this process holds; [`Held::release`] gives it back.
pub struct Held {
    database: Database,
    owner: String,
    state: Arc<Mutex<Renewal>>,
    renewer: tokio::task::JoinHandle<()>,
    server: String,
}

struct Renewal {
    renewed: Instant,
    lost: Option<String>,
}

/// Who holds the lock now, for the message of a migrator that gave up waiting.
#[derive(Debug)]
pub struct Holder {
    pub owner: String,
    pub expires_at: String,
}

/// `host:pid:nanos`: unique per run, and says where the holder runs.
fn owner() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_nanos());
    let host = std::env::var("HOSTNAME").ok().filter(|host| !host.is_empty()).unwrap_or_else(|| "localhost".into());
    format!("{host}:{}:{nanos:x}", std::process::id())
}

fn expiry(from: chrono::DateTime<chrono::Utc>) -> mongodb::bson::DateTime {
    let ttl = i64::try_from(TIME_TO_LIVE.as_millis()).unwrap_or(i64::MAX);
    mongodb::bson::DateTime::from_millis(from.timestamp_millis().saturating_add(ttl))
}

/// One attempt: `Ok(true)` when this process now holds the lock.
async fn try_take(database: &Database, owner: &str) -> Result<bool, mongodb::error::Error> {
    let now = chrono::Utc::now();
    let filter =
        doc! { "_id": LOCK_ID, "expires_at": { "$lt": mongodb::bson::DateTime::from_millis(now.timestamp_millis()) } };
    let update = doc! { "$set": {
        "owner": owner,
        "taken_at": mongodb::bson::DateTime::from_millis(now.timestamp_millis()),
        "expires_at": expiry(now),
    } };
    match database.collection::<Document>(COLLECTION).update_one(filter, update).upsert(true).await {
        Ok(_) => Ok(true),
        Err(error) if is_duplicate_key(&error) => Ok(false),
        Err(error) => Err(error),
    }
}

fn is_duplicate_key(error: &mongodb::error::Error) -> bool {
    match error.kind.as_ref() {
        ErrorKind::Write(WriteFailure::WriteError(write)) => write.code == 11000,
        ErrorKind::Command(command) => command.code == 11000,
        _ => false,
    }
}

/// The current holder, if any.
pub async fn holder(database: &Database) -> Result<Option<Holder>, mongodb::error::Error> {
    let document = database.collection::<Document>(COLLECTION).find_one(doc! { "_id": LOCK_ID }).await?;
    Ok(document.map(|document| Holder {
        owner: document.get_str("owner").unwrap_or("unknown").to_owned(),
        expires_at: document
            .get_datetime("expires_at")
            .ok()
            .and_then(|at| at.try_to_rfc3339_string().ok())
            .unwrap_or_else(|| "unknown".to_owned()),
    }))
}

/// Why the lock was not taken.
#[derive(Debug)]
pub enum AcquireError {
    Server(mongodb::error::Error),
    /// Held by another migrator for all of `timeout`.
    Held(Holder),
}

/// Takes the lock, waiting up to `timeout` for a holder to release it or for it to expire.
pub async fn acquire(database: &Database, server: &str, timeout: Duration) -> Result<Held, AcquireError> {
    let owner = owner();
    let deadline = Instant::now() + timeout;
    let mut logged = false;
    loop {
        if try_take(database, &owner).await.map_err(AcquireError::Server)? {
            break;
        }
        let current = holder(database).await.map_err(AcquireError::Server)?;
        if Instant::now() >= deadline {
            let holder = current.unwrap_or(Holder { owner: "unknown".into(), expires_at: "unknown".into() });
            return Err(AcquireError::Held(holder));
        }
        if !logged {
            logged = true;
            tracing::info!(
                event = "mongodb_migrator.lock_waiting",
                target = "mongodb",
                holder = current.as_ref().map(|holder| holder.owner.as_str()),
                "waiting for the MongoDB migration lock on `{server}`"
            );
        }
        tokio::time::sleep(RETRY_EVERY.min(deadline.saturating_duration_since(Instant::now()))).await;
    }
    let state = Arc::new(Mutex::new(Renewal { renewed: Instant::now(), lost: None }));
    let renewer = tokio::spawn(renew(database.clone(), owner.clone(), Arc::clone(&state)));
    tracing::debug!(event = "mongodb_migrator.lock_taken", target = "mongodb", owner = owner.as_str());
    Ok(Held { database: database.clone(), owner, state, renewer, server: server.to_owned() })
}

/// Pushes `expires_at` forward every [`RENEW_EVERY`]; stops when the lock is no longer this
/// process's (it expired and another migrator took it).
async fn renew(database: Database, owner: String, state: Arc<Mutex<Renewal>>) {
    loop {
        tokio::time::sleep(RENEW_EVERY).await;
        let update = doc! { "$set": { "expires_at": expiry(chrono::Utc::now()) } };
        let renewed = tokio::time::timeout(
            RENEW_EVERY,
            database.collection::<Document>(COLLECTION).update_one(doc! { "_id": LOCK_ID, "owner": &owner }, update),
        )
        .await;
        let mut state = state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match renewed {
            Ok(Ok(result)) if result.matched_count == 1 => state.renewed = Instant::now(),
            Ok(Ok(_)) => {
                state.lost = Some("another migrator took it over after it expired".to_owned());
                return;
            }
            // Tried again at the next tick; `verify` fails once the last renewal is too old.
            Ok(Err(_)) | Err(_) => {}
        }
    }
}

impl Held {
    /// `Ok` while the lock is still this process's by its own renewals.
    pub fn verify(&self) -> Result<(), Stop> {
        let state = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let reason = match &state.lost {
            Some(reason) => reason.clone(),
            None if state.renewed.elapsed() > TRUSTED_FOR => {
                format!("it could not be renewed for {}s", state.renewed.elapsed().as_secs())
            }
            None => return Ok(()),
        };
        Err(Stop::LockLost { server: self.server.clone(), reason: format!("the MongoDB migration lock: {reason}") })
    }

    /// Stops renewing and deletes the lock document if it is still this process's. A failed
    /// delete only leaves the lock to expire.
    pub async fn release(self) {
        self.renewer.abort();
        let deleted = self
            .database
            .collection::<Document>(COLLECTION)
            .delete_one(doc! { "_id": LOCK_ID, "owner": &self.owner })
            .await;
        if let Err(error) = deleted {
            tracing::warn!(
                event = "mongodb_migrator.lock_release_failed",
                target = "mongodb",
                "the MongoDB migration lock on `{}` was not deleted ({error}); it expires within {}s",
                self.server,
                TIME_TO_LIVE.as_secs()
            );
        }
    }
}
