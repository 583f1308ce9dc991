//! `migrate` and `status`: each selected target in the fixed order PostgreSQL → ClickHouse →
//! Kafka → indicators, health-checked first, stopping at the first failure. The health check
//! with backoff (`wait_for`) is shared with the operator commands in `crate::commands`;
//! `migrate` holds the run lock (`crate::commands::lock`) around all of its targets.
//!
//! The orchestration knows no server: it drives the [`Target`] trait, waits for each server with
//! bounded exponential backoff, prints one summary line per target on stdout, logs
//! `*.started` / `*.finished` events, and on failure reports what failed and everything this run
//! had applied before it, since a deploy that stops half-way must say where it stopped.

/// Lives with the targets, which sit below `run` and need it too.
pub use crate::targets::error_chain;
use std::fmt;
use std::io::Write;
use std::time::{Duration, Instant};

use crate::commands::lock;
use crate::config::Config;
use crate::plan::Plan;
use crate::targets::checkpoint::find_stop;
use crate::targets::clickhouse::ClickHouseTarget;
use crate::targets::indicators::IndicatorsTarget;
use crate::targets::kafka::KafkaTarget;
use crate::targets::postgres::{PostgresError, PostgresTarget};
use crate::targets::versioned::elapsed_ms;
use crate::targets::{ApplyOptions, Changes, Checkpoint, Failure, SafePoint, Status, Stop, Target, TargetName};

/// The first pause between two health checks; it doubles up to [`MAX_RETRY_DELAY`].
pub const FIRST_RETRY_DELAY: Duration = Duration::from_millis(100);
/// The longest pause between two health checks.
pub const MAX_RETRY_DELAY: Duration = Duration::from_secs(2);
/// Even with `--wait 0s` a health check gets this long, so one real attempt is made.
const MIN_ATTEMPT_TIME: Duration = Duration::from_secs(1);

/// What `migrate` or `status` was asked to do.
#[derive(Clone, Debug)]
pub struct Request<'a> {
    pub plan: &'a Plan,
    pub config: &'a Config,
    /// In run order, each once.
    pub targets: Vec<TargetName>,
    pub options: ApplyOptions,
}

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

    /// The process exit code for this error (see `cli::exit_code`).
    pub fn exit_code(&self) -> u8 {
        match self {
            RunError::Stopped { code, .. } => *code,
            RunError::Unreachable { .. } | RunError::Refused { .. } => crate::cli::exit_code::UNREACHABLE,
            RunError::Lock(PostgresError::LockTimeout { .. }) => crate::cli::exit_code::LOCKED,
            RunError::Failed { .. } | RunError::StatusFailed { .. } | RunError::Lock(_) => {
                crate::cli::exit_code::FAILED
            }
        }
    }
}

/// Runs the request's targets in order and prints a line per target to `out`, holding the run
/// lock (`crate::commands::lock`) from before the first target until after the last. Returns
/// what was applied, or the first failure together with what had been applied before it.
pub async fn migrate(request: &Request<'_>, out: &mut dyn Write) -> Result<Applied, RunError> {
    let started = Instant::now();
    tracing::info!(
        event = "migrator.started",
        plan_fingerprint = request.plan.fingerprint,
        targets = target_list(&request.targets),
        allow_delete = request.options.allow_delete,
        wait = %humantime::format_duration(request.config.wait),
        "migrating {} with plan {}",
        target_list(&request.targets),
        request.plan.fingerprint
    );
    let postgres_runs =
        request.targets.iter().any(|name| matches!(name, TargetName::Postgres | TargetName::Indicators));
    let guard = lock::acquire(request.config, postgres_runs)
        .await
        .inspect_err(|error| log_stopped(request, TargetName::Postgres, started, error))?;
    let config = guard.working_config(request.config);
    let result = apply_targets(request, &config, &guard.checkpoint(), out).await;
    // Released before the last log line, which says how the run ended.
    guard.release().await;
    let applied =
        result.inspect_err(|(name, error)| log_stopped(request, *name, started, error)).map_err(|(_, error)| error)?;
    print_final_line(out, request.plan, &applied);
    tracing::info!(
        event = "migrator.finished",
        plan_fingerprint = request.plan.fingerprint,
        changes = applied.change_count() as u64,
        duration_ms = elapsed_ms(started),
        "migration finished: {}",
        if applied.change_count() == 0 {
            "nothing to do".to_owned()
        } else {
            format!("{} changes applied", applied.change_count())
        }
    );
    Ok(applied)
}

