//! Backups before a deploy (`migrate --backup`), on demand (`migrator backup`), and the safety
//! backup `restore` takes before it changes anything.
//!
//! One folder per backup under `--backup-dir` / `MIGRATOR_BACKUP_DIR` (default `backups/`),
//! written atomically (`folder`), described by `manifest.json` with each file's size and
//! SHA-256 and the history versions at backup time (`manifest`). What each server contributes:
//! PostgreSQL a `pg_dump` (`postgres`, the indicator catalogue included: it lives there),
//! ClickHouse its schema and a server-side FREEZE (`clickhouse`), Kafka its topics' declared and
//! live configs (`kafka`). MongoDB is not a target yet; its part (collections' options,
//! validators, indexes) will be one more `Part` kind.
//!
//! Retention: after each backup `migrate --backup` or `backup` writes, only the newest
//! `--backup-keep` / `MIGRATOR_BACKUP_KEEP` (default 10; 0 keeps all) complete backups stay.
//! The safety backup of `restore` is never followed by pruning, so a restore cannot delete the
//! backup it restores from.

pub mod clickhouse;
pub mod folder;
pub mod kafka;
pub mod manifest;
pub mod postgres;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::config::{Config, ConfigError, Environment};
use crate::plan::Plan;
use crate::run::{self, Request};
use crate::targets::clickhouse::ClickHouseTarget;
use crate::targets::postgres::PostgresTarget;
use crate::targets::{HistoryEntry, TargetName, VersionedTarget};

use self::folder::{InProgress, Listed};
use self::manifest::{Manifest, Part};

pub const DIR_VARIABLE: &str = "MIGRATOR_BACKUP_DIR";
pub const KEEP_VARIABLE: &str = "MIGRATOR_BACKUP_KEEP";
pub const DEFAULT_DIR: &str = "backups";
pub const DEFAULT_KEEP: usize = 10;

/// Where backups go and how many stay.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    pub dir: PathBuf,
    /// 0: keep every backup.
    pub keep: usize,
}

impl Settings {
    /// A flag wins over its variable, a variable over the default.
    pub fn load(environment: &Environment, dir: Option<&Path>, keep: Option<&str>) -> Result<Settings, BackupError> {
        let dir = match dir {
            Some(dir) => dir.to_owned(),
            None => environment.get(DIR_VARIABLE)?.map_or_else(|| PathBuf::from(DEFAULT_DIR), PathBuf::from),
        };
        let (keep, setting) = match keep {
            Some(keep) => (Some(keep), "--backup-keep"),
            None => (environment.get(KEEP_VARIABLE)?, KEEP_VARIABLE),
        };
        let keep = match keep {
            None => DEFAULT_KEEP,
            Some(text) => {
                text.trim().parse().map_err(|_| BackupError::InvalidKeep { setting, value: text.to_owned() })?
            }
        };
        Ok(Settings { dir, keep })
    }
}

