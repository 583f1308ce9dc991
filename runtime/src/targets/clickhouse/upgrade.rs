//! Runs one migration's upgrade from where it stands, recording an intent row before every
//! statement (see "A failure half-way, and the resume" in the parent module).

use std::time::Instant;

use chrono::Utc;

use super::catalog;
use super::connection::{describe_error, error_code, Connection, DDL_TIMEOUT};
use super::drift::Step;
use super::history::{self, HistoryRow, MigrationState};
use super::script::first_line;
use super::{stopped_part_way, ClickHouseError, Direction};
use crate::plan::Migration;
use crate::targets::versioned::effect::{self, Settled};
use crate::targets::versioned::{elapsed_ms, saturating_u32, Unsettled, VersionedError};
use crate::targets::{Checkpoint, SafePoint, Stop, TargetName};

/// Where a migration stands while it runs: the next history row is built from this.
struct Progress {
    migration: &'static Migration,
    statements_done: usize,
    execution_ms: u64,
    /// Of the last row written for the version.
    sequence: u64,
    /// The newest row already is the intent record of statement `statements_done + 1`: an
    /// interrupted run's, settled as not run, so it need not be written again.
    intent_recorded: bool,
}

impl Progress {
    fn new(step: &Step<'_>) -> Self {
        let (statements_done, execution_ms) =
            step.partial.map_or((0, 0), |row| (row.statements_done as usize, row.execution_ms));
        Progress {
            migration: step.migration,
            statements_done,
            execution_ms,
            sequence: step.last_sequence,
            intent_recorded: false,
        }
    }

    /// The next row of this version, a step past the last one written.
    fn next_row(&mut self, state: MigrationState, error: String) -> HistoryRow {
        self.sequence += 1;
        let migration = self.migration;
        HistoryRow {
            version: migration.version,
            description: migration.description.to_owned(),
            checksum: migration.checksum.to_owned(),
            state,
            statements_done: saturating_u32(self.statements_done),
            statements_total: saturating_u32(migration.upgrade.statements.len()),
            applied_at: Utc::now(),
            execution_ms: self.execution_ms,
            downgrade_sql: migration.downgrade.sql.to_owned(),
            error,
            sequence: self.sequence,
        }
    }
}

/// Runs the statements of one migration from where it stands, recording each; returns the
/// change line. Durations count the statements only, not the history writes, as
/// `execution_ms` does.
///
/// Rows per migration of `n` statements: one intent row before each statement and the
/// `applied` row, `n + 1` inserts, as many as the progress rows they replace.
pub(super) async fn apply_migration(
    connection: &Connection,
    step: Step<'_>,
    checkpoint: &Checkpoint,
) -> Result<String, ClickHouseError> {
    // The engine's runner asked `checkpoint` before anything of this migration is written or
    // settled.
    let migration = step.migration;
    let total = migration.upgrade.statements.len();
    let mut progress = Progress::new(&step);
    let resumed = step.partial.is_some();
    if let Some(row) = step.partial.filter(|row| row.state == MigrationState::Running) {
        settle(connection, row, &mut progress).await?;
    }
    let first = progress.statements_done;
    log_started(migration, first, resumed);
    let mut run_ms = 0;
    for (index, statement) in migration.upgrade.statements.iter().enumerate().skip(first) {
        // The one place where each statement starts: checks that must pass before a statement
        // runs go here, before its intent is recorded.
        if index > first {
            if let Err(stop) = checkpoint.reached(SafePoint::Recorded).await {
                // A signal leaves the lock held: record that the statements before this one
                // ran and this one did not. After a lost lock another migrator may own the
                // history, so nothing is written; the last intent row stays for the next run to
                // settle from the catalog.
                if matches!(stop, Stop::Signal(_)) {
                    record_failure(connection, &mut progress, &stop.to_string()).await;
                }
                return Err(stopped_part_way(stop, Direction::Upgrade, migration.version, index, total));
            }
        }
        record_intent(connection, &mut progress).await?;
        let statement_started = Instant::now();
        if let Err(error) = connection.execute(statement).await {
            let reason = describe_error(&error);
            if error_code(&error) == Some(DDL_TIMEOUT) && connection.cluster().is_some() {
                // Queued, not failed. With --allow-lagging-replicas, and the statement seen to
                // have run on some replica, the run goes on (the others run it from the queue);
                // otherwise the intent row stays (`running`), with why, for the next run to
                // settle from every replica's catalog.
                match queued(connection, &mut progress, index, statement, reason).await {
                    Queued::GoOn => {}
                    Queued::Stop(error) => return Err(error),
                }
            } else {
                // ClickHouse refused it: it did not run. Without an answer (a cut connection, a
                // timeout) it may have run, and the intent row stays for the next run to settle.
                if error_code(&error).is_some() {
                    record_failure(connection, &mut progress, &reason).await;
                }
                return Err(statement_error(connection, migration, index, reason, resumed && index == first));
            }
        }
        let statement_ms = elapsed_ms(statement_started);
        run_ms += statement_ms;
        progress.statements_done += 1;
        progress.execution_ms += statement_ms;
        tracing::debug!(
            event = "clickhouse_migrator.statement_applied",
            target = "clickhouse",
            version = migration.version,
            statement = index + 1,
            duration_ms = statement_ms,
            "applied statement {}/{total} of V{}",
            index + 1,
            migration.version
        );
    }
    let row = progress.next_row(MigrationState::Applied, String::new());
    history::write(connection, &row).await.map_err(|error| ClickHouseError::RecordApplied {
        server: connection.server().to_owned(),
        path: migration.upgrade.path,
        version: migration.version,
        reason: describe_error(&error),
    })?;
    log_applied(migration, run_ms);
    Ok(change_line(migration, resumed.then_some(first), run_ms))
}