/// Each target in order, a line each; the first failure, or a `checkpoint` that says stop,
/// stops the run and names its target.
async fn apply_targets(
    request: &Request<'_>,
    config: &Config,
    checkpoint: &Checkpoint,
    out: &mut dyn Write,
) -> Result<Applied, (TargetName, RunError)> {
    let mut applied = Applied::default();
    for (index, &name) in request.targets.iter().enumerate() {
        let unfinished = &request.targets[index..];
        if let Err(stop) = checkpoint.reached(SafePoint::Recorded).await {
            return Err((name, RunError::stopped(&stop, applied, unfinished.to_vec())));
        }
        let job = ApplyJob {
            plan: request.plan,
            options: &request.options,
            wait: request.config.wait,
            applied: &applied,
            checkpoint,
            unfinished,
        };
        let changes = dispatch(&job, name, config).await.map_err(|error| (name, error))?;
        print_target_line(out, request.plan, name, &changes);
        applied.0.push((name, changes));
    }
    Ok(applied)
}

fn log_stopped(request: &Request<'_>, name: TargetName, started: Instant, error: &RunError) {
    tracing::error!(
        event = "migrator.failed",
        plan_fingerprint = request.plan.fingerprint,
        target = name.as_str(),
        duration_ms = elapsed_ms(started),
        "migration stopped: {error}"
    );
}

/// Where one target stands against the plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TargetStatus {
    pub target: TargetName,
    /// The server, as `describe()` gives it (never a password).
    pub address: String,
    /// Where the plan takes the target: `V7`, `12 topics` ([`plan_position`]).
    pub plan: String,
    pub status: Status,
}

/// What `status` and `check` read: every requested target, in run order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusReport {
    pub fingerprint: &'static str,
    pub targets: Vec<TargetStatus>,
}

impl StatusReport {
    pub fn is_at_plan(&self) -> bool {
        self.targets.iter().all(|target| target.status.is_at_plan())
    }

    /// The targets with something pending or wrong.
    pub fn behind(&self) -> Vec<TargetName> {
        self.targets.iter().filter(|target| !target.status.is_at_plan()).map(|target| target.target).collect()
    }
}

/// Reads where each requested target stands, in run order; changes nothing. `status` and
/// `check` print the same report (`crate::commands::status`).
pub async fn status(request: &Request<'_>) -> Result<StatusReport, RunError> {
    tracing::info!(
        event = "migrator.status_started",
        plan_fingerprint = request.plan.fingerprint,
        targets = target_list(&request.targets),
        "reading the status of {} against plan {}",
        target_list(&request.targets),
        request.plan.fingerprint
    );
    let mut report = StatusReport { fingerprint: request.plan.fingerprint, targets: Vec::new() };
    for &name in &request.targets {
        let job = StatusJob { plan: request.plan, wait: request.config.wait };
        let (address, status) = dispatch(&job, name, request.config).await?;
        report.targets.push(TargetStatus { target: name, address, plan: plan_position(request.plan, name), status });
    }
    Ok(report)
}

/// Builds the named target from its config and runs `job` on it.
async fn dispatch<J: TargetJob>(job: &J, name: TargetName, config: &Config) -> Result<J::Output, RunError> {
    match name {
        TargetName::Postgres => job.run(PostgresTarget::new(&config.postgres), config.postgres.describe()).await,
        TargetName::Clickhouse => {
            job.run(ClickHouseTarget::new(&config.clickhouse), config.clickhouse.describe()).await
        }
        TargetName::Kafka => job.run(KafkaTarget::new(&config.kafka), config.kafka.describe()).await,
        TargetName::Indicators => job.run(IndicatorsTarget::new(&config.postgres), config.postgres.describe()).await,
    }
}

/// What `migrate` or `status` does with one target, whichever its type.
trait TargetJob {
    type Output;

    async fn run<T: Target>(&self, target: T, address: String) -> Result<Self::Output, RunError>;
}

/// `migrate`'s work on one target.
struct ApplyJob<'a> {
    plan: &'a Plan,
    options: &'a ApplyOptions,
    wait: Duration,
    /// What earlier targets applied, for the error line.
    applied: &'a Applied,
    checkpoint: &'a Checkpoint,
    /// This target and the ones after it, for the error line of a stop.
    unfinished: &'a [TargetName],
}

