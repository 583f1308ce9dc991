//! `migrator backup` (a backup now), `migrator backups` (the list) and `migrator restore
//! <backup>`, plus the flags `migrate --backup` shares with them. The backups themselves are
//! `crate::backup`'s; this module is what the operator sees.
//!
//! `restore` cannot make things worse: it refuses a backup whose files do not match their
//! manifest, asks on a terminal (`--yes` elsewhere) before taking the run lock, takes a safety
//! backup of the current state, and restores PostgreSQL in one transaction (a failure leaves
//! the database as it was). What it cannot restore by itself (ClickHouse tables and FROZEN data,
//! Kafka topics) it prints as steps.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args;

use super::confirm::Confirmation;
use super::{lock, CommandError};
use crate::backup::folder::{self, Listed};
use crate::backup::{self, BackupError, Reason, Settings};
use crate::cli::{ConnectionArgs, LockArgs};
use crate::config::Config;
use crate::plan::Plan;
use crate::targets::{SafePoint, TargetName};

/// `--backup-dir`, shared by every command that reads or writes backups.
#[derive(Debug, Args)]
#[command(next_help_heading = "Backups")]
pub struct BackupDirArgs {
    /// The folder holding one sub-folder per backup [default: backups] [env: MIGRATOR_BACKUP_DIR]
    #[arg(long, value_name = "DIR")]
    pub backup_dir: Option<PathBuf>,
}

/// `migrate --backup` and its settings.
#[derive(Debug, Args)]
#[command(next_help_heading = "Backups")]
pub struct MigrateBackupArgs {
    /// Before the first change, back up the servers that have something pending (PostgreSQL with
    /// pg_dump, ClickHouse schema + FREEZE, Kafka topic configs); no backup when nothing is
    /// pending. A failed backup stops the run before anything changes.
    #[arg(long, conflicts_with = "dry_run")]
    pub backup: bool,

    #[command(flatten)]
    pub dir: BackupDirArgs,

    /// How many backups to keep: older ones are deleted after each new one (0 keeps all)
    /// [default: 10] [env: MIGRATOR_BACKUP_KEEP]
    #[arg(long, value_name = "N")]
    pub backup_keep: Option<String>,
}

/// `migrator backup`.
#[derive(Debug, Args)]
pub struct BackupArgs {
    /// Only the servers of these targets [default: all]
    #[arg(value_enum, value_name = "TARGET")]
    pub targets: Vec<TargetName>,

    #[command(flatten)]
    pub dir: BackupDirArgs,

    /// How many backups to keep: older ones are deleted after this one (0 keeps all) [default:
    /// 10] [env: MIGRATOR_BACKUP_KEEP]
    #[arg(long, value_name = "N")]
    pub backup_keep: Option<String>,

    #[command(flatten)]
    pub connection: ConnectionArgs,

    #[command(flatten)]
    pub lock: LockArgs,
}

/// `migrator backups`.
#[derive(Debug, Args)]
pub struct BackupsArgs {
    #[command(flatten)]
    pub dir: BackupDirArgs,
}

/// `migrator restore`.
#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// The backup: its name in the backup folder (as `migrator backups` prints it) or its path
    #[arg(value_name = "BACKUP")]
    pub backup: String,

    /// Do not ask for confirmation (required when stdin is not a terminal)
    #[arg(short, long)]
    pub yes: bool,

    #[command(flatten)]
    pub dir: BackupDirArgs,

    #[command(flatten)]
    pub connection: ConnectionArgs,

    #[command(flatten)]
    pub lock: LockArgs,
}

pub const BACKUP_AFTER_HELP: &str = "\
Examples:
  migrator backup                            every server: PostgreSQL, ClickHouse, Kafka topic configs
  migrator backup postgres --backup-dir /var/backups/tfm
  migrator migrate --backup                  the same, automatically, only when something is pending

Each backup is a folder named by UTC time and plan fingerprint, with manifest.json (sizes, SHA-256,
history versions). See README \"Backups\" for what is and is not in it.";

pub const RESTORE_AFTER_HELP: &str = "\
Examples:
  migrator backups                           choose one
  migrator restore 2026-12-03T16-45-00.123Z-3f2a9c1b7d04
  migrator restore backups/2026-12-03T16-45-00.123Z-3f2a9c1b7d04 --yes   in a script

Refuses a backup whose files do not match its manifest. Takes a safety backup of the current state
first (printed; restore it to undo the restore). PostgreSQL is brought back to exactly the backup's
schema and rows, history included, in one transaction. ClickHouse and Kafka are not changed: the
steps to restore them are printed.";

/// The settings of `migrate --backup`, or `None` without `--backup`.
pub fn migrate_settings(
    environment: &crate::config::Environment,
    args: &MigrateBackupArgs,
) -> Result<Option<Settings>, BackupError> {
    if !args.backup {
        return Ok(None);
    }
    Settings::load(environment, args.dir.backup_dir.as_deref(), args.backup_keep.as_deref()).map(Some)
}

/// `migrator backup`: under the run lock, like a migration, so it never catches one half-way.
pub async fn backup(
    plan: &Plan,
    config: &Config,
    settings: &Settings,
    targets: &[TargetName],
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    let guard = lock::acquire(config, targets).await?;
    let working = guard.working_config(config);
    let taken = backup::take(plan, &working, targets, settings, Reason::OnDemand).await;
    guard.release().await;
    let taken = taken?;
    let _ = writeln!(out, "backup: {} ({})", taken.path.display(), backup::describe_parts(&taken.manifest));
    for path in &taken.pruned {
        let _ = writeln!(out, "backup: deleted {} (keeping the newest {})", path.display(), settings.keep);
    }
    Ok(())
}