/// Settles statement `done + 1` of an intent row left without an outcome: from the catalog where
/// its effect can be read there, otherwise the run stops and asks for `repair`.
async fn settle(connection: &Connection, row: &HistoryRow, progress: &mut Progress) -> Result<(), ClickHouseError> {
    let migration = progress.migration;
    let index = row.statements_done as usize;
    let Some(statement) = migration.upgrade.statements.get(index) else {
        // Every statement had run; only the `applied` row is missing.
        return Ok(());
    };
    let outcome = match effect::effect_of(statement, effect::Server::ClickHouse) {
        Ok(Some(effect)) => match connection.cluster_config() {
            // On a cluster the statement ran `ON CLUSTER`: every replica's catalog must agree.
            Some(cluster) => match catalog::seen_on_cluster(connection, &cluster.name, &effect.object).await? {
                catalog::SeenOnCluster::Everywhere(seen) => effect::settle(&effect, seen),
                catalog::SeenOnCluster::Lagging { present, absent } => {
                    // It ran on some replicas, so it was issued and sits in the others' queue: it is
                    // never run again.
                    let creates = effect::settle(&effect, effect::Seen::Present) == Ok(Settled::Ran);
                    let lagging = if creates { absent } else { present };
                    if !cluster.allow_lagging_replicas {
                        return Err(ClickHouseError::Lagging {
                            cluster: cluster.name.clone(),
                            path: migration.upgrade.path,
                            version: migration.version,
                            number: index + 1,
                            total: migration.upgrade.statements.len(),
                            first_line: first_line(statement).to_owned(),
                            lagging: lagging.join(", "),
                        });
                    }
                    tracing::warn!(
                        event = "clickhouse_migrator.statement_lagging",
                        target = "clickhouse",
                        version = migration.version,
                        statement = index + 1,
                        "V{} statement {}/{} has not run yet on {} (queued); --allow-lagging-replicas: going on",
                        migration.version,
                        index + 1,
                        migration.upgrade.statements.len(),
                        lagging.join(", ")
                    );
                    Ok(Settled::Ran)
                }
            },
            None => {
                let seen = catalog::seen(connection, &effect.object).await?;
                effect::settle(&effect, seen)
            }
        },
        // A statement that changes nothing (`SELECT`) simply runs again.
        Ok(None) => Ok(Settled::NotRun),
        Err(unreadable) => Err(unreadable),
    };
    let settled = outcome.map_err(|why| {
        VersionedError::Unsettled(Box::new(Unsettled {
            server: connection.server().to_owned(),
            target: TargetName::Clickhouse,
            path: migration.upgrade.path,
            version: migration.version,
            description: migration.description,
            number: index + 1,
            total: migration.upgrade.statements.len(),
            first_line: first_line(statement).to_owned(),
            why: why.to_string(),
        }))
    })?;
    tracing::info!(
        event = "clickhouse_migrator.statement_settled",
        target = "clickhouse",
        version = migration.version,
        statement = index + 1,
        ran = settled == Settled::Ran,
        "V{} statement {}/{}: interrupted before its outcome was recorded; the catalog shows it {}",
        migration.version,
        index + 1,
        migration.upgrade.statements.len(),
        if settled == Settled::Ran { "ran" } else { "did not run" }
    );
    match settled {
        Settled::Ran => progress.statements_done = index + 1,
        Settled::NotRun => progress.intent_recorded = true,
    }
    Ok(())
}

