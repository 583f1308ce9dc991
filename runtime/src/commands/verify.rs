//! `verify-downgrades`: proves on a scratch database that every downgrade undoes its upgrade,
//! rather than trusting that a downgrade file exists.
//!
//! On a database with an empty history it takes a schema dump D0, applies the plan's migrations
//! one at a time (dump Di after Vi), then walks down to base one version at a time, comparing
//! the dump after each downgrade of Vi with D(i-1), and up again one at a time, comparing with
//! Di (the downgrade left a database the upgrade still applies to, with the same result). The
//! first difference fails the run naming the migration, its downgrade file and the objects that
//! differ. Dumps are the targets' `schema_dump` (catalogs for PostgreSQL, `system.tables` and
//! `system.columns` for ClickHouse), `migration_history` left out.
//!
//! A downgrade that declares `-- migrator:no-op <reason>` is run but not compared: what its
//! upgrade left stays expected in every later comparison. A migration whose downgrade declares
//! `-- migrator:irreversible <reason>` is not crossed: the walk down stops above it, and the
//! migrations below it are reported as not verified. With `--keep-going` a downgrade that
//! differs is reported and the walk goes on (what it left behind is then expected further down,
//! so each difference is reported once); the run fails at the end with every broken downgrade.
//!
//! It refuses a database that has history: it applies and reverts every migration, so it only
//! runs where nothing matters. `--create-scratch` makes a `tfm_verify_<random>` database on the
//! configured server for the run and drops it afterwards, whatever the outcome, SIGINT and
//! SIGTERM included: a signal stops the proof at the next safe point (`targets::checkpoint`),
//! then the scratch database is dropped and the command exits 130/143. No run lock is taken:
//! nobody else migrates a scratch database.

use std::fmt;
use std::io::Write;
use std::time::Instant;

use super::versions::Session;
use super::CommandError;
use crate::config::Config;
use crate::plan::{Migration, Reversal, SqlTarget};
use crate::run::{self, Applied};
use crate::targets::checkpoint::Signals;
use crate::targets::clickhouse::{self, ClickHouseError, ClickHouseTarget};
use crate::targets::mongodb::{MongoError, MongoTarget};
use crate::targets::postgres::{self, PostgresError, PostgresTarget};
use crate::targets::{Checkpoint, Target, TargetName, VersionTarget, VersionedTarget};

/// How many differing lines a failure lists.
const MAX_DIFFERENCES: usize = 20;

/// Why the proof failed, beyond a target's own error.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error(
        "{target}: `{server}` already records {count} migrations in `migration_history` (up to V{current}); \
         verify-downgrades applies and reverts every migration, so it only runs on a scratch database with an \
         empty history: point it at one, or pass `--create-scratch`"
    )]
    NotScratch { target: TargetName, server: String, count: usize, current: u64 },
    #[error(
        "{path}: the downgrade of V{version} {description} does not undo its upgrade on {target}: the schema after it \
         differs from the one before the upgrade ({differences}); make the downgrade remove or restore exactly that"
    )]
    DowngradeDiffers {
        target: TargetName,
        version: u64,
        description: &'static str,
        /// The downgrade file.
        path: &'static str,
        differences: Differences,
    },
    #[error(
        "{path}: V{version} {description} applied again after the downgrades gives another schema on {target} than \
         its first run ({differences}); a downgrade left something behind that the schema dump does not show, which \
         this upgrade depends on"
    )]
    ReupgradeDiffers {
        target: TargetName,
        version: u64,
        description: &'static str,
        /// The upgrade file.
        path: &'static str,
        differences: Differences,
    },
    #[error(
        "{target}: {} migrations do not go down and up again cleanly: {}; each is listed above with its \
         differences", .errors.len(), files(.errors)
    )]
    Several { target: TargetName, errors: Vec<VerifyError> },
}

fn files(errors: &[VerifyError]) -> String {
    let names: Vec<String> = errors
        .iter()
        .map(|error| match error {
            VerifyError::DowngradeDiffers { path, .. } | VerifyError::ReupgradeDiffers { path, .. } => {
                format!("`{path}`")
            }
            other => other.to_string(),
        })
        .collect();
    names.join(", ")
}

