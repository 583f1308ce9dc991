//! `down`: which recorded versions to revert to reach a target version, with which statements
//! and from which one, and running them with a history row after every statement (see "Going
//! down" in the parent module).

use std::time::Instant;

use chrono::Utc;
use tradeforge_migrator_spec::model::Dialect;
use tradeforge_migrator_spec::sql;

use super::connection::{describe_error, Connection};
use super::history::{self, HistoryRow, MigrationState};
use super::script::{first_line, statement_line, statement_location};
use super::{stopped_part_way, ClickHouseError, Direction, DowngradeStatementError};
use crate::plan::{Migration, Script};
use crate::targets::versioned::{elapsed_ms, saturating_u32};
use crate::targets::{Checkpoint, SafePoint};

/// The statements that undo one version.
#[derive(Debug)]
pub(super) enum Downgrade {
    /// The plan's downgrade script: the plan knows the version.
    Planned(&'static Script),
    /// The downgrade SQL recorded when the version was applied, split here with the splitter the
    /// build uses: the plan does not know the version (a newer release applied it, or its file
    /// was deleted).
    Stored { sql: String, statements: Vec<String> },
}

impl Downgrade {
    /// The plan's downgrade of `row`'s version (`planned`), else the one stored in `row`.
    pub fn of(
        row: &HistoryRow,
        planned: Option<&'static Migration>,
        server: &str,
    ) -> Result<Downgrade, ClickHouseError> {
        if let Some(migration) = planned {
            return Ok(Downgrade::Planned(&migration.downgrade));
        }
        let statements = sql::split(&row.downgrade_sql, Dialect::ClickHouse).map_err(|unterminated| {
            ClickHouseError::StoredDowngrade {
                server: server.to_owned(),
                version: row.version,
                description: row.description.clone(),
                reason: format!(
                    "its {} opened at line {}, column {} is never closed",
                    unterminated.construct, unterminated.line, unterminated.column
                ),
            }
        })?;
        Ok(Downgrade::Stored { sql: row.downgrade_sql.clone(), statements })
    }

    pub fn statements(&self) -> Vec<&str> {
        match self {
            Downgrade::Planned(script) => script.statements.to_vec(),
            Downgrade::Stored { statements, .. } => statements.iter().map(String::as_str).collect(),
        }
    }

    /// Where statement `index` (0-based) is, for a message: `path:line`, or the line in the
    /// stored SQL.
    pub fn location(&self, version: u64, index: usize) -> String {
        match self {
            Downgrade::Planned(script) => statement_location(script.path, script.sql, script.statements, index),
            Downgrade::Stored { sql, statements } => match statement_line(sql, statements, index) {
                Some(line) => format!("`migration_history` (downgrade of V{version} as applied), line {line}"),
                None => format!("`migration_history` (downgrade of V{version} as applied)"),
            },
        }
    }

    /// What the statements come from, for a message.
    fn source(&self, version: u64) -> String {
        match self {
            Downgrade::Planned(script) => format!("`{}`", script.path),
            Downgrade::Stored { .. } => format!("the downgrade of V{version} stored in `migration_history`"),
        }
    }
}

/// One version `down` reverts, and the statement its downgrade starts at (0-based; past 0 when
/// an earlier `down` stopped part-way).
#[derive(Debug)]
pub(super) struct Revert<'a> {
    pub row: &'a HistoryRow,
    pub downgrade: Downgrade,
    pub first: usize,
}

/// The revert of the recorded `row` the engine decided to undo (`versioned::schedule`), with the
/// plan's downgrade (`planned`) or the stored one, from where an earlier `down` stopped; refused
/// when the stored downgrade cannot be split or the downgrade's statement count changed since.
pub(super) fn revert_of<'a>(
    row: &'a HistoryRow,
    planned: Option<&'static Migration>,
    server: &str,
) -> Result<Revert<'a>, ClickHouseError> {
    let downgrade = Downgrade::of(row, planned, server)?;
    let total = downgrade.statements().len();
    let first = match row.state {
        MigrationState::Reverting if row.statements_total as usize != total => {
            return Err(ClickHouseError::DowngradeChanged {
                server: server.to_owned(),
                version: row.version,
                description: row.description.clone(),
                done: row.statements_done,
                recorded_total: row.statements_total,
                downgrade: downgrade.source(row.version),
                total,
            })
        }
        MigrationState::Reverting => row.statements_done as usize,
        _ => 0,
    };
    Ok(Revert { row, downgrade, first })
}

/// Where a downgrade stands while it runs: the next history row is built from this.
struct Progress {
    row: HistoryRow,
}

impl Progress {
    /// Continues a `reverting` row, or starts afresh from an `applied` one.
    fn new(revert: &Revert<'_>, total: usize) -> Self {
        let mut row = revert.row.clone();
        if row.state != MigrationState::Reverting {
            row.statements_done = 0;
            row.execution_ms = 0;
        }
        row.state = MigrationState::Reverting;
        row.statements_total = saturating_u32(total);
        Progress { row }
    }

    fn done(&self) -> usize {
        self.row.statements_done as usize
    }

