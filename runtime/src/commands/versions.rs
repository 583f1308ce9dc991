//! `history`, `up`, `down`, `redo`, `baseline` and `repair`: the versioned operations of the
//! SQL targets, through [`VersionedTarget`], each after the same health check as `migrate`.
//! Commands that change a database hold the run lock (`commands::lock`) for their whole run;
//! `down` and `redo` show what they will undo and get a confirmation first
//! (`commands::confirm`). The targets own every rule about versions (which `--to` is valid,
//! what drift refuses what); this module only sequences the calls and prints the outcome.

use std::io::Write;
use std::time::Instant;

use super::confirm::{ConfirmError, Confirmation};
use super::history::{self, HistoryView};
use super::{lock, with_guarded_sql_target, with_locked_sql_target, with_sql_target, CommandError, Done};
use crate::cli::UpgradeTarget;
use crate::config::Config;
use crate::plan::{Plan, SqlTarget};
use crate::run::{self, Applied};
use crate::targets::{Changes, EntryState, Failure, HistoryEntry, Target, TargetName, VersionTarget, VersionedTarget};

/// The plan and the servers every command works with.
#[derive(Clone, Copy, Debug)]
pub struct Session<'a> {
    pub plan: &'a Plan,
    pub config: &'a Config,
}

/// `migrator history`: each target's history, in run order.
pub async fn history(
    session: Session<'_>,
    targets: &[SqlTarget],
    verbose: bool,
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    history_with_backups(session, targets, verbose, &[], out).await
}

/// [`history`], with `-v` naming the backup (of `backups`) that preceded each run.
pub async fn history_with_backups(
    session: Session<'_>,
    targets: &[SqlTarget],
    verbose: bool,
    backups: &[crate::backup::folder::Listed],
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    for &target in targets {
        with_sql_target!(target, session.config, |database, address| {
            history_of(database, address, session, target, verbose, backups, out).await
        })?;
    }
    Ok(())
}

async fn history_of<T: VersionedTarget>(
    mut target: T,
    address: String,
    session: Session<'_>,
    sql_target: SqlTarget,
    verbose: bool,
    backups: &[crate::backup::folder::Listed],
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    connect(&mut target, &address, session).await?;
    let entries = read_history(&mut target).await?;
    let preceding = crate::backup::preceding(backups, target.name(), &entries);
    let view = HistoryView {
        target: target.name(),
        address: &address,
        planned: session.plan.migrations(sql_target),
        entries: &entries,
        verbose,
        backups: &preceding,
    };
    // A closed stdout is not the history's failure.
    let _ = history::write(out, &view);
    Ok(())
}

/// `migrator up`: the pending migrations of one database, up to and including `to`.
pub async fn up(
    session: Session<'_>,
    target: SqlTarget,
    to: UpgradeTarget,
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    with_locked_sql_target!(session, target, |database, address| {
        up_on(database, address, session, target, to, out).await
    })
}

async fn up_on<T: VersionedTarget>(
    mut target: T,
    address: String,
    session: Session<'_>,
    sql_target: SqlTarget,
    to: UpgradeTarget,
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    let name = target.name();
    connect(&mut target, &address, session).await?;
    let changes = target
        .upgrade_to(session.plan, to.as_option())
        .await
        .map_err(|failure| CommandError::failed(name, "up", failure))?;
    print_changes(out, name, &migrations("applied", &changes), "nothing to apply", &changes);
    print_position(&mut target, session, sql_target, out).await
}

/// `migrator down`: undoes the last migration (`to` is `None`), or every one above `to`. The
/// question is asked before the run lock is taken (a person thinking it over must not hold up
/// every other deploy); under the lock the history is read again and the command refuses if
/// what it would undo is no longer what was confirmed.
pub async fn down(
    session: Session<'_>,
    target: SqlTarget,
    to: Option<VersionTarget>,
    confirmation: Confirmation,
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    let command = UndoCommand::Down(to);
    let confirmed = confirm_unlocked(session, target, command, confirmation).await?;
    with_locked_sql_target!(session, target, |database, address| {
        down_on(database, address, session, target, to, confirmed, out).await
    })
}

