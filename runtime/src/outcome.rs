//! What a run applied ([`Applied`]) and why it stopped ([`RunError`]): the outcome shared by
//! `migrate`, `status`, the run lock and the operator commands, each of which must say where a
//! run stopped.

use std::fmt;

use crate::exit_code;
use crate::targets::postgres::PostgresError;
use crate::targets::{Changes, Stop, TargetName};

/// What one run applied, per target in run order; targets that were at the plan have empty
/// [`Changes`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Applied(pub Vec<(TargetName, Changes)>);

impl Applied {
    pub fn change_count(&self) -> usize {
        self.0.iter().map(|(_, changes)| changes.0.len()).sum()
    }
}

/// `already applied: postgres V1 create_users … V7 create_notifications (7 changes)`, or
/// `nothing was applied`: the part of an error line that says where the run stopped.
impl fmt::Display for Applied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .0
            .iter()
            .filter(|(_, changes)| !changes.is_empty())
            .map(|(target, changes)| format!("{target} {}", summarize(changes)))
            .collect();
        if parts.is_empty() {
            f.write_str("nothing was applied")
        } else {
            write!(f, "already applied: {}", parts.join(", "))
        }
    }
}

/// The first and last change, timings dropped, with the count when there are more than two.
fn summarize(changes: &Changes) -> String {
    let lines: Vec<&str> = changes.0.iter().map(|line| without_timing(line)).collect();
    match lines.as_slice() {
        [] => String::new(),
        [only] => (*only).to_owned(),
        [first, second] => format!("{first}, {second}"),
        [first, .., last] => format!("{first} … {last} ({} changes)", lines.len()),
    }
}

/// `V3 add_orders (12 ms)` → `V3 add_orders`.
fn without_timing(line: &str) -> &str {
    match line.rsplit_once(" (") {
        Some((head, tail)) if tail.ends_with("ms)") => head,
        _ => line,
    }
}

/// Why `migrate` or `status` stopped. The message is one line; passwords never appear in it.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("{target} at `{address}` did not pass its health check within {waited} ({}; raise `--wait` if it is still starting): {last_error}; {applied}", count_attempts(.attempts))]
    Unreachable {
        target: TargetName,
        address: String,
        waited: humantime::FormattedDuration,
        attempts: u32,
        last_error: String,
        applied: Applied,
    },
    /// The health check failed in a way waiting cannot fix (`Target::is_permanent`): not retried.
    #[error("{target}: {error} (not retried: waiting would not change it); {applied}")]
    Refused { target: TargetName, error: String, applied: Applied },
    #[error("{target} failed: {error}; {applied}")]
    Failed { target: TargetName, error: String, applied: Applied },
    #[error("cannot read the status of {target}: {error}")]
    StatusFailed { target: TargetName, error: String },
    /// The run lock could not be taken (held by another migrator past `--lock-timeout`, or its
    /// connection is unusable); nothing ran.
    #[error("{0}; nothing was changed")]
    Lock(#[source] PostgresError),
    /// ClickHouse's run lock could not be taken (`targets::clickhouse::RunLock`); nothing ran.
    #[error("{0}; nothing was changed")]
    ClickHouseLock(#[source] Box<crate::targets::clickhouse::ClickHouseError>),
    /// `migrate --backup` could not write its backup; the run stopped before any change.
    #[error("the backup before migrating failed: {0}; nothing was changed (fix it, or run without --backup)")]
    Backup(#[source] crate::backup::BackupError),
    /// The run lock was lost or a signal asked to stop; the run stopped at a safe point.
    #[error("{error}; {applied}{}", not_applied(.unfinished))]
    Stopped {
        /// The stop, with what the target left part-way when it stopped inside a migration.
        error: String,
        /// `Stop::exit_code`.
        code: u8,
        applied: Applied,
        /// The targets with work left, the stopped one first.
        unfinished: Vec<TargetName>,
    },
}

/// `; not applied yet: postgres (the rest), clickhouse; run migrate again to continue`.
fn not_applied(unfinished: &[TargetName]) -> String {
    match unfinished {
        [] => String::new(),
        [first, rest @ ..] => {
            let mut names = vec![format!("{first} (the rest)")];
            names.extend(rest.iter().map(|name| name.to_string()));
            format!("; not applied yet: {}; run migrate again to continue", names.join(", "))
        }
    }
}

fn count_attempts(attempts: &u32) -> String {
    if *attempts == 1 {
        "1 attempt".to_owned()
    } else {
        format!("{attempts} attempts")
    }
}

impl RunError {
    /// A stop at a safe point (`targets::checkpoint`).
    pub fn stopped(stop: &Stop, applied: Applied, unfinished: Vec<TargetName>) -> RunError {
        RunError::Stopped { error: stop.to_string(), code: stop.exit_code(), applied, unfinished }
    }

    /// The process exit code for this error (see `crate::exit_code`).
    pub fn exit_code(&self) -> u8 {
        match self {
            RunError::Stopped { code, .. } => *code,
            RunError::Unreachable { .. } | RunError::Refused { .. } => exit_code::UNREACHABLE,
            RunError::Lock(PostgresError::LockTimeout { .. }) => exit_code::LOCKED,
            RunError::ClickHouseLock(error)
                if matches!(**error, crate::targets::clickhouse::ClickHouseError::LockTimeout { .. }) =>
            {
                exit_code::LOCKED
            }
            RunError::Failed { .. }
            | RunError::StatusFailed { .. }
            | RunError::Lock(_)
            | RunError::ClickHouseLock(_)
            | RunError::Backup(_) => exit_code::FAILED,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn changes(lines: &[&str]) -> Changes {
        Changes(lines.iter().map(|line| (*line).to_owned()).collect())
    }

    #[test]
    fn applied_summary_names_each_target_with_its_first_and_last_change() {
        let applied = Applied(vec![
            (
                TargetName::Postgres,
                changes(&["V1 create_users (3 ms)", "V2 add_orders (1 ms)", "V7 create_notifications (2 ms)"]),
            ),
            (TargetName::Clickhouse, Changes::default()),
            (TargetName::Kafka, changes(&["created topic market.ticks"])),
        ]);
        assert_eq!(
            applied.to_string(),
            "already applied: postgres V1 create_users … V7 create_notifications (3 changes), kafka created topic market.ticks"
        );
    }

    #[test]
    fn nothing_applied_says_so() {
        let applied = Applied(vec![(TargetName::Postgres, Changes::default())]);
        assert_eq!(applied.to_string(), "nothing was applied");
    }
}