    /// The next row of this version, a step past the last one written.
    fn next_row(&mut self, error: String) -> &HistoryRow {
        self.row.sequence += 1;
        self.row.applied_at = Utc::now();
        self.row.error = error;
        &self.row
    }
}

/// Runs the downgrade of one version from where it stands, recording each statement, then
/// records the version as reverted; returns the change line.
pub(super) async fn revert(
    connection: &Connection,
    revert: Revert<'_>,
    checkpoint: &Checkpoint,
) -> Result<String, ClickHouseError> {
    // The engine's runner asked `checkpoint` before anything of this downgrade is written.
    let version = revert.row.version;
    let statements = revert.downgrade.statements();
    let total = statements.len();
    let resumed = revert.row.state == MigrationState::Reverting;
    let mut progress = Progress::new(&revert, total);
    log_started(revert.row, revert.first, total, resumed);
    if !resumed {
        let row = progress.next_row(String::new());
        history::write(connection, row).await.map_err(|error| {
            connection.error(&format!("record the start of V{version}'s downgrade in `migration_history`"), &error)
        })?;
    }
    let mut run_ms = 0;
    for (index, statement) in statements.iter().enumerate().skip(revert.first) {
        if index > revert.first {
            let stopped = |stop| stopped_part_way(stop, Direction::Downgrade, version, index, total);
            checkpoint.reached(SafePoint::Recorded).await.map_err(stopped)?;
        }
        let statement_started = Instant::now();
        if let Err(error) = connection.execute(statement).await {
            let reason = describe_error(&error);
            record_failure(connection, &mut progress, &reason).await;
            return Err(statement_error(connection, &revert, index, reason, resumed && index == revert.first));
        }
        let statement_ms = elapsed_ms(statement_started);
        run_ms += statement_ms;
        progress.row.statements_done += 1;
        progress.row.execution_ms += statement_ms;
        let finished = progress.done() == total;
        let row = progress.next_row(String::new());
        let written = if !finished {
            history::write(connection, row).await
        } else {
            history::write_reverted(connection, row).await
        };
        written.map_err(|error| record_error(connection, &revert, index, total, &error))?;
    }
    if revert.first == total {
        // Nothing left to run (an empty downgrade, or every statement ran but the `reverted` row
        // was never written): write it now.
        let row = progress.next_row(String::new());
        history::write_reverted(connection, row)
            .await
            .map_err(|error| connection.error(&format!("record V{version} as reverted"), &error))?;
    }
    log_reverted(revert.row, run_ms);
    Ok(change_line(&revert, total, run_ms))
}

/// Keeps ClickHouse's error in the `reverting` row; if that write fails, the row before it
/// still says how far the downgrade got.
async fn record_failure(connection: &Connection, progress: &mut Progress, reason: &str) {
    let version = progress.row.version;
    let number = progress.done() + 1;
    tracing::error!(
        event = "clickhouse_migrator.downgrade_partial",
        target = "clickhouse",
        version,
        statement = number,
        error = reason,
        "the downgrade of V{version} {} stopped at statement {number}/{}: {reason}",
        progress.row.description,
        progress.row.statements_total
    );
    let row = progress.next_row(reason.to_owned());
    if let Err(error) = history::write(connection, row).await {
        tracing::warn!(
            event = "clickhouse_migrator.history_not_written",
            target = "clickhouse",
            version,
            statement = number,
            error = %describe_error(&error),
            "could not record the error of V{version}'s downgrade in `migration_history`"
        );
    }
}

fn statement_error(
    connection: &Connection,
    revert: &Revert<'_>,
    index: usize,
    reason: String,
    again: bool,
) -> ClickHouseError {
    let statements = revert.downgrade.statements();
    ClickHouseError::DowngradeStatement(Box::new(DowngradeStatementError {
        server: connection.server().to_owned(),
        location: revert.downgrade.location(revert.row.version, index),
        version: revert.row.version,
        description: revert.row.description.clone(),
        number: index + 1,
        total: statements.len(),
        first_line: first_line(statements[index]),
        again,
        reason,
    }))
}

fn record_error(
    connection: &Connection,
    revert: &Revert<'_>,
    index: usize,
    total: usize,
    error: &clickhouse::error::Error,
) -> ClickHouseError {
    ClickHouseError::Record {
        server: connection.server().to_owned(),
        location: revert.downgrade.location(revert.row.version, index),
        version: revert.row.version,
        direction: Direction::Downgrade,
        recorded: index,
        total,
        reason: describe_error(error),
    }
}

fn log_started(row: &HistoryRow, first: usize, total: usize, resumed: bool) {
    let action = if resumed {
        format!("resuming its downgrade at statement {}/{total}", first + 1)
    } else {
        "reverting".to_owned()
    };
    tracing::info!(
        event = "clickhouse_migrator.downgrade_started",
        target = "clickhouse",
        version = row.version,
        description = row.description,
        statement = first + 1,
        "V{} {}: {action}",
        row.version,
        row.description
    );
}