async fn down_on<T: VersionedTarget>(
    mut target: T,
    address: String,
    session: Session<'_>,
    sql_target: SqlTarget,
    to: Option<VersionTarget>,
    confirmed: Confirmed,
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    let name = target.name();
    connect(&mut target, &address, session).await?;
    let entries = read_history(&mut target).await?;
    let (stop, undo) = UndoCommand::Down(to).undo(&entries);
    confirmed.still_holds("down", &undo)?;
    let changes =
        target.downgrade_to(session.plan, stop).await.map_err(|failure| CommandError::failed(name, "down", failure))?;
    print_changes(out, name, &migrations("undid", &changes), "nothing to undo", &changes);
    print_position(&mut target, session, sql_target, out).await
}

/// `migrator redo`: the last migration's downgrade, then its upgrade; confirmed as `down` is.
pub async fn redo(
    session: Session<'_>,
    target: SqlTarget,
    confirmation: Confirmation,
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    let confirmed = confirm_unlocked(session, target, UndoCommand::Redo, confirmation).await?;
    with_locked_sql_target!(session, target, |database, address| {
        redo_on(database, address, session, target, confirmed, out).await
    })
}

async fn redo_on<T: VersionedTarget>(
    mut target: T,
    address: String,
    session: Session<'_>,
    sql_target: SqlTarget,
    confirmed: Confirmed,
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    let name = target.name();
    connect(&mut target, &address, session).await?;
    let entries = read_history(&mut target).await?;
    let (stop, undo) = UndoCommand::Redo.undo(&entries);
    confirmed.still_holds("redo", &undo)?;
    let Some(last) = entries.last() else {
        let _ = writeln!(out, "{name}: nothing applied yet; nothing to redo");
        return Ok(());
    };
    if !session.plan.migrations(sql_target).iter().any(|migration| migration.version == last.version) {
        return Err(CommandError::RedoUnknown {
            target: name,
            version: last.version,
            description: last.description.clone(),
        });
    }
    let mut done = target
        .downgrade_to(session.plan, stop)
        .await
        .map_err(|failure| CommandError::failed(name, "redo (downgrade)", failure))?;
    match target.upgrade_to(session.plan, Some(last.version)).await {
        Ok(applied) => done.0.extend(applied.0),
        Err(failure) => {
            done.0.extend(failure.done.0);
            let stopped = CommandError::failed(name, "redo (upgrade)", Failure::new(failure.error, Changes::default()));
            return Err(match stopped {
                CommandError::Failed { target, action, error, .. } => {
                    CommandError::Failed { target, action, error, done: Done(done) }
                }
                CommandError::Stopped { target, action, error, code, .. } => {
                    CommandError::Stopped { target, action, error, code, done: Done(done) }
                }
                other => other,
            });
        }
    }
    let headline = format!("redid V{} {}", last.version, last.description);
    print_changes(out, name, &headline, "nothing to redo", &done);
    print_position(&mut target, session, sql_target, out).await
}

/// The two commands that undo migrations.
#[derive(Clone, Copy, Debug)]
enum UndoCommand {
    /// `down`, to a version (`None`: undo the last one).
    Down(Option<VersionTarget>),
    /// `redo`: undo the last one, then apply it again.
    Redo,
}

impl UndoCommand {
    fn name(self) -> &'static str {
        match self {
            UndoCommand::Down(_) => "down",
            UndoCommand::Redo => "redo",
        }
    }

    /// Where the command leaves the history, and what it undoes on the way, newest first.
    fn undo(self, entries: &[HistoryEntry]) -> (VersionTarget, Vec<&HistoryEntry>) {
        match self {
            UndoCommand::Down(to) => {
                let stop = to.unwrap_or_else(|| below_last(entries));
                (stop, entries.iter().rev().filter(|entry| VersionTarget::Version(entry.version) > stop).collect())
            }
            UndoCommand::Redo => (below_last(entries), entries.last().into_iter().collect()),
        }
    }
}

