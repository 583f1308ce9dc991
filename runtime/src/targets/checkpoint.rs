//! The one answer to "may I run the next step?". A command that changes servers holds a
//! [`Checkpoint`] (from `commands::lock`) and hands it to its targets, which ask it at every safe
//! point: before each migration, and before each statement that can stop without leaving
//! anything unrecorded. It says no in two cases:
//!
//! - **the run lock was lost**: the PostgreSQL session holding the advisory lock ended (a server
//!   restart or failover, `pg_terminate_backend`), so another migrator may already be running;
//!   going on would run statements twice. Asking costs one round trip on the lock session
//!   (`RunLock::verify`), which is what makes the answer true at that moment rather than when a
//!   watcher last looked.
//! - **the process was asked to stop** (SIGINT, SIGTERM): the statement in flight is let finish
//!   (or its transaction rolls back), and the run stops at the next safe point whose progress is
//!   recorded. A second signal stops the process at once (the session ends, which releases the
//!   lock; history stays honest as after a crash).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{watch, Mutex};

use super::{clickhouse, postgres};

/// The run lock a command holds: PostgreSQL's advisory lock, or, when no PostgreSQL is in use
/// and ClickHouse runs, ClickHouse's (`targets::clickhouse::RunLock`).
#[derive(Debug)]
pub enum RunLock {
    /// Boxed, both: a PostgreSQL connection and ClickHouse's clients are large.
    Postgres(Box<postgres::RunLock>),
    ClickHouse(Box<clickhouse::RunLock>),
}

impl RunLock {
    /// One round trip proving the lock is still held; the reason on loss.
    async fn verify(&mut self) -> Result<(), String> {
        match self {
            RunLock::Postgres(lock) => lock.verify().await,
            RunLock::ClickHouse(lock) => lock.verify().await,
        }
    }

    fn server(&self) -> &str {
        match self {
            RunLock::Postgres(lock) => lock.server(),
            RunLock::ClickHouse(lock) => lock.server(),
        }
    }
}

/// How long the lock session may take to answer before the lock counts as lost: a server that
/// vanished (failover, cut network) never answers, and a migrator must not wait on it forever
/// while unguarded.
const VERIFY_TIMEOUT: Duration = Duration::from_secs(10);

/// Where a target stands when it asks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SafePoint {
    /// Everything done so far is recorded in history: before a migration, between ClickHouse
    /// statements (each recorded as it succeeds). A signal stops the run here.
    Recorded,
    /// Inside a step whose progress is not recorded (between the statements of a PostgreSQL
    /// `-- migrator:no-transaction` script): only a lost lock stops the run here; a signal waits
    /// for the script's end, so no half-done migration is left without its row.
    Unrecorded,
}

/// A signal that asks the migrator to stop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signal {
    Interrupt,
    Terminate,
}

impl Signal {
    /// `128 + signal number`, as shells report a process a signal ended.
    pub fn exit_code(self) -> u8 {
        match self {
            Signal::Interrupt => crate::exit_code::INTERRUPTED,
            Signal::Terminate => crate::exit_code::TERMINATED,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Signal::Interrupt => "SIGINT",
            Signal::Terminate => "SIGTERM",
        }
    }
}

/// Why a target stopped at a safe point. Each target's error has a variant holding it, so
/// `find_stop` can tell a stop from a failure.
#[derive(Clone, Debug, thiserror::Error)]
pub enum Stop {
    #[error(
        "run lock lost: the session holding the run lock on `{server}` ended ({reason}), so another migrator may \
         be running now; this run stopped before its next step"
    )]
    LockLost { server: String, reason: String },
    #[error("stopped by {} at a safe point", .0.name())]
    Signal(Signal),
}

impl Stop {
    /// The process exit code (see `cli::exit_code`).
    pub fn exit_code(&self) -> u8 {
        match self {
            Stop::LockLost { .. } => crate::exit_code::LOCK_LOST,
            Stop::Signal(signal) => signal.exit_code(),
        }
    }
}

/// The [`Stop`] in `error` or its causes, if it is one.
pub fn find_stop<'a>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a Stop> {
    let mut current = Some(error);
    while let Some(error) = current {
        if let Some(stop) = error.downcast_ref::<Stop>() {
            return Some(stop);
        }
        current = error.source();
    }
    None
}

/// What targets ask at each safe point; cheap to clone. [`Checkpoint::default`] never says no
/// (commands that change nothing, and tests of a target alone).
#[derive(Clone, Debug, Default)]
pub struct Checkpoint {
    lock: Option<Arc<HeldLock>>,
    signals: Option<Signals>,
}

impl Checkpoint {
    pub(crate) fn new(lock: Option<RunLock>, signals: Signals) -> Checkpoint {
        let lock = lock.map(|lock| Arc::new(HeldLock { lock: Mutex::new(LockState::Held(lock)) }));
        Checkpoint { lock, signals: Some(signals) }
    }

    /// `Ok` when the next step may run: the run lock (if any) is still held, and, at a
    /// [`SafePoint::Recorded`], no signal asked to stop.
    pub async fn reached(&self, point: SafePoint) -> Result<(), Stop> {
        if let Some(lock) = &self.lock {
            lock.verify().await?;
        }
        match (point, self.signals.as_ref().and_then(Signals::received)) {
            (SafePoint::Recorded, Some(signal)) => Err(Stop::Signal(signal)),
            _ => Ok(()),
        }
    }

