//! The one runner of `up`, `down`, `baseline` and the dry run, for every versioned backend: it
//! reads the history, lets the engine decide (`schedule`), has the backend check every step
//! before the first runs, then asks the checkpoint before each step and runs it. A backend
//! supplies only the primitives of [`Backend`]; it never decides what to run.

use super::drift;
use super::refusal::VersionedError;
use super::schedule::{self, Direction, Step};
use crate::plan::Migration;
use crate::targets::{
    Changes, Checkpoint, Failure, HistoryEntry, PlannedStatement, SafePoint, Stop, Target, VersionTarget,
};

/// What a server must do for the engine. Reads and checks change nothing; the writes are
/// [`Backend::prepare_history`], [`Backend::run_step`] and [`Backend::record_applied`].
///
/// `run_step` owns a step's transaction boundary and its history records: a transactional
/// server commits the statements with the history change; a server without transactions
/// (ClickHouse, MongoDB) records its intent before each statement and its progress after, and
/// settles an interrupted statement from its catalog on resume. How the records are written
/// (one per statement, or batched) is the backend's business: the engine sees only the entries
/// [`Backend::read_history`] returns.
#[allow(async_fn_in_trait)] // Used through generics only.
pub trait Backend: Target<Error: From<VersionedError> + From<Stop>> {
    /// The plan's migrations for this server.
    fn migrations(plan: &crate::plan::Plan) -> &'static [Migration];

    /// The checkpoint `Target::set_checkpoint` gave it.
    fn checkpoint(&self) -> &Checkpoint;

    /// The server as messages name it, without a password.
    fn server(&self) -> String;

    /// Every entry of the history, ascending by version (an interrupted step as `Partial` or
    /// `Reverting`); `None` when the history table does not exist. Creates nothing.
    async fn read_history(&mut self) -> Result<Option<Vec<HistoryEntry>>, Self::Error>;

    /// The tables the database holds besides the history; asked only when there is no history.
    async fn objects_without_history(&mut self) -> Result<Vec<String>, Self::Error>;

    /// Refuses a plan the server cannot record (PostgreSQL: a version beyond BIGINT).
    fn check_plan(&self, _plan: &'static [Migration]) -> Result<(), Self::Error> {
        Ok(())
    }

    /// Refuses a step the backend cannot run as decided (a stored downgrade that cannot be split,
    /// a downgrade whose statement count changed since it stopped part-way). Called for every
    /// step before the first runs.
    fn check_step(&self, _step: &Step<'_>) -> Result<(), Self::Error> {
        Ok(())
    }

    /// Makes the history ready for `steps` steps in `direction` (creates it when missing,
    /// upgrades an older table's definition); called once, after every check passed.
    async fn prepare_history(&mut self, direction: Direction, steps: usize) -> Result<(), Self::Error>;