impl TargetJob for ApplyJob<'_> {
    type Output = Changes;

    /// Health check with backoff, then apply; logs `<prefix>.started` and `<prefix>.finished`
    /// (or `<prefix>.failed`).
    async fn run<T: Target>(&self, mut target: T, address: String) -> Result<Changes, RunError> {
        let name = target.name();
        let started = Instant::now();
        log_started(name, &address);
        target.set_checkpoint(self.checkpoint.clone());
        // The health check changes nothing, so a signal need not wait for its backoff.
        tokio::select! {
            waited = wait_for(&mut target, &address, self.wait, started, self.applied) => waited?,
            signal = self.checkpoint.signalled() => {
                let stop = Stop::Signal(signal);
                return Err(RunError::stopped(&stop, self.applied.clone(), self.unfinished.to_vec()));
            }
        }
        match target.apply(self.plan, self.options).await {
            Ok(changes) => {
                tracing::info!(
                    event = format!("{}.finished", name.event_prefix()),
                    target = name.as_str(),
                    changes = changes.0.len() as u64,
                    duration_ms = elapsed_ms(started),
                    "{name}: {}",
                    if changes.is_empty() {
                        "up to date".to_owned()
                    } else {
                        format!("{} changes applied", changes.0.len())
                    }
                );
                Ok(changes)
            }
            Err(Failure { error, done }) => {
                let stop_code = find_stop(&error).map(Stop::exit_code);
                let error = error_chain(&error);
                log_failure(name, started, &error, done.0.len());
                let mut applied = self.applied.clone();
                applied.0.push((name, done));
                Err(match stop_code {
                    Some(code) => RunError::Stopped { error, code, applied, unfinished: self.unfinished.to_vec() },
                    None => RunError::Failed { target: name, error, applied },
                })
            }
        }
    }
}

/// `status`'s work on one target.
struct StatusJob<'a> {
    plan: &'a Plan,
    wait: Duration,
}

impl TargetJob for StatusJob<'_> {
    /// The address and the status.
    type Output = (String, Status);

    async fn run<T: Target>(&self, mut target: T, address: String) -> Result<(String, Status), RunError> {
        let name = target.name();
        let started = Instant::now();
        log_started(name, &address);
        wait_for(&mut target, &address, self.wait, started, &Applied::default()).await?;
        let status = target.status(self.plan).await.map_err(|error| {
            let error = error_chain(&error);
            log_failure(name, started, &error, 0);
            RunError::StatusFailed { target: name, error }
        })?;
        tracing::info!(
            event = format!("{}.finished", name.event_prefix()),
            target = name.as_str(),
            pending = status.pending.len() as u64,
            problems = status.problems.len() as u64,
            duration_ms = elapsed_ms(started),
            "{name}: {} pending, {} problems",
            status.pending.len(),
            status.problems.len()
        );
        Ok((address, status))
    }
}

pub(crate) fn log_started(name: TargetName, address: &str) {
    tracing::info!(
        event = format!("{}.started", name.event_prefix()),
        target = name.as_str(),
        address,
        "{name}: starting against {address}"
    );
}

/// [`wait_until_healthy`], turned into the run's error when the server never answered.
pub(crate) async fn wait_for<T: Target>(
    target: &mut T,
    address: &str,
    wait: Duration,
    started: Instant,
    applied: &Applied,
) -> Result<(), RunError> {
    let name = target.name();
    wait_until_healthy(target, address, wait).await.map_err(|unreachable| {
        log_failure(name, started, &unreachable.last_error, 0);
        if unreachable.permanent {
            return RunError::Refused { target: name, error: unreachable.last_error, applied: applied.clone() };
        }
        RunError::Unreachable {
            target: name,
            address: address.to_owned(),
            waited: crate::targets::human_duration(wait),
            attempts: unreachable.attempts,
            last_error: unreachable.last_error,
            applied: applied.clone(),
        }
    })
}

pub(crate) fn log_failure(name: TargetName, started: Instant, error: &str, done: usize) {
    tracing::error!(
        event = format!("{}.failed", name.event_prefix()),
        target = name.as_str(),
        error = error,
        changes = done as u64,
        duration_ms = elapsed_ms(started),
        "{name} failed: {error}"
    );
}

/// A health check that never passed within `--wait`, or failed for good at once.
#[derive(Debug)]
struct Unreachable {
    attempts: u32,
    last_error: String,
    /// `Target::is_permanent`: stopped without waiting.
    permanent: bool,
}

