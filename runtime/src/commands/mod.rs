//! The operator commands besides `migrate` and `status` (which live in `crate::run`): what
//! people coming from Alembic and `migrate.py` reach for (`history`, `up`, `down`, `redo`,
//! `new`, `baseline`, `repair`, `check`, `plan --sql`, `migrate --dry-run`), `verify-downgrades`
//! (proves on a scratch database that each downgrade undoes its upgrade), and the run lock
//! that guards every command that changes a server (`crate::lock`; `run::migrate` takes it too).
//!
//! Each command drives the targets through the `Target` and `VersionedTarget` traits after the
//! same health check as `migrate` (`health::wait_for`), writes its report to the writer it is given
//! (stdout in the binary), and fails with a [`CommandError`] whose one line says what failed and
//! what had been done before it.

pub mod backup;
pub mod confirm;
pub mod dry_run;
pub mod history;
pub mod import;
pub mod new;
pub mod plan_sql;
pub mod sources;
pub mod status;
pub mod verify;
pub mod versions;

/// The run lock lives below `run` (`crate::lock`), which `migrate` takes too; named here for the
/// commands that take it.
pub use crate::lock;

use std::fmt;

use crate::exit_code;
use crate::outcome::RunError;
use crate::targets::{Changes, TargetName};

/// Why a command stopped. One line; passwords never appear in it.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// A health check that never passed, or a status that could not be read.
    #[error(transparent)]
    Run(#[from] RunError),
    #[error("{target}: cannot {action}: {error}")]
    Read { target: TargetName, action: &'static str, error: String },
    #[error("{target}: {action} failed: {error}; {done}")]
    Failed { target: TargetName, action: &'static str, error: String, done: Done },
    /// The run lock was lost or a signal asked to stop (`targets::checkpoint`).
    #[error("{target}: {action}: {error}; {done}; run it again to continue")]
    Stopped { target: TargetName, action: &'static str, error: String, code: u8, done: Done },
    #[error("{target}: cannot redo V{version} {description}: this binary's plan does not have it, so it could not be applied again; undo it with `migrator down --target {target}`")]
    RedoUnknown { target: TargetName, version: u64, description: String },
    #[error(transparent)]
    Confirm(#[from] confirm::ConfirmError),
    #[error(transparent)]
    New(#[from] new::NewError),
    #[error(transparent)]
    Verify(#[from] verify::VerifyError),
    #[error(transparent)]
    Import(#[from] import::ImportError),
    #[error(transparent)]
    Sources(#[from] sources::SourcesError),
    /// `backup`, `backups`, `restore`.
    #[error(transparent)]
    Backup(#[from] crate::backup::BackupError),
}

impl CommandError {
    /// The process exit code for this error (see `crate::exit_code`).
    pub fn exit_code(&self) -> u8 {
        match self {
            CommandError::Run(error) => error.exit_code(),
            CommandError::Stopped { code, .. } => *code,
            CommandError::Confirm(confirm::ConfirmError::NotATerminal { .. }) => exit_code::USAGE,
            CommandError::New(error) if error.is_usage() => exit_code::USAGE,
            CommandError::Backup(error) if error.is_usage() => exit_code::USAGE,
            _ => exit_code::FAILED,
        }
    }

    /// A target's failure part-way, or its stop at a safe point, keeping what it did before it.
    pub fn failed<E: std::error::Error + 'static>(
        target: TargetName,
        action: &'static str,
        failure: crate::targets::Failure<E>,
    ) -> CommandError {
        let error = crate::run::error_chain(&failure.error);
        let done = Done(failure.done);
        match crate::targets::checkpoint::find_stop(&failure.error) {
            Some(stop) => CommandError::Stopped { target, action, error, code: stop.exit_code(), done },
            None => CommandError::Failed { target, action, error, done },
        }
    }

    /// A target's error while reading or before changing anything.
    pub fn read<E: std::error::Error>(target: TargetName, action: &'static str, error: &E) -> CommandError {
        CommandError::Read { target, action, error: crate::run::error_chain(error) }
    }
}

/// What a command had done before it failed: `nothing was changed`, or `done before the failure:
/// V7 x (3 ms), V6 y (2 ms)`.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Done(pub Changes);

impl fmt::Display for Done {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            f.write_str("nothing was changed")
        } else {
            write!(f, "done before the failure: {}", self.0 .0.join(", "))
        }
    }
}

/// Runs `$body` with `$target` bound to the `VersionedTarget` of `$name` (a `plan::SqlTarget`)
/// built from `$config`, and `$address` to its server's description; the two arms differ only
/// in the target's type.
macro_rules! with_sql_target {
    ($name:expr, $config:expr, |$target:ident, $address:ident| $body:expr) => {
        match $name {
            $crate::plan::SqlTarget::Postgres => {
                let $target = $crate::targets::postgres::PostgresTarget::new(&$config.postgres);
                let $address = $config.postgres.describe();
                $body
            }
            $crate::plan::SqlTarget::ClickHouse => {
                let $target = $crate::targets::clickhouse::ClickHouseTarget::new(&$config.clickhouse);
                let $address = $config.clickhouse.describe();
                $body
            }
            $crate::plan::SqlTarget::MongoDb => {
                let $target = $crate::targets::mongodb::MongoTarget::new(&$config.mongodb);
                let $address = $config.mongodb.describe();
                $body
            }
        }
    };
}
pub(crate) use with_sql_target;

/// The target a SQL target is.
pub(crate) fn target_name(target: crate::plan::SqlTarget) -> TargetName {
    match target {
        crate::plan::SqlTarget::Postgres => TargetName::Postgres,
        crate::plan::SqlTarget::ClickHouse => TargetName::Clickhouse,
        crate::plan::SqlTarget::MongoDb => TargetName::Mongodb,
    }
}

/// [`with_sql_target`] for a command that changes the database: the run lock is held from before
/// the target is reached until after the body, and released whatever the body's outcome; the
/// target asks the lock's checkpoint before each step.
macro_rules! with_locked_sql_target {
    ($session:expr, $name:expr, |$target:ident, $address:ident| $body:expr) => {{
        let guard = $crate::lock::acquire($session.config, &[$crate::commands::target_name($name)]).await?;
        let result = $crate::commands::with_guarded_sql_target!(&guard, $session, $name, |$target, $address| $body);
        guard.release().await;
        result
    }};
}
pub(crate) use with_locked_sql_target;

/// [`with_sql_target`] under a [`lock::Guard`] already held: the target's PostgreSQL sessions
/// are named after the lock's, and it asks the guard's checkpoint before each step.
macro_rules! with_guarded_sql_target {
    ($guard:expr, $session:expr, $name:expr, |$target:ident, $address:ident| $body:expr) => {{
        let config = $guard.working_config($session.config);
        $crate::commands::with_sql_target!($name, config, |target, $address| {
            let mut $target = target;
            $crate::targets::Target::set_checkpoint(&mut $target, $guard.checkpoint());
            $body
        })
    }};
}
pub(crate) use with_guarded_sql_target;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn done_says_nothing_changed_or_lists_the_changes() {
        assert_eq!(Done::default().to_string(), "nothing was changed");
        let done = Done(Changes(vec!["V7 x undone (3 ms)".into(), "V6 y undone (1 ms)".into()]));
        assert_eq!(done.to_string(), "done before the failure: V7 x undone (3 ms), V6 y undone (1 ms)");
    }
}