/// What `verify-downgrades` does besides the proof's defaults.
#[derive(Clone, Copy, Debug, Default)]
pub struct VerifyOptions {
    /// Run on a database of its own made for the run.
    pub create_scratch: bool,
    /// Report every broken downgrade, not only the first.
    pub keep_going: bool,
}

/// The lines earlier steps left different on purpose (a declared no-op) or, with
/// `--keep-going`, by mistake: every later comparison expects them, so each difference is
/// reported once.
#[derive(Debug, Default)]
struct Residue {
    left_behind: std::collections::BTreeSet<String>,
    missing: std::collections::BTreeSet<String>,
}

impl Residue {
    /// The differences between `expected` and `actual` that no earlier step explains: what an
    /// earlier step left behind, and what it removed, are not reported again.
    fn compare(&self, expected: &str, actual: &str) -> Differences {
        let mut differences = Differences::between(expected, actual);
        differences.unexpected.retain(|line| !self.left_behind.contains(line));
        differences.missing.retain(|line| !self.missing.contains(line));
        differences
    }

    fn absorb(&mut self, differences: &Differences) {
        self.left_behind.extend(differences.unexpected.iter().cloned());
        self.missing.extend(differences.missing.iter().cloned());
    }
}

/// The lines of two schema dumps that only one of them has.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Differences {
    /// In the expected schema, missing from the actual one.
    pub missing: Vec<String>,
    /// In the actual schema only: left behind, or recreated differently.
    pub unexpected: Vec<String>,
}

impl Differences {
    /// `expected` and `actual` are dumps: sorted lines.
    pub fn between(expected: &str, actual: &str) -> Differences {
        let expected: std::collections::BTreeSet<&str> = expected.lines().collect();
        let actual: std::collections::BTreeSet<&str> = actual.lines().collect();
        Differences {
            missing: expected.difference(&actual).map(|line| (*line).to_owned()).collect(),
            unexpected: actual.difference(&expected).map(|line| (*line).to_owned()).collect(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.missing.is_empty() && self.unexpected.is_empty()
    }

    /// `- line` for what is missing, `+ line` for what should not be there, at most
    /// [`MAX_DIFFERENCES`] lines in all.
    pub fn lines(&self) -> Vec<String> {
        let missing = self.missing.iter().map(|line| format!("- {line}"));
        let unexpected = self.unexpected.iter().map(|line| format!("+ {line}"));
        let mut lines: Vec<String> = unexpected.chain(missing).take(MAX_DIFFERENCES).collect();
        let total = self.missing.len() + self.unexpected.len();
        if total > MAX_DIFFERENCES {
            lines.push(format!("… and {} more", total - MAX_DIFFERENCES));
        }
        lines
    }
}

impl fmt::Display for Differences {
    /// `left behind: `index …`; missing: `column …``, the first of each, with counts.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        for (label, lines) in [("left behind", &self.unexpected), ("missing", &self.missing)] {
            if let Some(first) = lines.first() {
                let more = if lines.len() > 1 { format!(" and {} more", lines.len() - 1) } else { String::new() };
                parts.push(format!("{label}: `{first}`{more}"));
            }
        }
        f.write_str(&parts.join("; "))
    }
}

/// A SQL target whose schema can be dumped.
#[allow(async_fn_in_trait)] // Used through generics only.
pub trait SchemaDump: VersionedTarget {
    async fn dump_schema(&mut self) -> Result<String, Self::Error>;
}

impl SchemaDump for PostgresTarget {
    async fn dump_schema(&mut self) -> Result<String, PostgresError> {
        self.schema_dump().await
    }
}

impl SchemaDump for MongoTarget {
    async fn dump_schema(&mut self) -> Result<String, MongoError> {
        self.schema_dump().await
    }
}

impl SchemaDump for ClickHouseTarget {
    async fn dump_schema(&mut self) -> Result<String, ClickHouseError> {
        self.schema_dump().await
    }
}

/// `migrator verify-downgrades`: the proof on each of `targets`, in order, stopping at the first
/// that fails. With `create_scratch`, each runs on a database of its own made for it.
pub async fn verify_downgrades(
    session: Session<'_>,
    targets: &[SqlTarget],
    options: VerifyOptions,
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    let checkpoint = Checkpoint::new(None, Signals::listen());
    for &target in targets {
        match target {
            SqlTarget::Postgres => verify_postgres(session, options, &checkpoint, out).await?,
            SqlTarget::ClickHouse => verify_clickhouse(session, options, &checkpoint, out).await?,
            SqlTarget::MongoDb => verify_mongodb(session, options, &checkpoint, out).await?,
        }
    }
    Ok(())
}