/// Why a backup, a listing or a restore stopped. Never holds a password.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("cannot {action} `{}`: {source}", path.display())]
    Io { action: &'static str, path: PathBuf, source: std::io::Error },
    #[error("`{}` is not a readable backup manifest: {error}", path.display())]
    Manifest { path: PathBuf, error: String },
    #[error("`{}` does not match the backup's manifest (expected {expected}, found {found}): the backup is damaged or was edited; refusing to use it, choose another one (`migrator backups`)", path.display())]
    Corrupt { path: PathBuf, expected: String, found: String },
    #[error("no backup `{given}` in `{}` (nor a folder of that name holding a manifest); `migrator backups` lists them", dir.display())]
    NotFound { given: String, dir: PathBuf },
    #[error("`{}` is an incomplete backup (it was interrupted while being written) and cannot be restored; delete it", path.display())]
    Incomplete { path: PathBuf },
    #[error("`{tool}` was not found on PATH; install the PostgreSQL client tools of the server's major version (Debian/Ubuntu: `apt-get install postgresql-client-<major>`) or run without --backup")]
    ToolMissing { tool: &'static str },
    #[error("`{tool}` is version {found}, older than the PostgreSQL {server} server at `{address}`, and cannot back it up safely; install postgresql-client-{server} (or newer) and put its `{tool}` first on PATH")]
    ToolTooOld { tool: &'static str, found: u32, server: u32, address: String },
    #[error("`{tool}` failed against `{server}` ({status}): {stderr}")]
    ToolFailed { tool: &'static str, server: String, status: String, stderr: String },
    #[error("{server}: cannot {action}: {error}")]
    Server { server: String, action: String, error: String },
    #[error("{target}: cannot read what it has applied: {error}")]
    Target { target: TargetName, error: String },
    #[error("{setting} must be a number of backups to keep (0 keeps all), not `{value}`")]
    InvalidKeep { setting: &'static str, value: String },
    #[error(transparent)]
    Config(#[from] ConfigError),
}

impl BackupError {
    pub fn io(action: &'static str, path: &Path, source: std::io::Error) -> BackupError {
        BackupError::Io { action, path: path.to_owned(), source }
    }

    /// A bad setting, found before anything was contacted.
    pub fn is_usage(&self) -> bool {
        matches!(self, BackupError::InvalidKeep { .. } | BackupError::Config(_))
    }
}

/// Why a backup was taken: in its manifest and in `backups`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reason {
    BeforeMigrate,
    OnDemand,
    BeforeRestore(String),
}

impl Reason {
    fn text(&self) -> String {
        match self {
            Reason::BeforeMigrate => "before migrate".to_owned(),
            Reason::OnDemand => "on demand".to_owned(),
            Reason::BeforeRestore(name) => format!("safety backup before restoring {name}"),
        }
    }
}

/// A backup written and renamed into place.
#[derive(Debug)]
pub struct Taken {
    pub path: PathBuf,
    pub manifest: Manifest,
    /// Older backups retention deleted.
    pub pruned: Vec<PathBuf>,
}

/// Which servers a selection of targets touches: the indicator catalogue lives in PostgreSQL.
fn servers(targets: &[TargetName]) -> (bool, bool, bool) {
    let postgres = targets.iter().any(|name| matches!(name, TargetName::Postgres | TargetName::Indicators));
    (postgres, targets.contains(&TargetName::Clickhouse), targets.contains(&TargetName::Kafka))
}

/// Takes a backup of the servers `targets` touch into a new folder of `settings.dir`, then
/// (unless it is a restore's safety backup) deletes the backups beyond `settings.keep`.
/// Nothing is left but an unfinished `.partial` folder if it fails.
pub async fn take(
    plan: &Plan,
    config: &Config,
    targets: &[TargetName],
    settings: &Settings,
    reason: Reason,
) -> Result<Taken, BackupError> {
    let now = chrono::Utc::now();
    let name = folder::backup_name(now, plan.fingerprint);
    let in_progress = InProgress::start(&settings.dir, &name)?;
    let manifest = match write_parts(plan, config, targets, &in_progress, &reason, now).await {
        Ok(manifest) => manifest,
        Err(error) => {
            in_progress.abandon();
            return Err(error);
        }
    };
    let path = in_progress.finish(&manifest)?;
    let pruned = match (&reason, settings.keep) {
        (Reason::BeforeRestore(_), _) | (_, 0) => Vec::new(),
        _ => folder::prune(&settings.dir, settings.keep)?,
    };
    tracing::info!(
        event = "migrator.backup_written",
        path = %path.display(),
        parts = manifest.parts.len() as u64,
        pruned = pruned.len() as u64,
        "backup written to {}",
        path.display()
    );
    Ok(Taken { path, manifest, pruned })
}

async fn write_parts(
    plan: &Plan,
    config: &Config,
    targets: &[TargetName],
    in_progress: &InProgress,
    reason: &Reason,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Manifest, BackupError> {
    let (with_postgres, with_clickhouse, with_kafka) = servers(targets);
    let folder = &in_progress.path;
    let mut manifest = Manifest {
        format: manifest::FORMAT,
        name: in_progress.name.clone(),
        created_at: now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        reason: reason.text(),
        migrator_version: env!("CARGO_PKG_VERSION").to_owned(),
        plan_fingerprint: plan.fingerprint.to_owned(),
        history: BTreeMap::new(),
        parts: Vec::new(),
        server_side: Vec::new(),
        not_included: Vec::new(),
    };
    if with_postgres {
        // History first: the dump taken right after holds at least this.
        let entries = history(TargetName::Postgres, PostgresTarget::new(&config.postgres)).await?;
        manifest.history.insert("postgres".into(), applied_versions(&entries));
        postgres::dump(&config.postgres, folder).await?;
        manifest.parts.push(manifest::part_for(
            folder,
            "postgres",
            postgres::DUMP_KIND,
            postgres::DUMP_FILE,
            config.postgres.describe(),
        )?);
    }
    if with_clickhouse {
        match clickhouse::back_up(&config.clickhouse, folder, &in_progress.name).await? {
            Some(snapshot) => {
                let entries = history(TargetName::Clickhouse, ClickHouseTarget::new(&config.clickhouse)).await?;
                manifest.history.insert("clickhouse".into(), applied_versions(&entries));
                manifest.parts.push(manifest::part_for(
                    folder,
                    "clickhouse",
                    clickhouse::SCHEMA_KIND,
                    clickhouse::SCHEMA_FILE,
                    config.clickhouse.describe(),
                )?);
                manifest.not_included.push(format!(
                    "ClickHouse data is not in this folder: it was frozen on the server as shadow/{}/ (see README \"Backups\")",
                    in_progress.name
                ));
                manifest.server_side.push(snapshot);
            }
            None => {
                manifest.history.insert("clickhouse".into(), Vec::new());
                manifest.not_included.push(format!(
                    "ClickHouse database `{}` did not exist yet: nothing to back up",
                    config.clickhouse.database
                ));
            }
        }
    }
    if with_kafka {
        let text = kafka::topics_json(&config.kafka, plan).await?;
        let path = folder.join(kafka::TOPICS_FILE);
        std::fs::write(&path, text).map_err(|source| BackupError::io("write", &path, source))?;
        manifest.parts.push(manifest::part_for(
            folder,
            "kafka",
            kafka::TOPICS_KIND,
            kafka::TOPICS_FILE,
            config.kafka.describe(),
        )?);
        manifest.not_included.push("Kafka messages are never backed up, only the topics' configs".into());
    }
    Ok(manifest)
}

/// A SQL target's history (after its health check), for the manifest and for `history -v`.
async fn history<T: VersionedTarget>(name: TargetName, mut target: T) -> Result<Vec<HistoryEntry>, BackupError> {
    let failed = |error: &T::Error| BackupError::Target { target: name, error: run::error_chain(error) };
    target.health_check().await.map_err(|error| failed(&error))?;
    target.history_entries().await.map_err(|error| failed(&error))
}

fn applied_versions(entries: &[HistoryEntry]) -> Vec<u64> {
    entries.iter().map(|entry| entry.version).collect()
}

/// `migrate --backup`, under the run lock and before the first change: when any selected target
/// has something pending, back up the servers of those targets; with nothing pending, no backup
/// (and no folder). `config` is the run's working config.
pub async fn before_migrate(
    request: &Request<'_>,
    config: &Config,
    settings: &Settings,
    out: &mut dyn Write,
) -> Result<Option<Taken>, BackupError> {
    let status_request = Request { config, ..request.clone() };
    let report = run::status(&status_request).await.map_err(|error| BackupError::Server {
        server: "the servers".into(),
        action: "read what is pending".into(),
        error: error.to_string(),
    })?;
    let pending: Vec<TargetName> =
        report.targets.iter().filter(|target| !target.status.pending.is_empty()).map(|target| target.target).collect();
    if pending.is_empty() {
        tracing::info!(event = "migrator.backup_skipped", "nothing is pending, so no backup is taken");
        let _ = writeln!(out, "backup: nothing pending, none taken");
        return Ok(None);
    }
    let taken = take(request.plan, config, &pending, settings, Reason::BeforeMigrate).await?;
    let _ = writeln!(out, "backup: {} ({})", taken.path.display(), describe_parts(&taken.manifest));
    for path in &taken.pruned {
        let _ = writeln!(out, "backup: deleted {} (keeping the newest {})", path.display(), settings.keep);
    }
    Ok(Some(taken))
}

/// `postgres 1234 bytes, clickhouse schema + FREEZE of 5 tables, kafka 3 topics`.
pub fn describe_parts(manifest: &Manifest) -> String {
    let mut parts: Vec<String> =
        manifest.parts.iter().map(|part: &Part| format!("{} {} bytes", part.target, part.bytes)).collect();
    for snapshot in &manifest.server_side {
        parts.push(format!("{} FREEZE of {} tables", snapshot.target, snapshot.tables.len()));
    }
    if parts.is_empty() {
        "empty".to_owned()
    } else {
        parts.join(", ")
    }
}

/// For `history -v`: the backup that preceded each run of `target`, as `(version, label)` for the
/// first migration the run applied. A backup precedes a run when it was taken before the
/// migration was applied and its manifest records that migration as not yet applied; the
/// history tables themselves are not changed for this, so a database migrated by an older
/// release reads the same.
pub fn preceding(listed: &[Listed], target: TargetName, entries: &[HistoryEntry]) -> Vec<(u64, String)> {
    let mut marks: Vec<(u64, String)> = Vec::new();
    for backup in listed {
        let Listed::Complete { manifest, .. } = backup else { continue };
        let Some(versions) = manifest.history.get(target.as_str()) else { continue };
        let Ok(taken) = chrono::DateTime::parse_from_rfc3339(&manifest.created_at) else { continue };
        let first = entries
            .iter()
            .filter(|entry| !versions.contains(&entry.version) && entry.applied_at >= taken)
            .min_by_key(|entry| (entry.applied_at, entry.version));
        if let Some(entry) = first {
            let label = format!("{} ({})", manifest.name, manifest.reason);
            match marks.iter_mut().find(|(version, _)| *version == entry.version) {
                // The newest backup before the run is the one that preceded it.
                Some(mark) => mark.1 = label,
                None => marks.push((entry.version, label)),
            }
        }
    }
    marks
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::targets::EntryState;
    use chrono::TimeZone;

    #[test]
    fn settings_come_from_the_flag_then_the_variable_then_the_default() {
        let empty = Environment::from_pairs(Vec::<(String, String)>::new());
        assert_eq!(Settings::load(&empty, None, None).expect("defaults"), Settings { dir: "backups".into(), keep: 10 });
        let set = Environment::from_pairs([(DIR_VARIABLE, "/var/backups/tfm"), (KEEP_VARIABLE, "3")]);
        assert_eq!(
            Settings::load(&set, None, None).expect("env"),
            Settings { dir: "/var/backups/tfm".into(), keep: 3 }
        );
        let flags = Settings::load(&set, Some(Path::new("here")), Some("0")).expect("flags");
        assert_eq!(flags, Settings { dir: "here".into(), keep: 0 });
        let bad = Settings::load(&empty, None, Some("ten")).expect_err("not a number");
        assert!(bad.is_usage() && bad.to_string().contains("--backup-keep"), "{bad}");
    }

    #[test]
    fn a_backup_marks_the_first_migration_applied_after_it() {
        let at = |minute| chrono::Utc.with_ymd_and_hms(2026, 12, 3, 16, minute, 0).single().expect("time");
        let entry = |version, minute| HistoryEntry {
            version,
            description: String::new(),
            checksum: String::new(),
            applied_at: at(minute),
            execution_ms: 1,
            state: EntryState::Applied,
            downgrade_sql: String::new(),
        };
        let entries = [entry(1, 0), entry(2, 0), entry(3, 10), entry(4, 10), entry(5, 30)];
        let backup = |name: &str, minute, versions: Vec<u64>| Listed::Complete {
            path: PathBuf::from(name),
            manifest: Manifest {
                format: 1,
                name: name.to_owned(),
                created_at: at(minute).to_rfc3339(),
                reason: "before migrate".into(),
                migrator_version: String::new(),
                plan_fingerprint: String::new(),
                history: BTreeMap::from([("postgres".to_owned(), versions)]),
                parts: Vec::new(),
                server_side: Vec::new(),
                not_included: Vec::new(),
            },
        };
        let listed = [backup("a", 5, vec![1, 2]), backup("b", 9, vec![1, 2]), backup("c", 20, vec![1, 2, 3, 4])];
        assert_eq!(
            preceding(&listed, TargetName::Postgres, &entries),
            vec![(3, "b (before migrate)".to_owned()), (5, "c (before migrate)".to_owned())]
        );
        assert!(preceding(&listed, TargetName::Clickhouse, &entries).is_empty());
    }
}
