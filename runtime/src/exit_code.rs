//! The process exit codes, for `--help` and for deploy scripts.

/// Every selected target is at the plan, or `MIGRATE` switched migrations off.
pub const SUCCESS: u8 = 0;
/// A target failed part-way (the error line says what was applied before it), or a
/// confirmation prompt was answered with anything but `y`.
pub const FAILED: u8 = 1;
/// A bad flag, variable, env file, version or description, or `down`/`redo`/`repair`
/// outside a terminal without `--yes`; nothing was contacted or changed.
pub const USAGE: u8 = 2;
/// A server did not pass its health check within `--wait`, or refused it in a way waiting
/// cannot fix (`Target::is_permanent`); nothing of it was changed.
pub const UNREACHABLE: u8 = 3;
/// `status` and `check`: a target has pending changes or problems.
pub const NOT_AT_PLAN: u8 = 4;
/// Another migrator held the run lock for all of `--lock-timeout`; nothing was changed.
pub const LOCKED: u8 = 5;
/// The run lock was lost mid-run (its PostgreSQL session ended: a restart, a failover,
/// `pg_terminate_backend`); the run stopped before its next step, and the error line says
/// what was applied.
pub const LOCK_LOST: u8 = 6;
/// SIGINT: the run stopped at the next safe point (a second signal stops it at once).
pub const INTERRUPTED: u8 = 130;
/// SIGTERM (`docker stop`, Kubernetes): the run stopped at the next safe point.
pub const TERMINATED: u8 = 143;