/// `target`, asking `checkpoint` before each step.
fn guarded<T: Target>(mut target: T, checkpoint: &Checkpoint) -> T {
    target.set_checkpoint(checkpoint.clone());
    target
}

async fn verify_postgres(
    session: Session<'_>,
    options: VerifyOptions,
    checkpoint: &Checkpoint,
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    let name = TargetName::Postgres;
    let configured = &session.config.postgres;
    if !options.create_scratch {
        let target = guarded(PostgresTarget::new(configured), checkpoint);
        return verify_on(target, configured.describe(), session, SqlTarget::Postgres, options, out).await;
    }
    // The health check first, so a server that is still starting is waited for as by `migrate`.
    connect(&mut PostgresTarget::new(configured), &configured.describe(), session.config).await?;
    let scratch = postgres::schema::create_scratch_database(configured)
        .await
        .map_err(|error| CommandError::read(name, "create a scratch database", &error))?;
    let address = scratch.describe();
    let _ = writeln!(out, "{name}: created scratch database `{}`", scratch.database);
    let target = guarded(PostgresTarget::new(&scratch), checkpoint);
    let result = verify_on(target, address, session, SqlTarget::Postgres, options, out).await;
    finish_scratch(out, name, &scratch.database, postgres::schema::drop_scratch_database(configured, &scratch).await);
    result
}

async fn verify_clickhouse(
    session: Session<'_>,
    options: VerifyOptions,
    checkpoint: &Checkpoint,
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    let name = TargetName::Clickhouse;
    let configured = &session.config.clickhouse;
    if !options.create_scratch {
        let target = guarded(ClickHouseTarget::new(configured), checkpoint);
        return verify_on(target, configured.describe(), session, SqlTarget::ClickHouse, options, out).await;
    }
    connect(&mut ClickHouseTarget::new(configured), &configured.describe(), session.config).await?;
    let scratch = clickhouse::schema::create_scratch_database(configured)
        .await
        .map_err(|error| CommandError::read(name, "create a scratch database", &error))?;
    let address = scratch.describe();
    let _ = writeln!(out, "{name}: created scratch database `{}`", scratch.database);
    let target = guarded(ClickHouseTarget::new(&scratch), checkpoint);
    let result = verify_on(target, address, session, SqlTarget::ClickHouse, options, out).await;
    finish_scratch(out, name, &scratch.database, clickhouse::schema::drop_scratch_database(&scratch).await);
    result
}

/// MongoDB: the scratch database is `tfm_verify_<random>` on the configured server, created by
/// the first write and dropped at the end.
async fn verify_mongodb(
    session: Session<'_>,
    options: VerifyOptions,
    checkpoint: &Checkpoint,
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    let name = TargetName::Mongodb;
    let configured = &session.config.mongodb;
    if !options.create_scratch {
        let target = guarded(MongoTarget::new(configured), checkpoint);
        return verify_on(target, configured.describe(), session, SqlTarget::MongoDb, options, out).await;
    }
    connect(&mut MongoTarget::new(configured), &configured.describe(), session.config).await?;
    let scratch =
        crate::config::MongoConfig { database: crate::targets::versioned::scratch_name(), ..configured.clone() };
    let address = scratch.describe();
    let _ = writeln!(out, "{name}: using scratch database `{}`", scratch.database);
    let target = guarded(MongoTarget::new(&scratch), checkpoint);
    let result = verify_on(target, address, session, SqlTarget::MongoDb, options, out).await;
    finish_scratch(out, name, &scratch.database, MongoTarget::new(&scratch).drop_database().await);
    result
}

/// Reports the scratch database's drop. A failed drop is only a warning: it leaves a database
/// behind but does not change what the proof showed.
fn finish_scratch<E: std::error::Error>(out: &mut dyn Write, name: TargetName, database: &str, dropped: Result<(), E>) {
    match dropped {
        Ok(()) => {
            let _ = writeln!(out, "{name}: dropped scratch database `{database}`");
        }
        Err(error) => tracing::warn!(
            event = "verify.scratch_left",
            target = name.as_str(),
            database,
            error = run::error_chain(&error),
            "{name}: could not drop the scratch database `{database}`; drop it by hand"
        ),
    }
}