/// What the person confirmed, to compare under the lock; `None` after `--yes`.
struct Confirmed(Option<Vec<HistoryEntry>>);

impl Confirmed {
    /// Refuses when what the command would undo now differs from what was confirmed: another
    /// migrator changed the history while the question was open.
    fn still_holds(&self, command: &'static str, undo: &[&HistoryEntry]) -> Result<(), ConfirmError> {
        let Some(confirmed) = &self.0 else { return Ok(()) };
        if confirmed.len() == undo.len() && confirmed.iter().zip(undo).all(|(then, now)| then == *now) {
            return Ok(());
        }
        let now = if undo.is_empty() {
            "nothing".to_owned()
        } else {
            undo.iter().map(|entry| label(entry)).collect::<Vec<_>>().join(", ")
        };
        Err(ConfirmError::Changed { command, now })
    }
}

/// Asks, without holding the run lock, whether to undo what the command would undo now.
/// Nothing to undo needs no go-ahead (the target still judges `to` under the lock: one above
/// the current version is an error that points to `up`).
async fn confirm_unlocked(
    session: Session<'_>,
    sql_target: SqlTarget,
    command: UndoCommand,
    confirmation: Confirmation,
) -> Result<Confirmed, CommandError> {
    if confirmation == Confirmation::Given {
        return Ok(Confirmed(None));
    }
    with_sql_target!(sql_target, session.config, |database, address| {
        let mut target = database;
        let name = target.name();
        connect(&mut target, &address, session).await?;
        let entries = read_history(&mut target).await?;
        let (stop, undo) = command.undo(&entries);
        if !undo.is_empty() {
            confirmation.obtain(&undo_question(command.name(), name, &address, &undo, &entries, stop))?;
        }
        Ok(Confirmed(Some(undo.into_iter().cloned().collect())))
    })
}

/// `migrator baseline`: records the plan's migrations up to `version` as applied.
pub async fn baseline(
    session: Session<'_>,
    target: SqlTarget,
    version: u64,
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    with_locked_sql_target!(session, target, |database, address| {
        baseline_on(database, address, session, target, version, out).await
    })
}

async fn baseline_on<T: VersionedTarget>(
    mut target: T,
    address: String,
    session: Session<'_>,
    sql_target: SqlTarget,
    version: u64,
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    let name = target.name();
    connect(&mut target, &address, session).await?;
    let changes = target
        .baseline(session.plan, version)
        .await
        .map_err(|error| CommandError::read(name, "record the baseline", &error))?;
    let headline = format!("{} without running them", migrations("recorded", &changes));
    print_changes(out, name, &headline, "nothing to record", &changes);
    print_position(&mut target, session, sql_target, out).await
}

/// `migrator repair`: each target's `repair`. What it will record is printed and confirmed
/// first (`yes`, or a `y` on the terminal) without holding the run lock, as `down` asks; under
/// the lock each target's preview is read again and the command refuses if it changed.
pub async fn repair(
    session: Session<'_>,
    targets: &[SqlTarget],
    yes: bool,
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    let mut confirmed = Vec::with_capacity(targets.len());
    for &target in targets {
        let preview = with_sql_target!(target, session.config, |database, address| {
            confirm_repair(database, address, session, yes, out).await
        })?;
        confirmed.push(preview);
    }
    let changed: Vec<_> = targets.iter().map(|&target| super::target_name(target)).collect();
    let guard = lock::acquire(session.config, &changed).await?;
    let mut result = Ok(());
    for (&target, confirmed) in targets.iter().zip(&confirmed) {
        result = with_guarded_sql_target!(&guard, session, target, |database, address| {
            repair_on(database, address, session, confirmed, out).await
        });
        if result.is_err() {
            break;
        }
    }
    guard.release().await;
    result
}