/// The intent row of the next statement: the statements before it ran, it is about to.
async fn record_intent(connection: &Connection, progress: &mut Progress) -> Result<(), ClickHouseError> {
    if std::mem::take(&mut progress.intent_recorded) {
        return Ok(());
    }
    let row = progress.next_row(MigrationState::Running, String::new());
    history::write(connection, &row).await.map_err(|error| ClickHouseError::RecordIntent {
        server: connection.server().to_owned(),
        path: progress.migration.upgrade.path,
        version: row.version,
        number: progress.statements_done + 1,
        total: progress.migration.upgrade.statements.len(),
        reason: describe_error(&error),
    })
}

fn log_started(migration: &Migration, first: usize, resumed: bool) {
    let total = migration.upgrade.statements.len();
    let action = if resumed { format!("resuming at statement {}/{total}", first + 1) } else { "applying".to_owned() };
    tracing::info!(
        event = "clickhouse_migrator.migration_started",
        target = "clickhouse",
        version = migration.version,
        description = migration.description,
        statement = first + 1,
        "V{} {}: {action}",
        migration.version,
        migration.description
    );
}

fn log_applied(migration: &Migration, execution_ms: u64) {
    tracing::info!(
        event = "clickhouse_migrator.migration_applied",
        target = "clickhouse",
        version = migration.version,
        description = migration.description,
        duration_ms = execution_ms,
        "applied V{} {} in {execution_ms} ms",
        migration.version,
        migration.description
    );
}

/// The error of a statement the cluster queued but some hosts have not run yet (Code 159), after
/// recording that in a new `running` row: which hosts lag, read from their catalogs where the
/// statement's effect can be read there.
async fn queued(
    connection: &Connection,
    progress: &mut Progress,
    index: usize,
    statement: &str,
    reason: String,
) -> Queued {
    let migration = progress.migration;
    let cluster = connection.cluster().unwrap_or_default().to_owned();
    let allowed = connection.cluster_config().is_some_and(|cluster| cluster.allow_lagging_replicas);
    let lagging = match effect::effect_of(statement, effect::Server::ClickHouse) {
        Ok(Some(effect)) => match catalog::seen_on_cluster(connection, &cluster, &effect.object).await {
            Ok(catalog::SeenOnCluster::Lagging { present, absent }) => {
                let creates = effect::settle(&effect, effect::Seen::Present) == Ok(Settled::Ran);
                let behind = if creates { absent } else { present }.join(", ");
                if allowed {
                    tracing::warn!(
                        event = "clickhouse_migrator.statement_lagging",
                        target = "clickhouse",
                        version = migration.version,
                        statement = index + 1,
                        "V{} statement {}/{} ran on the answering replicas and waits in the queue of {behind} \
                         (--allow-lagging-replicas): going on",
                        migration.version,
                        index + 1,
                        migration.upgrade.statements.len()
                    );
                    return Queued::GoOn;
                }
                format!("it has not run yet on {behind}")
            }
            Ok(catalog::SeenOnCluster::Everywhere(_)) => {
                "every answering host's catalog agrees by now; the next migrate settles it".to_owned()
            }
            Err(error) => format!("the lagging hosts could not be read ({error})"),
        },
        _ => "which hosts lag cannot be read from the catalog for this statement".to_owned(),
    };
    let error = format!("queued on the cluster, not finished everywhere: {lagging}; {reason}");
    let row = progress.next_row(MigrationState::Running, error);
    if let Err(write) = history::write(connection, &row).await {
        tracing::warn!(
            event = "clickhouse_migrator.history_not_written",
            target = "clickhouse",
            version = migration.version,
            error = %describe_error(&write),
            "could not record that V{} statement {} is queued; its intent row stays",
            migration.version,
            index + 1
        );
    }
    Queued::Stop(ClickHouseError::Queued(Box::new(super::QueuedError {
        server: connection.server().to_owned(),
        cluster,
        path: migration.upgrade.path,
        version: migration.version,
        number: index + 1,
        total: migration.upgrade.statements.len(),
        first_line: first_line(statement).to_owned(),
        lagging,
        reason,
    })))
}

