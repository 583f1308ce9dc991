//! How `history` prints a SQL target's history: one line per applied (or half-applied)
//! migration, with `-v` the checksum against the plan's and the stored downgrade's size.
//!
//! ```text
//! postgres at `postgres://app@db:5432/trading`: 2 applied (plan head V7)
//!   V1  users_and_auth  applied 2026-11-21 07:00:01 UTC  15 ms
//!   V2  audit_logs      applied 2026-11-21 07:00:01 UTC   3 ms
//! clickhouse at `http://default@ch:8123/trading`: 1 applied, 1 partial (plan head V5)
//!   V1  market_data     applied 2026-11-21 07:00:02 UTC  40 ms
//!   V2  indicators      partial 2026-11-21 07:00:02 UTC   9 ms  stopped after 2 of 5 statements
//! ```

use std::io::{self, Write};

use crate::plan::Migration;
use crate::targets::{EntryState, HistoryEntry, TargetName};

/// What one target's history section shows.
pub struct HistoryView<'a> {
    pub target: TargetName,
    pub address: &'a str,
    /// The plan's migrations of this target, to compare checksums with and name the head.
    pub planned: &'a [Migration],
    pub entries: &'a [HistoryEntry],
    pub verbose: bool,
    /// `(version, backup)`: the backup that preceded the run which applied `version` first
    /// (`crate::backup::preceding`); shown with `-v`.
    pub backups: &'a [(u64, String)],
}

pub fn write(out: &mut dyn Write, view: &HistoryView<'_>) -> io::Result<()> {
    writeln!(out, "{} at `{}`: {} ({})", view.target, view.address, summary(view.entries), head(view.planned))?;
    let version_width = view.entries.iter().map(|entry| entry.version.to_string().len() + 1).max().unwrap_or(0);
    let description_width = view.entries.iter().map(|entry| entry.description.chars().count()).max().unwrap_or(0);
    let duration_width = view.entries.iter().map(|entry| entry.execution_ms.to_string().len()).max().unwrap_or(0);
    for entry in view.entries {
        let (state, stopped) = match entry.state {
            EntryState::Applied => ("applied", String::new()),
            EntryState::Partial { done, total } => ("partial", format!("  stopped after {done} of {total} statements")),
            EntryState::Reverting { done, total } => {
                ("reverting", format!("  downgrade stopped after {done} of {total} statements"))
            }
        };
        writeln!(
            out,
            "  {:<version_width$}  {:<description_width$}  {state} {}  {:>duration_width$} ms{stopped}",
            format!("V{}", entry.version),
            entry.description,
            entry.applied_at.format("%Y-%m-%d %H:%M:%S UTC"),
            entry.execution_ms,
        )?;
        if view.verbose {
            write_details(out, entry, view.planned, version_width)?;
            if let Some((_, backup)) = view.backups.iter().find(|(version, _)| *version == entry.version) {
                writeln!(out, "{}backup     {backup}, taken before this run", " ".repeat(version_width + 4))?;
            }
        }
    }
    Ok(())
}

/// `checksum sha256:… (as in the plan)` and `downgrade 312 bytes, 4 lines stored`.
fn write_details(out: &mut dyn Write, entry: &HistoryEntry, planned: &[Migration], indent: usize) -> io::Result<()> {
    let comparison = match planned.iter().find(|migration| migration.version == entry.version) {
        None => "not in this binary's plan".to_owned(),
        Some(migration) if migration.checksum == entry.checksum => "as in the plan".to_owned(),
        Some(migration) => format!("the plan's `{}` now has `{}`", migration.upgrade.path, migration.checksum),
    };
    let pad = " ".repeat(indent + 4);
    writeln!(out, "{pad}checksum   {} ({comparison})", entry.checksum)?;
    if entry.downgrade_sql.starts_with(tradeforge_migrator_spec::data::STORED_DOWNGRADE_PREFIX) {
        return writeln!(out, "{pad}downgrade  Rust data migration: compiled into the release that applied it");
    }
    let lines = entry.downgrade_sql.lines().count();
    writeln!(
        out,
        "{pad}downgrade  {} bytes, {lines} {} stored with it",
        entry.downgrade_sql.len(),
        if lines == 1 { "line" } else { "lines" }
    )
}

/// `3 applied`, `2 applied, 1 partial`, or `nothing applied yet`.
fn summary(entries: &[HistoryEntry]) -> String {
    let partial = entries.iter().filter(|entry| matches!(entry.state, EntryState::Partial { .. })).count();
    match (entries.len() - partial, partial) {
        (0, 0) => "nothing applied yet".to_owned(),
        (applied, 0) => format!("{applied} applied"),
        (applied, partial) => format!("{applied} applied, {partial} partial"),
    }
}

fn head(planned: &[Migration]) -> String {
    planned
        .last()
        .map_or_else(|| "the plan has no migrations".to_owned(), |last| format!("plan head V{}", last.version))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn entry(version: u64, description: &str, state: EntryState, execution_ms: u64) -> HistoryEntry {
        HistoryEntry {
            version,
            description: description.to_owned(),
            checksum: format!("sha256:{version}"),
            applied_at: Utc.with_ymd_and_hms(2026, 11, 21, 7, 0, 1).single().expect("valid time"),
            execution_ms,
            state,
            downgrade_sql: "DROP TABLE a;\nDROP TABLE b;\n".to_owned(),
        }
    }

    fn render(entries: &[HistoryEntry], verbose: bool) -> String {
        let view = HistoryView {
            target: TargetName::Clickhouse,
            address: "http://ch",
            planned: &[],
            entries,
            verbose,
            backups: &[],
        };
        let mut out = Vec::new();
        write(&mut out, &view).expect("write to a Vec");
        String::from_utf8(out).expect("UTF-8")
    }

    #[test]
    fn each_entry_is_one_aligned_line_with_its_state() {
        let entries = [
            entry(1, "market_data", EntryState::Applied, 40),
            entry(12, "copies", EntryState::Partial { done: 2, total: 5 }, 9),
        ];
        assert_eq!(
            render(&entries, false),
            "clickhouse at `http://ch`: 1 applied, 1 partial (the plan has no migrations)\n\
             \x20 V1   market_data  applied 2026-11-21 07:00:01 UTC  40 ms\n\
             \x20 V12  copies       partial 2026-11-21 07:00:01 UTC   9 ms  stopped after 2 of 5 statements\n"
        );
    }

    #[test]
    fn verbose_adds_the_checksum_and_the_stored_downgrade() {
        let text = render(&[entry(1, "market_data", EntryState::Applied, 40)], true);
        assert!(text.contains("      checksum   sha256:1 (not in this binary's plan)\n"), "{text}");
        assert!(text.contains("      downgrade  28 bytes, 2 lines stored with it\n"), "{text}");
        let data = HistoryEntry {
            downgrade_sql: tradeforge_migrator_spec::data::stored_downgrade("migrations/postgres/data/fill.rs"),
            ..entry(2, "fill", EntryState::Applied, 3)
        };
        let text = render(&[data], true);
        assert!(
            text.contains("      downgrade  Rust data migration: compiled into the release that applied it\n"),
            "{text}"
        );
    }

    #[test]
    fn an_empty_history_says_so() {
        assert_eq!(render(&[], false), "clickhouse at `http://ch`: nothing applied yet (the plan has no migrations)\n");
    }
}