/// Prints the preview on `out` (stdout) before asking, so that a script refused for want of
/// `--yes` still shows what `repair` would have recorded; returns what was confirmed.
async fn confirm_repair<T: VersionedTarget>(
    mut target: T,
    address: String,
    session: Session<'_>,
    yes: bool,
    out: &mut dyn Write,
) -> Result<Changes, CommandError> {
    let name = target.name();
    connect(&mut target, &address, session).await?;
    let preview = target
        .repair_preview(session.plan)
        .await
        .map_err(|error| CommandError::read(name, "read the history", &error))?;
    // Nothing to write needs no go-ahead (`repair` may still say what it leaves as it is).
    if !preview.is_empty() {
        let _ = writeln!(out, "{name}: repair will write to `migration_history` on `{address}`, running nothing:");
        for line in &preview.0 {
            let _ = writeln!(out, "  {line}");
        }
        let _ = out.flush();
        Confirmation::for_command("repair", "records history that no run wrote", yes)?
            .obtain("Record these lines in the history?")?;
    }
    Ok(preview)
}

async fn repair_on<T: VersionedTarget>(
    mut target: T,
    address: String,
    session: Session<'_>,
    confirmed: &Changes,
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    let name = target.name();
    connect(&mut target, &address, session).await?;
    let preview = target
        .repair_preview(session.plan)
        .await
        .map_err(|error| CommandError::read(name, "read the history", &error))?;
    if preview != *confirmed {
        let now = if preview.is_empty() { "nothing".to_owned() } else { preview.0.join("; ") };
        return Err(ConfirmError::Changed { command: "repair", now }.into());
    }
    let changes =
        target.repair(session.plan).await.map_err(|error| CommandError::read(name, "repair the history", &error))?;
    if changes.is_empty() {
        let _ = writeln!(out, "{name}: nothing to repair; the history matches the plan");
    } else {
        let _ = writeln!(out, "{name}: repair");
        for line in &changes.0 {
            let _ = writeln!(out, "  {line}");
        }
    }
    Ok(())
}

/// The health check of `migrate`, retried up to `--wait`.
async fn connect<T: Target>(target: &mut T, address: &str, session: Session<'_>) -> Result<(), CommandError> {
    run::log_started(target.name(), address);
    run::wait_for(target, address, session.config.wait, Instant::now(), &Applied::default()).await?;
    Ok(())
}

async fn read_history<T: VersionedTarget>(target: &mut T) -> Result<Vec<HistoryEntry>, CommandError> {
    let name = target.name();
    target.history_entries().await.map_err(|error| CommandError::read(name, "read the history", &error))
}

/// Where undoing the last entry leaves the database: the entry before it, or base.
fn below_last(entries: &[HistoryEntry]) -> VersionTarget {
    match entries {
        [.., before, _] => VersionTarget::Version(before.version),
        _ => VersionTarget::Base,
    }
}

/// `migrator down will undo on postgres `…`, newest first: … and leave it at V5 x.`
fn undo_question(
    command: &str,
    name: TargetName,
    address: &str,
    undo: &[&HistoryEntry],
    entries: &[HistoryEntry],
    stop: VersionTarget,
) -> String {
    let action = if command == "redo" { "undo and re-apply" } else { "undo" };
    let mut text = format!("migrator {command} will {action} on {name} `{address}`, newest first:\n");
    for entry in undo {
        text.push_str(&format!("  {}\n", label(entry)));
    }
    let remaining = entries.iter().rev().find(|entry| VersionTarget::Version(entry.version) <= stop);
    match (command, remaining) {
        ("redo", _) => {}
        (_, Some(entry)) => text.push_str(&format!("leaving it at {}.", label(entry))),
        (_, None) => text.push_str("leaving it at base: no migration applied."),
    }
    text.trim_end().to_owned()
}

/// `V7 system_indicators`, `V5 copies (partial: 2 of 3 statements)`.
fn label(entry: &HistoryEntry) -> String {
    match entry.state {
        EntryState::Applied => format!("V{} {}", entry.version, entry.description),
        EntryState::Partial { done, total } => {
            format!("V{} {} (partial: {done} of {total} statements)", entry.version, entry.description)
        }
        EntryState::Reverting { done, total } => {
            format!("V{} {} (downgrade stopped: {done} of {total} statements)", entry.version, entry.description)
        }
    }
}