/// `migrator backups`: complete backups oldest first, then any incomplete folder, marked.
pub fn list(settings: &Settings, out: &mut dyn Write) -> Result<(), BackupError> {
    let listed = folder::list(&settings.dir)?;
    if listed.is_empty() {
        let _ = writeln!(out, "no backups in {}", settings.dir.display());
        return Ok(());
    }
    let _ = writeln!(out, "backups in {} (oldest first):", settings.dir.display());
    for backup in &listed {
        match backup {
            Listed::Complete { manifest, .. } => {
                let history: Vec<String> = manifest
                    .history
                    .iter()
                    .map(|(target, versions)| match versions.last() {
                        Some(version) => format!("{target} V{version}"),
                        None => format!("{target} empty"),
                    })
                    .collect();
                let _ = writeln!(
                    out,
                    "  {}  {}; {}; {}",
                    manifest.name,
                    manifest.reason,
                    if history.is_empty() { "no history".to_owned() } else { history.join(", ") },
                    backup::describe_parts(manifest)
                );
            }
            Listed::Incomplete { path, why } => {
                let _ = writeln!(out, "  INCOMPLETE {} ({why}; it cannot be restored, delete it)", path.display());
            }
        }
    }
    Ok(())
}

/// `migrator restore`.
pub async fn restore(
    plan: &Plan,
    config: &Config,
    settings: &Settings,
    given: &str,
    yes: bool,
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    // Nothing connects before the backup is known to be intact and the go-ahead possible.
    let (path, manifest) = folder::resolve(&settings.dir, given)?;
    manifest.verify(&path)?;
    let confirmation = Confirmation::for_command("restore", RESTORES, yes)?;
    let targets: Vec<TargetName> =
        [("postgres", TargetName::Postgres), ("clickhouse", TargetName::Clickhouse), ("kafka", TargetName::Kafka)]
            .into_iter()
            .filter(|(name, _)| manifest.history.contains_key(*name) || manifest.part(name).is_some())
            .map(|(_, target)| target)
            .collect();
    let mut what = format!("restore {} ({}, taken {}):", manifest.name, manifest.reason, manifest.created_at);
    if manifest.part("postgres").is_some() {
        what.push_str(&format!(
            "\n  PostgreSQL `{}` is replaced by the backup's schema and rows (history V{}); a safety backup is taken first",
            config.postgres.describe(),
            manifest.head("postgres").unwrap_or(0)
        ));
    }
    if manifest.plan_fingerprint != plan.fingerprint {
        what.push_str(&format!(
            "\n  the backup was taken with plan {}, this binary has {}: afterwards `migrator status` shows what differs",
            manifest.plan_fingerprint, plan.fingerprint
        ));
    }
    if manifest.part("clickhouse").is_some() || manifest.part("kafka").is_some() {
        what.push_str("\n  ClickHouse and Kafka are not changed: the steps to restore them are printed");
    }
    confirmation.obtain(&what)?;
    // A restore changes PostgreSQL only (ClickHouse's and Kafka's steps are printed).
    let changed: &[TargetName] = if manifest.part("postgres").is_some() { &[TargetName::Postgres] } else { &[] };
    let guard = lock::acquire(config, changed).await?;
    let working = guard.working_config(config);
    let result = restore_locked(plan, &working, settings, &path, &manifest, &targets, &guard, out).await;
    guard.release().await;
    result
}

const RESTORES: &str = "replaces the database's schema and rows with a backup's";

#[allow(clippy::too_many_arguments)]
async fn restore_locked(
    plan: &Plan,
    config: &Config,
    settings: &Settings,
    path: &Path,
    manifest: &backup::manifest::Manifest,
    targets: &[TargetName],
    guard: &lock::Guard,
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    let safety = backup::take(plan, config, targets, settings, Reason::BeforeRestore(manifest.name.clone())).await?;
    let _ = writeln!(
        out,
        "safety backup: {} ({}); `migrator restore {}` undoes this restore",
        safety.path.display(),
        backup::describe_parts(&safety.manifest),
        safety.manifest.name
    );
    if manifest.part("postgres").is_some() {
        guard.checkpoint().reached(SafePoint::Recorded).await.map_err(|stop| CommandError::Stopped {
            target: TargetName::Postgres,
            action: "restore",
            error: stop.to_string(),
            code: stop.exit_code(),
            done: super::Done::default(),
        })?;
        backup::postgres::restore(&config.postgres, path).await?;
        let versions = manifest.history.get("postgres").cloned().unwrap_or_default();
        let _ = writeln!(
            out,
            "postgres: restored to {} (history {})",
            manifest.name,
            match versions.last() {
                Some(version) => format!("at V{version}"),
                None => "empty".to_owned(),
            }
        );
        tracing::info!(
            event = "migrator.restored",
            target = "postgres",
            backup = manifest.name.as_str(),
            "postgres restored from {}",
            manifest.name
        );
    }
    if manifest.part("clickhouse").is_some() {
        let snapshot = manifest.server_side.iter().find(|snapshot| snapshot.target == "clickhouse");
        let steps = backup::clickhouse::restore_steps(&config.clickhouse, path, snapshot).await?;
        if steps.is_empty() {
            let _ = writeln!(out, "clickhouse: the schema matches the backup; nothing to restore");
        } else {
            let _ = writeln!(out, "clickhouse: not restored automatically; to bring it back, by hand:");
            for step in steps {
                let _ = writeln!(out, "  - {step}");
            }
        }
    }
    if manifest.part("kafka").is_some() {
        let _ = writeln!(
            out,
            "kafka: not restored: {} holds the topics' configs and partition counts at backup time (never their messages); \
             compare with `migrator status kafka`",
            path.join(backup::kafka::TOPICS_FILE).display()
        );
    }
    Ok(())
}
