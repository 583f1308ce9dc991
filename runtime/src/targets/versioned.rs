//! The versioned-migration engine: every decision of a versioned target (PostgreSQL and
//! ClickHouse today; MongoDB and ClickHouse clusters next) written once, as pure functions of the
//! plan (`&[Migration]`) and a backend's history (`&[HistoryEntry]`), with one error type and one
//! wording, and one runner that drives any backend through its primitives.
//!
//! - [`drift`]: what in the history does not match the plan (ahead, missing, edited, gaps, a
//!   schema without history) and what `migrate`/`up` refuse for it; `status`'s common lines.
//! - [`schedule`]: what `up` applies (and from which statement it resumes), what `down` undoes
//!   (with the plan's or the stored downgrade; never across an irreversible migration, see
//!   [`irreversible`]), version lookup, `baseline`.
//! - [`refusal`]: [`VersionedError`], every refusal's one wording.
//! - [`runner`]: the [`runner::Backend`] primitives and the one run loop of `up`, `down`,
//!   `baseline` and the dry run.
//! - [`effect`]: settling a statement whose outcome was never recorded from the server's catalog.

pub mod drift;
pub mod effect;
pub mod irreversible;
pub mod refusal;
pub mod runner;
pub mod schedule;

pub use self::drift::{
    applied_head, gap_problems, gap_repair_line, gaps, refuse_gaps, refuse_schema_without_history, unrecorded_gaps,
};
pub use self::irreversible::IrreversibleError;
pub use self::refusal::{Gap, Unsettled, VersionedError};
pub use self::schedule::{Direction, Step};

use std::time::Instant;

/// Milliseconds since `started`, saturating: execution times as history records them.
pub fn elapsed_ms(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// A statement count as history records it (`UInt32`/`INTEGER`), saturating.
pub fn saturating_u32(value: usize) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

/// `tfm_verify_<pid>_<nanoseconds>`: the scratch database `verify-downgrades` creates, unique per
/// run on one server, a valid bare identifier on every backend.
pub fn scratch_name() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_nanos());
    format!("tfm_verify_{}_{:x}", std::process::id(), nanos)
}

#[cfg(test)]
pub(crate) mod tests;