/// `applied 2 migrations`: one line of `changes` per migration.
fn migrations(verb: &str, changes: &Changes) -> String {
    match changes.0.len() {
        1 => format!("{verb} 1 migration"),
        count => format!("{verb} {count} migrations"),
    }
}

/// `postgres: applied 2 migrations` and the target's line for each, or `postgres: nothing to
/// apply`.
fn print_changes(out: &mut dyn Write, name: TargetName, headline: &str, nothing: &str, changes: &Changes) {
    if changes.is_empty() {
        let _ = writeln!(out, "{name}: {nothing}");
        return;
    }
    let _ = writeln!(out, "{name}: {headline}");
    for line in &changes.0 {
        let _ = writeln!(out, "  {line}");
    }
}

/// `postgres: now at V3 trading_accounts (plan head V7)`, read back from the history.
async fn print_position<T: VersionedTarget>(
    target: &mut T,
    session: Session<'_>,
    sql_target: SqlTarget,
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    let name = target.name();
    let entries = read_history(target).await?;
    let position = entries.last().map_or_else(|| "base, nothing applied".to_owned(), label);
    let head = session
        .plan
        .migrations(sql_target)
        .last()
        .map_or_else(|| "the plan has no migrations".to_owned(), |last| format!("plan head V{}", last.version));
    let _ = writeln!(out, "{name}: now at {position} ({head})");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(version: u64, description: &str) -> HistoryEntry {
        HistoryEntry {
            version,
            description: description.to_owned(),
            checksum: String::new(),
            applied_at: chrono::DateTime::<chrono::Utc>::UNIX_EPOCH,
            execution_ms: 0,
            state: EntryState::Applied,
            downgrade_sql: String::new(),
        }
    }

    #[test]
    fn what_was_confirmed_must_still_be_what_would_be_undone() {
        let entries = [entry(1, "a"), entry(2, "b"), entry(3, "c")];
        let (_, undo) = UndoCommand::Down(None).undo(&entries);
        let confirmed = Confirmed(Some(undo.iter().map(|entry| (*entry).clone()).collect()));
        assert!(confirmed.still_holds("down", &undo).is_ok());
        // Another migrator applied V4 while the question was open: `down` would now undo V4.
        let moved = [entry(1, "a"), entry(2, "b"), entry(3, "c"), entry(4, "d")];
        let (_, undo_now) = UndoCommand::Down(None).undo(&moved);
        let error = confirmed.still_holds("down", &undo_now).expect_err("refused");
        assert!(error.to_string().contains("would now undo V4 d, not what was confirmed"), "{error}");
        assert!(Confirmed(None).still_holds("down", &undo_now).is_ok(), "`--yes` confirmed nothing in particular");
    }

    #[test]
    fn redo_undoes_only_the_last_entry() {
        let entries = [entry(1, "a"), entry(2, "b")];
        let (stop, undo) = UndoCommand::Redo.undo(&entries);
        assert_eq!(stop, VersionTarget::Version(1));
        assert_eq!(undo.iter().map(|entry| entry.version).collect::<Vec<_>>(), [2]);
    }

    #[test]
    fn undoing_the_last_entry_stops_at_the_one_before_it() {
        assert_eq!(below_last(&[]), VersionTarget::Base);
        assert_eq!(below_last(&[entry(1, "a")]), VersionTarget::Base);
        assert_eq!(below_last(&[entry(1, "a"), entry(3, "c")]), VersionTarget::Version(1));
    }

    #[test]
    fn the_question_lists_what_goes_and_what_stays() {
        let entries = [entry(1, "a"), entry(2, "b"), entry(3, "c")];
        let undo: Vec<&HistoryEntry> = entries[1..].iter().rev().collect();
        let question = undo_question(
            "down",
            TargetName::Postgres,
            "postgres://app@db/x",
            &undo,
            &entries,
            VersionTarget::Version(1),
        );
        assert_eq!(
            question,
            "migrator down will undo on postgres `postgres://app@db/x`, newest first:\n  V3 c\n  V2 b\nleaving it at V1 a."
        );
    }
}