/// What a statement queued on the cluster (Code 159) means for the run.
enum Queued {
    /// It ran on the answering replicas and lagging ones were allowed: the next statement runs.
    GoOn,
    Stop(ClickHouseError),
}

/// Keeps ClickHouse's error in the history as a `partial` row: the statement did not run. If this
/// write fails, the intent row before it stays, and the next run settles the statement from the
/// catalog (or asks for `repair`) instead of trusting it failed.
async fn record_failure(connection: &Connection, progress: &mut Progress, reason: &str) {
    let migration = progress.migration;
    let number = progress.statements_done + 1;
    tracing::error!(
        event = "clickhouse_migrator.migration_partial",
        target = "clickhouse",
        version = migration.version,
        statement = number,
        error = reason,
        "V{} {} stopped at statement {number}/{}: {reason}",
        migration.version,
        migration.description,
        migration.upgrade.statements.len()
    );
    let row = progress.next_row(MigrationState::Partial, reason.to_owned());
    if let Err(error) = history::write(connection, &row).await {
        tracing::warn!(
            event = "clickhouse_migrator.history_not_written",
            target = "clickhouse",
            version = migration.version,
            statement = number,
            error = %describe_error(&error),
            "could not record the error of V{} in `migration_history`",
            migration.version
        );
    }
}

fn statement_error(
    connection: &Connection,
    migration: &'static Migration,
    index: usize,
    reason: String,
    again: bool,
) -> ClickHouseError {
    ClickHouseError::Statement { server: connection.server().to_owned(), migration, number: index + 1, again, reason }
}

/// `V2 indicators_and_signals (2 statements, 35 ms)`, or `(resumed at statement 3/5, 35 ms)`.
fn change_line(migration: &Migration, resumed_at: Option<usize>, execution_ms: u64) -> String {
    let total = migration.upgrade.statements.len();
    let what = match resumed_at {
        Some(first) => format!("resumed at statement {}/{total}", first + 1),
        None if total == 1 => "1 statement".to_owned(),
        None => format!("{total} statements"),
    };
    format!("V{} {} ({what}, {execution_ms} ms)", migration.version, migration.description)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ClickHouseConfig;
    use crate::plan::Script;

    use crate::targets::clickhouse::fixtures::{TWO_TABLES_SQL as SQL, TWO_TABLES_STATEMENTS};
    const SCRIPT: Script = Script {
        path: "migrations/clickhouse/upgrade/V2-copies.sql",
        sql: SQL,
        statements: &TWO_TABLES_STATEMENTS,
        transactional: true,
    };
    static MIGRATION: Migration = Migration {
        version: 2,
        description: "copies",
        checksum: "sha256:2",
        upgrade: SCRIPT,
        downgrade: Script { path: "migrations/clickhouse/downgrade/V2-copies.sql", ..SCRIPT },
        data: None,
        reversal: crate::plan::Reversal::Script,
    };

    #[test]
    fn change_line_says_statements_or_where_it_resumed() {
        assert_eq!(change_line(&MIGRATION, None, 35), "V2 copies (2 statements, 35 ms)");
        assert_eq!(change_line(&MIGRATION, Some(1), 7), "V2 copies (resumed at statement 2/2, 7 ms)");
    }

    #[test]
    fn statement_error_names_the_statement_what_stays_applied_and_the_resume_point() {
        let config = ClickHouseConfig {
            url: "http://ch:8123".to_owned(),
            user: "default".to_owned(),
            password: crate::config::Secret::new("hunter2"),
            database: "analytics".to_owned(),
            bounds: crate::config::Bounds::default(),
            cluster: None,
        };
        let connection = Connection::new(&config);
        let reason = "Code: 60, DB::Exception: Table analytics.a doesn't exist.".to_owned();
        let message = statement_error(&connection, &MIGRATION, 1, reason, false).to_string();
        assert!(
            message.starts_with(
                "migrations/clickhouse/upgrade/V2-copies.sql:6: V2 copies stopped at statement 2/2 \
                 (`CREATE TABLE b ENGINE = Memory`) on `http://default@ch:8123/analytics`: Code: 60"
            ),
            "{message}"
        );
        assert!(message.contains("statement 1 of V2 stays applied"), "{message}");
        assert!(message.contains("resumes at statement 2/2 without re-running"), "{message}");
        assert!(!message.contains("hunter2"), "{message}");
    }
}