/// The proof on one database (see the module doc).
async fn verify_on<T: SchemaDump>(
    mut target: T,
    address: String,
    session: Session<'_>,
    sql_target: SqlTarget,
    options: VerifyOptions,
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    let name = target.name();
    let started = Instant::now();
    connect(&mut target, &address, session.config).await?;
    refuse_unless_scratch(&mut target, &address).await?;
    let migrations = session.plan.migrations(sql_target);
    if migrations.is_empty() {
        let _ = writeln!(out, "{name}: the plan has no migrations; nothing to verify");
        return Ok(());
    }
    let _ = writeln!(out, "{name}: verifying {} downgrades on `{address}`", migrations.len());
    let dumps = upgrade_one_by_one(&mut target, session, migrations, out).await?;
    let mut findings = Vec::new();
    let mut residue = Residue::default();
    let mut lowest_undone = migrations.len();
    for (index, migration) in migrations.iter().enumerate().rev() {
        if let Reversal::Irreversible { reason } = migration.reversal {
            let _ = writeln!(
                out,
                "{name}: V{} {} down: declared irreversible ({reason}); not crossed, so V{} and below are not verified",
                migration.version, migration.description, migration.version
            );
            break;
        }
        let to =
            index.checked_sub(1).map_or(VersionTarget::Base, |below| VersionTarget::Version(migrations[below].version));
        target
            .downgrade_to(session.plan, to)
            .await
            .map_err(|failure| CommandError::failed(name, "verify-downgrades (downgrade)", failure))?;
        lowest_undone = index;
        let differences = residue.compare(&dumps[index], &dump(&mut target).await?);
        if let Reversal::NoOp { reason } = migration.reversal {
            let _ = writeln!(
                out,
                "{name}: V{} {} down: declared no-op ({reason}); schema not compared",
                migration.version, migration.description
            );
            residue.absorb(&differences);
            continue;
        }
        step(out, name, "down", migration, &differences);
        if !differences.is_empty() {
            residue.absorb(&differences);
            let error = VerifyError::DowngradeDiffers {
                target: name,
                version: migration.version,
                description: migration.description,
                path: migration.downgrade.path,
                differences,
            };
            found(out, &mut findings, error, options)?;
        }
    }
    for (index, migration) in migrations.iter().enumerate().skip(lowest_undone) {
        upgrade_one(&mut target, session, migration).await?;
        let differences = Differences::between(&dumps[index + 1], &dump(&mut target).await?);
        step(out, name, "up again", migration, &differences);
        if !differences.is_empty() {
            let error = VerifyError::ReupgradeDiffers {
                target: name,
                version: migration.version,
                description: migration.description,
                path: migration.upgrade.path,
                differences,
            };
            found(out, &mut findings, error, options)?;
        }
    }
    match findings.len() {
        0 => {}
        1 => return Err(findings.remove(0).into()),
        _ => return Err(VerifyError::Several { target: name, errors: findings }.into()),
    }
    let _ = writeln!(
        out,
        "{name}: every downgrade undoes its upgrade ({} migrations, down and up again, {} ms)",
        migrations.len(),
        crate::targets::versioned::elapsed_ms(started)
    );
    Ok(())
}

/// Prints a difference under its step; fails at once unless `--keep-going`, which collects it.
fn found(
    out: &mut dyn Write,
    findings: &mut Vec<VerifyError>,
    error: VerifyError,
    options: VerifyOptions,
) -> Result<(), CommandError> {
    if let VerifyError::DowngradeDiffers { differences, .. } | VerifyError::ReupgradeDiffers { differences, .. } =
        &error
    {
        for line in differences.lines() {
            let _ = writeln!(out, "    {line}");
        }
    }
    if !options.keep_going {
        return Err(error.into());
    }
    findings.push(error);
    Ok(())
}