fn log_reverted(row: &HistoryRow, execution_ms: u64) {
    tracing::info!(
        event = "clickhouse_migrator.migration_reverted",
        target = "clickhouse",
        version = row.version,
        description = row.description,
        duration_ms = execution_ms,
        "reverted V{} {} in {execution_ms} ms",
        row.version,
        row.description
    );
}

/// `V3 after reverted (2 statements, 5 ms)`; `(resumed at statement 2/2, …)` after an earlier
/// stop; `with the downgrade stored in `migration_history`` when the plan does not know it.
fn change_line(revert: &Revert<'_>, total: usize, execution_ms: u64) -> String {
    let what = match revert.first {
        0 if total == 1 => "1 statement".to_owned(),
        0 => format!("{total} statements"),
        first => format!("resumed at statement {}/{total}", first + 1),
    };
    let stored = match revert.downgrade {
        Downgrade::Planned(_) => "",
        Downgrade::Stored { .. } => " with the downgrade stored in `migration_history`",
    };
    format!("V{} {} reverted{stored} ({what}, {execution_ms} ms)", revert.row.version, revert.row.description)
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;

    use super::*;

    fn row(version: u64, state: MigrationState, done: u32, total: u32) -> HistoryRow {
        HistoryRow {
            version,
            description: format!("m{version}"),
            checksum: format!("sha256:{version}"),
            state,
            statements_done: done,
            statements_total: total,
            applied_at: DateTime::<Utc>::UNIX_EPOCH,
            execution_ms: 1,
            downgrade_sql: "-- stored; with a semicolon\nDROP TABLE b;\nINSERT INTO log VALUES ('a;b');\n".to_owned(),
            error: String::new(),
            sequence: 3,
        }
    }

    fn applied(version: u64) -> HistoryRow {
        row(version, MigrationState::Applied, 1, 1)
    }

    const SCRIPT: Script =
        Script { path: "V1.sql", sql: "SELECT 1;\n", statements: &["SELECT 1"], transactional: true };
    static PLAN: [Migration; 2] = [
        Migration {
            version: 1,
            description: "m1",
            checksum: "sha256:1",
            upgrade: SCRIPT,
            downgrade: Script { path: "down/V1.sql", sql: "DROP TABLE a;\n", statements: &["DROP TABLE a"], ..SCRIPT },
            data: None,
            reversal: crate::plan::Reversal::Script,
        },
        Migration {
            version: 2,
            description: "m2",
            checksum: "sha256:2",
            upgrade: SCRIPT,
            downgrade: Script {
                path: "down/V2.sql",
                sql: "DROP TABLE c;\nDROP TABLE d;\n",
                statements: &["DROP TABLE c", "DROP TABLE d"],
                ..SCRIPT
            },
            data: None,
            reversal: crate::plan::Reversal::Script,
        },
    ];

    fn revert_of(row: &HistoryRow) -> Result<Revert<'_>, ClickHouseError> {
        super::revert_of(row, PLAN.iter().find(|migration| migration.version == row.version), "server")
    }

    fn statements(revert: &Revert<'_>) -> Vec<String> {
        revert.downgrade.statements().into_iter().map(str::to_owned).collect()
    }

    #[test]
    fn a_version_the_plan_does_not_know_is_reverted_with_its_stored_downgrade() {
        let unknown = applied(3);
        let revert = revert_of(&unknown).expect("revert");
        let stored =
            vec!["-- stored; with a semicolon\nDROP TABLE b".to_owned(), "INSERT INTO log VALUES ('a;b')".to_owned()];
        assert_eq!((revert.first, statements(&revert)), (0, stored));
        assert_eq!(revert.downgrade.location(3, 1), "`migration_history` (downgrade of V3 as applied), line 3");
        let known = applied(2);
        let revert = revert_of(&known).expect("revert");
        assert_eq!(statements(&revert), ["DROP TABLE c", "DROP TABLE d"]);
        assert_eq!(revert.downgrade.location(2, 1), "down/V2.sql:2");
    }

    #[test]
    fn a_downgrade_left_half_way_resumes_after_its_last_statement() {
        let reverting = row(2, MigrationState::Reverting, 1, 2);
        assert_eq!(revert_of(&reverting).expect("revert").first, 1);
    }

    #[test]
    fn a_downgrade_left_half_way_whose_script_changed_is_refused() {
        let reverting = row(2, MigrationState::Reverting, 1, 3);
        let error = revert_of(&reverting).expect_err("refused");
        let message = error.to_string();
        assert!(matches!(error, ClickHouseError::DowngradeChanged { recorded_total: 3, total: 2, .. }), "{message}");
        assert!(message.contains("but `down/V2.sql` now has 2 statements"), "{message}");
    }

    #[test]
    fn an_unsplittable_stored_downgrade_is_refused_naming_where_it_is_left_open() {
        let mut unknown = applied(3);
        unknown.downgrade_sql = "DROP TABLE a;\nSELECT 'open".to_owned();
        let error = revert_of(&unknown).expect_err("refused");
        assert!(matches!(error, ClickHouseError::StoredDowngrade { version: 3, .. }), "{error}");
        assert!(error.to_string().contains("its string opened at line 2, column 8 is never closed"), "{error}");
    }
}
