//! `migrate` and `status`: each selected target in the fixed order PostgreSQL → ClickHouse →
//! MongoDB → Kafka → indicators, health-checked first, stopping at the first failure. The health check
//! with backoff (`crate::health`) and the outcome (`crate::outcome`) are shared with the run
//! lock and the operator commands in `crate::commands`; `migrate` holds the run lock
//! (`crate::lock`) around all of its targets.
//!
//! The orchestration knows no server: it drives the [`Target`] trait, waits for each server with
//! bounded exponential backoff, prints one summary line per target on stdout, logs
//! `*.started` / `*.finished` events, and on failure reports what failed and everything this run
//! had applied before it, since a deploy that stops half-way must say where it stopped.

/// Lives with the targets, which sit below `run` and need it too.
pub use crate::targets::error_chain;
use std::io::Write;
use std::time::{Duration, Instant};

pub(crate) use crate::health::{log_failure, log_started, wait_for};
pub use crate::outcome::{Applied, RunError};

use crate::config::Config;
use crate::lock;
use crate::plan::Plan;
use crate::targets::checkpoint::find_stop;
use crate::targets::clickhouse::ClickHouseTarget;
use crate::targets::indicators::IndicatorsTarget;
use crate::targets::kafka::KafkaTarget;
use crate::targets::mongodb::MongoTarget;
use crate::targets::postgres::PostgresTarget;
use crate::targets::versioned::elapsed_ms;
use crate::targets::{ApplyOptions, Changes, Checkpoint, Failure, SafePoint, Status, Stop, Target, TargetName};

/// What `migrate` or `status` was asked to do.
#[derive(Clone, Debug)]
pub struct Request<'a> {
    pub plan: &'a Plan,
    pub config: &'a Config,
    /// In run order, each once.
    pub targets: Vec<TargetName>,
    pub options: ApplyOptions,
}

/// Runs the request's targets in order and prints a line per target to `out`, holding the run
/// lock (`crate::lock`) from before the first target until after the last. Returns
/// what was applied, or the first failure together with what had been applied before it.
pub async fn migrate(request: &Request<'_>, out: &mut dyn Write) -> Result<Applied, RunError> {
    migrate_with_backup(request, None, out).await
}

/// [`migrate`], with `migrate --backup`: under the lock and before the first change, a backup of
/// what is pending (`crate::backup::before_migrate`); its failure stops the run unchanged.
pub async fn migrate_with_backup(
    request: &Request<'_>,
    backup: Option<&crate::backup::Settings>,
    out: &mut dyn Write,
) -> Result<Applied, RunError> {
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
    let guard = lock::acquire(request.config, &request.targets)
        .await
        .inspect_err(|error| log_stopped(request, TargetName::Postgres, started, error))?;
    let config = guard.working_config(request.config);
    if let Some(settings) = backup {
        if let Err(error) = crate::backup::before_migrate(request, &config, settings, out).await {
            guard.release().await;
            let error = RunError::Backup(error);
            log_stopped(request, TargetName::Postgres, started, &error);
            return Err(error);
        }
    }
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
        TargetName::Mongodb => job.run(MongoTarget::new(&config.mongodb), config.mongodb.describe()).await,
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
        TargetName::Mongodb => last_version(plan.mongodb),
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

    #[test]
    fn error_chain_adds_causes_once_on_one_line() {
        #[derive(Debug, thiserror::Error)]
        #[error("cannot connect to `postgres://app@db:5432/x`")]
        struct Outer(#[source] std::io::Error);
        let error = Outer(std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "connection\nrefused"));
        assert_eq!(error_chain(&error), "cannot connect to `postgres://app@db:5432/x`: connection refused");
    }
}