    /// Waits for the first signal (forever when none is listened to): a wait that runs nothing,
    /// such as a health check's backoff, races this so a signal need not wait for it.
    pub async fn signalled(&self) -> Signal {
        match &self.signals {
            Some(signals) => signals.wait().await,
            None => std::future::pending().await,
        }
    }

    /// Takes the lock out for release; `None` when there was none or it was lost (already
    /// reported when it was noticed).
    pub(crate) async fn take_lock(&self) -> Option<RunLock> {
        let lock = self.lock.as_ref()?;
        let mut state = lock.lock.lock().await;
        match std::mem::replace(&mut *state, LockState::Released) {
            LockState::Held(lock) => Some(lock),
            other => {
                *state = other;
                None
            }
        }
    }
}

#[derive(Debug)]
struct HeldLock {
    lock: Mutex<LockState>,
}

#[derive(Debug)]
enum LockState {
    Held(RunLock),
    /// Noticed lost: every later ask gets the same answer.
    Lost(Stop),
    /// Released at the end of the command.
    Released,
}

impl HeldLock {
    async fn verify(&self) -> Result<(), Stop> {
        let mut state = self.lock.lock().await;
        let lock = match &mut *state {
            LockState::Held(lock) => lock,
            LockState::Lost(stop) => return Err(stop.clone()),
            LockState::Released => return Ok(()),
        };
        let server = lock.server().to_owned();
        let reason = match tokio::time::timeout(VERIFY_TIMEOUT, lock.verify()).await {
            Ok(Ok(())) => return Ok(()),
            Ok(Err(reason)) => reason,
            Err(_) => format!("no answer within {}", humantime::format_duration(VERIFY_TIMEOUT)),
        };
        let stop = Stop::LockLost { server, reason };
        tracing::error!(event = "postgresql_migrator.lock_lost", target = "postgres", "{stop}");
        // Dropping the connection closes what is left of the session.
        *state = LockState::Lost(stop.clone());
        Err(stop)
    }
}

/// Whether this process stops at safe points on SIGINT/SIGTERM (see [`handle_signals`]).
static HANDLE_SIGNALS: AtomicBool = AtomicBool::new(false);

/// Makes commands that change servers handle SIGINT and SIGTERM themselves (see the module
/// doc). The `migrator` binary calls it first thing; a program that uses this library (the
/// tests included) keeps its own signal handling unless it opts in, since a handler, once
/// installed, cannot give the signals their default action back.
pub fn handle_signals() {
    HANDLE_SIGNALS.store(true, Ordering::Relaxed);
}

/// SIGINT and SIGTERM, listened to while a command changes servers (see the module doc).
#[derive(Clone, Debug)]
pub struct Signals {
    received: watch::Receiver<Option<Signal>>,
}

impl Signals {
    /// Starts listening; from now on the two signals no longer end the process by themselves,
    /// except a second one. Must run inside the tokio runtime. Listens to nothing unless
    /// [`handle_signals`] was called, or when the handlers cannot be installed; the signals
    /// then keep their default action.
    pub fn listen() -> Signals {
        let (sender, received) = watch::channel(None);
        if !HANDLE_SIGNALS.load(Ordering::Relaxed) {
            return Signals { received };
        }
        let interrupt = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt());
        let terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate());
        let (Ok(mut interrupt), Ok(mut terminate)) = (interrupt, terminate) else {
            return Signals { received };
        };
        tokio::spawn(async move {
            let mut first = true;
            loop {
                let signal = tokio::select! {
                    Some(()) = interrupt.recv() => Signal::Interrupt,
                    Some(()) = terminate.recv() => Signal::Terminate,
                    else => return,
                };
                if !first {
                    tracing::warn!(
                        event = "migrator.stopped_at_once",
                        signal = signal.name(),
                        "received {} again: stopping now; the statement in flight may or may not have run \
                         (its transaction, if any, rolls back); check `migrator status` before running again",
                        signal.name()
                    );
                    std::process::exit(i32::from(signal.exit_code()));
                }
                first = false;
                tracing::warn!(
                    event = "migrator.stopping",
                    signal = signal.name(),
                    "received {}: stopping after the statement in flight, at the next safe point; send it again \
                     to stop at once",
                    signal.name()
                );
                let _ = sender.send(Some(signal));
            }
        });
        Signals { received }
    }

    /// The first signal received, if any.
    pub fn received(&self) -> Option<Signal> {
        *self.received.borrow()
    }

    /// Waits for the first signal; never returns when the listener is gone.
    pub async fn wait(&self) -> Signal {
        let mut received = self.received.clone();
        let signal = received.wait_for(Option::is_some).await.map(|signal| *signal);
        match signal {
            Ok(Some(signal)) => signal,
            _ => std::future::pending().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    enum TargetError {
        #[error("{0}")]
        Stopped(#[from] Stop),
    }

    #[test]
    fn a_stop_is_found_behind_a_target_error() {
        let error = TargetError::from(Stop::Signal(Signal::Terminate));
        let stop = find_stop(&error).expect("a stop");
        assert_eq!(stop.exit_code(), 143);
        assert!(find_stop(&std::io::Error::other("x")).is_none());
    }

    #[tokio::test]
    async fn a_default_checkpoint_always_lets_the_next_step_run() {
        assert!(Checkpoint::default().reached(SafePoint::Recorded).await.is_ok());
    }
}