/// Applies each migration in turn, returning the dump before the first and after each one.
async fn upgrade_one_by_one<T: SchemaDump>(
    target: &mut T,
    session: Session<'_>,
    migrations: &[Migration],
    out: &mut dyn Write,
) -> Result<Vec<String>, CommandError> {
    let mut dumps = vec![dump(target).await?];
    for migration in migrations {
        upgrade_one(target, session, migration).await?;
        dumps.push(dump(target).await?);
        step(out, target.name(), "up", migration, &Differences::default());
    }
    Ok(dumps)
}

async fn upgrade_one<T: SchemaDump>(
    target: &mut T,
    session: Session<'_>,
    migration: &Migration,
) -> Result<(), CommandError> {
    let name = target.name();
    target
        .upgrade_to(session.plan, Some(migration.version))
        .await
        .map_err(|failure| CommandError::failed(name, "verify-downgrades (upgrade)", failure))?;
    Ok(())
}

async fn dump<T: SchemaDump>(target: &mut T) -> Result<String, CommandError> {
    let name = target.name();
    target.dump_schema().await.map_err(|error| CommandError::read(name, "dump the schema", &error))
}

async fn refuse_unless_scratch<T: SchemaDump>(target: &mut T, address: &str) -> Result<(), CommandError> {
    let name = target.name();
    let entries =
        target.history_entries().await.map_err(|error| CommandError::read(name, "read the history", &error))?;
    match entries.last() {
        None => Ok(()),
        Some(last) => Err(VerifyError::NotScratch {
            target: name,
            server: address.to_owned(),
            count: entries.len(),
            current: last.version,
        }
        .into()),
    }
}

/// The health check of `migrate`, retried up to `--wait`.
async fn connect<T: Target>(target: &mut T, address: &str, config: &Config) -> Result<(), CommandError> {
    run::log_started(target.name(), address);
    run::wait_for(target, address, config.wait, Instant::now(), &Applied::default()).await?;
    Ok(())
}

/// `postgres: V3 orders_indexes down: schema as before its upgrade`, and its `verify.step` event.
fn step(out: &mut dyn Write, name: TargetName, direction: &str, migration: &Migration, differences: &Differences) {
    let outcome = match (direction, differences.is_empty()) {
        ("up", _) => "applied",
        ("down", true) => "schema as before its upgrade",
        ("down", false) => "SCHEMA DIFFERS from before its upgrade",
        (_, true) => "schema as after its first upgrade",
        (_, false) => "SCHEMA DIFFERS from after its first upgrade",
    };
    tracing::info!(
        event = "verify.step",
        target = name.as_str(),
        version = migration.version,
        direction,
        matches = differences.is_empty(),
        "{name}: V{} {} {direction}: {outcome}",
        migration.version,
        migration.description
    );
    let _ = writeln!(out, "{name}: V{} {} {direction}: {outcome}", migration.version, migration.description);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn differences_list_what_is_left_behind_and_what_is_missing() {
        let before = "column a\ntable t\n";
        let after = "column a\nindex i\ntable t\n";
        let differences = Differences::between(before, after);
        assert_eq!(differences.unexpected, ["index i"]);
        assert!(differences.missing.is_empty());
        assert_eq!(differences.to_string(), "left behind: `index i`");
        assert_eq!(differences.lines(), ["+ index i"]);
        let reverse = Differences::between(after, before);
        assert_eq!(reverse.to_string(), "missing: `index i`");
        assert!(Differences::between(before, before).is_empty());
    }

    #[test]
    fn residue_expects_what_earlier_steps_left_so_each_difference_is_reported_once() {
        let mut residue = Residue::default();
        residue.absorb(&Differences::between("table a\n", "table a\ntable b\n"));
        assert!(residue.compare("table a\n", "table a\ntable b\n").is_empty());
        let later = residue.compare("", "table a\ntable b\nindex c\n");
        assert_eq!(later.unexpected, ["index c", "table a"]);
        // What was left behind may go later without being reported as missing.
        assert!(residue.compare("table a\n", "table a\n").is_empty());
    }

    #[test]
    fn long_differences_are_cut() {
        let after: String = (0..30).map(|index| format!("line {index:02}\n")).collect();
        let lines = Differences::between("", &after).lines();
        assert_eq!(lines.len(), MAX_DIFFERENCES + 1);
        assert_eq!(lines.last().map(String::as_str), Some("… and 10 more"));
        assert_eq!(Differences::between("", &after).to_string(), "left behind: `line 00` and 29 more");
    }
}