/// Calls `health_check` until it passes, pausing 100 ms, 200 ms, 400 ms… (at most 2 s) between
/// attempts, for at most `wait`; a server still starting (a fresh container) is waited for.
async fn wait_until_healthy<T: Target>(target: &mut T, address: &str, wait: Duration) -> Result<(), Unreachable> {
    let name = target.name();
    let deadline = Instant::now() + wait;
    let mut delay = FIRST_RETRY_DELAY;
    let mut attempts = 0;
    // The server's own words from an earlier attempt: a last attempt cut short by the deadline
    // must not hide them behind a bare "no answer".
    let mut last_cause: Option<String> = None;
    loop {
        attempts += 1;
        let attempt_time = deadline.saturating_duration_since(Instant::now()).max(MIN_ATTEMPT_TIME);
        let last_error = match tokio::time::timeout(attempt_time, target.health_check()).await {
            Ok(Ok(())) => return Ok(()),
            Ok(Err(error)) if T::is_permanent(&error) => {
                return Err(Unreachable { attempts, last_error: error_chain(&error), permanent: true })
            }
            Ok(Err(error)) => {
                let cause = error_chain(&error);
                last_cause = Some(cause.clone());
                cause
            }
            Err(_) => {
                let silent = format!("no answer within {}", crate::targets::human_duration(attempt_time));
                match &last_cause {
                    Some(cause) => format!("{silent} (the attempt before: {cause})"),
                    None => silent,
                }
            }
        };
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err(Unreachable { attempts, last_error, permanent: false });
        }
        log_retry(name, address, attempts, &last_error);
        tokio::time::sleep(delay.min(remaining)).await;
        delay = (delay * 2).min(MAX_RETRY_DELAY);
    }
}

/// The first failure is worth an info line (the server may simply be starting); the rest are
/// debug, so a minute of waiting is not a screen of retries.
fn log_retry(name: TargetName, address: &str, attempts: u32, error: &str) {
    let event = format!("{}.waiting", name.event_prefix());
    if attempts == 1 {
        tracing::info!(
            event,
            target = name.as_str(),
            address,
            attempt = attempts,
            error,
            "{name}: waiting for {address}"
        );
    } else {
        tracing::debug!(
            event,
            target = name.as_str(),
            address,
            attempt = attempts,
            error,
            "{name}: still waiting for {address}"
        );
    }
}

/// `postgres: applied 2 changes` plus the changes, or `postgres: up to date (V7)`.
fn print_target_line(out: &mut dyn Write, plan: &Plan, name: TargetName, changes: &Changes) {
    // Stdout going away (a closed pipe) must not stop a migration half-way, so write errors are
    // ignored; the logs say the same.
    if changes.is_empty() {
        let _ = writeln!(out, "{name}: up to date ({})", plan_position(plan, name));
        return;
    }
    let _ = writeln!(out, "{name}: applied {} changes", changes.0.len());
    for change in &changes.0 {
        let _ = writeln!(out, "  {change}");
    }
}

fn print_final_line(out: &mut dyn Write, plan: &Plan, applied: &Applied) {
    let targets: Vec<TargetName> = applied.0.iter().map(|(name, _)| *name).collect();
    let _ = match applied.change_count() {
        0 => writeln!(out, "migrate: nothing to do; {} at the plan {}", target_list(&targets), plan.fingerprint),
        count => writeln!(
            out,
            "migrate: applied {count} changes; {} at the plan {}",
            target_list(&targets),
            plan.fingerprint
        ),
    };
}

/// Where the plan takes a target: `V7` for a database, `12 topics`, `40 indicators`.
pub fn plan_position(plan: &Plan, name: TargetName) -> String {
    let last_version = |migrations: &[crate::plan::Migration]| {
        migrations.last().map_or_else(|| "no migrations".to_owned(), |migration| format!("V{}", migration.version))
    };
    match name {
        TargetName::Postgres => last_version(plan.postgres),
        TargetName::Clickhouse => last_version(plan.clickhouse),
        TargetName::Kafka => format!("{} topics", plan.topics.iter().filter(|topic| !topic.deleted).count()),
        TargetName::Indicators => format!("{} indicators", plan.indicators.len()),
    }
}

pub(crate) fn target_list(targets: &[TargetName]) -> String {
    targets.iter().map(|target| target.as_str()).collect::<Vec<_>>().join(", ")
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

    #[test]
    fn error_chain_adds_causes_once_on_one_line() {
        #[derive(Debug, thiserror::Error)]
        #[error("cannot connect to `postgres://app@db:5432/x`")]
        struct Outer(#[source] std::io::Error);
        let error = Outer(std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "connection\nrefused"));
        assert_eq!(error_chain(&error), "cannot connect to `postgres://app@db:5432/x`: connection refused");
    }
}