    /// Runs one step with its transaction boundary and history records, asking `checkpoint` at
    /// each safe point inside it (the runner asked before it started); returns the change line.
    async fn run_step(&mut self, step: &Step<'_>, checkpoint: &Checkpoint) -> Result<String, Self::Error>;

    /// Records `migrations` as applied without running them, all or none (baseline).
    async fn record_applied(&mut self, migrations: &[&'static Migration]) -> Result<(), Self::Error>;

    /// The statements `run_step` would send for `step`, in order (for `migrate --dry-run`).
    fn planned_sql(&self, step: &Step<'_>) -> Vec<String>;
}

/// The history, after refusing to start one over tables another tool made.
async fn history_for_upgrade<B: Backend>(
    backend: &mut B,
    plan: &'static [Migration],
) -> Result<(Vec<HistoryEntry>, bool), B::Error> {
    match backend.read_history().await? {
        Some(history) => Ok((history, false)),
        None => {
            if !plan.is_empty() {
                let objects = backend.objects_without_history().await?;
                drift::refuse_schema_without_history(plan, objects, &backend.server(), backend.name())?;
            }
            Ok((Vec::new(), true))
        }
    }
}

/// `up --to to` (`migrate` for `None`).
pub async fn upgrade<B: Backend>(
    backend: &mut B,
    plan: &'static [Migration],
    to: Option<u64>,
    checkpoint: &Checkpoint,
) -> Result<Changes, Failure<B::Error>> {
    backend.check_plan(plan)?;
    if let Some(to) = to {
        schedule::find_version(plan, to, backend.name()).map_err(B::Error::from)?;
    }
    let (history, _) = history_for_upgrade(backend, plan).await?;
    let steps =
        schedule::upgrade_steps(plan, &history, to, &backend.server(), backend.name()).map_err(B::Error::from)?;
    let done = run(backend, Direction::Upgrade, &steps, checkpoint).await?;
    if done.is_empty() {
        let target = backend.name();
        let position = to.map_or_else(|| "up to date".to_owned(), |to| format!("already at or past V{to}"));
        tracing::info!(
            event = format!("{}.up_to_date", target.event_prefix()),
            target = target.as_str(),
            version = history
                .iter()
                .rev()
                .find(|entry| entry.state == crate::targets::EntryState::Applied)
                .map(|entry| entry.version),
            "{target} is {position}"
        );
    }
    Ok(done)
}

/// `down --to to`.
pub async fn downgrade<B: Backend>(
    backend: &mut B,
    plan: &'static [Migration],
    to: VersionTarget,
    checkpoint: &Checkpoint,
) -> Result<Changes, Failure<B::Error>> {
    let history = backend.read_history().await?.unwrap_or_default();
    let steps =
        schedule::downgrade_steps(plan, &history, to, &backend.server(), backend.name()).map_err(B::Error::from)?;
    run(backend, Direction::Downgrade, &steps, checkpoint).await
}

/// Checks every step, prepares the history, then runs the steps in order, asking `checkpoint`
/// before each; stops at the first failure, reporting what was done before it.
async fn run<B: Backend>(
    backend: &mut B,
    direction: Direction,
    steps: &[Step<'_>],
    checkpoint: &Checkpoint,
) -> Result<Changes, Failure<B::Error>> {
    for step in steps {
        backend.check_step(step)?;
    }
    backend.prepare_history(direction, steps.len()).await?;
    let mut done = Changes::default();
    for step in steps {
        let outcome = match checkpoint.reached(SafePoint::Recorded).await {
            Ok(()) => backend.run_step(step, checkpoint).await,
            Err(stop) => Err(B::Error::from(stop)),
        };
        match outcome {
            Ok(change) => done.push(change),
            Err(error) => return Err(Failure::new(error, done)),
        }
    }
    Ok(done)
}

/// `baseline version`: records the plan's migrations up to `version` as applied, running none.
pub async fn baseline<B: Backend>(
    backend: &mut B,
    plan: &'static [Migration],
    version: u64,
) -> Result<Changes, B::Error> {
    backend.check_plan(plan)?;
    schedule::find_version(plan, version, backend.name())?;
    let history = backend.read_history().await?.unwrap_or_default();
    let adopted = schedule::baseline_migrations(plan, &history, version, &backend.server(), backend.name())?;
    backend.prepare_history(Direction::Upgrade, adopted.len()).await?;
    backend.record_applied(&adopted).await?;
    let target = backend.name();
    tracing::info!(
        event = format!("{}.baselined", target.event_prefix()),
        target = target.as_str(),
        version,
        migrations = adopted.len(),
        "recorded V{} to V{version} as applied without running them",
        adopted.first().map_or(version, |migration| migration.version)
    );
    Ok(Changes(
        adopted
            .iter()
            .map(|migration| {
                format!("V{} {} recorded as applied (baseline, not run)", migration.version, migration.description)
            })
            .collect(),
    ))
}

/// What `upgrade(plan, to)` would send now, statement by statement, after the same refusals;
/// writes nothing.
pub async fn planned<B: Backend>(
    backend: &mut B,
    plan: &'static [Migration],
    to: Option<u64>,
) -> Result<Vec<PlannedStatement>, B::Error> {
    if let Some(to) = to {
        schedule::find_version(plan, to, backend.name())?;
    }
    let (history, _) = history_for_upgrade(backend, plan).await?;
    let steps = schedule::upgrade_steps(plan, &history, to, &backend.server(), backend.name())?;
    let mut statements = Vec::new();
    for step in &steps {
        if let Step::Upgrade { migration, .. } = step {
            statements.extend(backend.planned_sql(step).into_iter().map(|sql| PlannedStatement {
                version: migration.version,
                description: migration.description,
                path: migration.upgrade.path,
                sql,
            }));
        }
    }
    Ok(statements)
}
