//! The rules for SQL migrations: folder layout, file names, versions, upgrade/downgrade pairs and
//! what each script holds. [`check`] reads as the list of rules and turns the files into
//! [`Migration`]s.
//!
//! Each target (`postgres`, `clickhouse`) has an `upgrade` and a `downgrade` folder. A migration
//! is a pair of files with the same name, one in each:
//!
//! ```text
//! migrations/postgres/upgrade/V0002-orders.sql      -- migrator:no-transaction   (optional)
//!                                                   CREATE INDEX CONCURRENTLY ...;
//! migrations/postgres/downgrade/V0002-orders.sql    DROP INDEX CONCURRENTLY ...;
//! ```
//!
//! The name is `V<version>-<description>.sql`: the version is a number (leading zeros do not
//! count, so `V9` and `V09` are the same version), the description any text. A script whose
//! first line is exactly `-- migrator:no-transaction` runs outside a transaction. The other
//! directive, `-- migrator:allow-destructive <reason>`, marks a statement that `lint` would
//! otherwise warn about.
//!
//! A downgrade that deliberately undoes nothing says so, with a reason, as its whole content:
//!
//! ```text
//! migrations/postgres/downgrade/V0007-backfill.sql    -- migrator:no-op the backfilled values are harmless
//! migrations/postgres/downgrade/V0008-split.sql       -- migrator:irreversible the old column is gone
//! ```
//!
//! `no-op`: `down` runs nothing and removes the history row, and `verify-downgrades` reports it
//! as declared. `irreversible`: `down` refuses to cross the migration and prints the reason.
//! Both live in the downgrade file, not the upgrade, for two reasons: every upgrade still has its
//! downgrade (a missing file stays a mistake, never a declaration), and declaring an applied
//! upgrade irreversible later does not change the upgrade's checksum, which history compares.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use crate::data::{self, DataFile};
use crate::diag::{DidYouMean, Location, Problems};
use crate::lint::{self, ALLOW_DESTRUCTIVE};
use crate::model::{DataSource, Dialect, Migration, Reversal, Script};
use crate::placeholder;
use crate::source::{
    self, Direction, Inputs, MigrationFile, DATA_FOLDER, DATA_MIGRATIONS_DIR, DIALECTS, MIGRATIONS_DIR,
};
use crate::sql::{self, Construct};
use crate::{cluster, other_tools, transaction};

/// The first line that makes a script run outside a transaction.
pub const NO_TRANSACTION: &str = "-- migrator:no-transaction";

/// The whole content of a downgrade that deliberately changes nothing; the reason follows it.
pub const NO_OP: &str = "-- migrator:no-op";

/// The whole content of the downgrade of an upgrade that cannot be undone; the reason follows it.
pub const IRREVERSIBLE: &str = "-- migrator:irreversible";

/// The largest version of each target: PostgreSQL's history column is a `BIGINT`, ClickHouse's
/// a `UInt64`.
fn max_version(dialect: Dialect) -> u64 {
    match dialect {
        Dialect::Postgres => i64::MAX.unsigned_abs(),
        Dialect::ClickHouse => u64::MAX,
    }
}

/// One problem with the SQL migrations.
#[derive(Debug, thiserror::Error)]
pub enum MigrationError {
    #[error(
        "{at}: `{name}` is not a migration file name; name it `V<version>-<description>.{extension}`, \
         e.g. `V0001-create_users.{extension}`{hint}, or move it out of `migrations/`"
    )]
    BadFileName { at: Location, name: String, extension: &'static str, hint: DidYouMean },
    #[error(
        "{at}: version `{digits}` is too large for the history's `version` column, which holds at most `{max}`; \
         rename the file in both folders (upgrade and downgrade) with a smaller version, e.g. `{suggestion}`, \
         the next one after the highest here"
    )]
    VersionTooLarge { at: Location, digits: String, max: u64, suggestion: String },
    #[error(
        "{at}: `{name}` is a golang-migrate/sqlx name (`<version>_<description>.up.sql` and `.down.sql`); here a \
         migration is one name in two folders: this file goes to `{expected}`, and its {other} to `{sibling}`"
    )]
    PairName { at: Location, name: String, expected: String, other: &'static str, sibling: String },
    #[error("{at}: version `0` stands for the database before any migration; start at `V0001`")]
    VersionZero { at: Location },
    #[error("{at}: version `{version}` is used by {}; give each migration its own version", backticked(.files))]
    DuplicateVersion { at: Location, version: u64, files: Vec<String> },
    #[error("{upgrade}: upgrade has no downgrade; {}", downgrade_fix(.expected, .same_version))]
    MissingDowngrade { upgrade: Location, expected: String, same_version: Option<String> },
    #[error("{downgrade}: downgrade has no upgrade; add `{expected}` or delete this file")]
    MissingUpgrade { downgrade: Location, expected: String },
    #[error("{at}: upgrade holds no SQL statement, only blank space or comments; write the change, or delete it and its downgrade")]
    EmptyUpgrade { at: Location },
    #[error(
        "{at}: downgrade holds no SQL statement, only blank space or comments; write the SQL that undoes the upgrade"
    )]
    EmptyDowngrade { at: Location },
    #[error("{at}: {construct} opened here is never closed; add the closing `{}`", .construct.closer())]
    Unterminated { at: Location, construct: Construct },
    #[error("{at}: `{directive}` works only at the very start of the first line; move it there")]
    MisplacedDirective { at: Location, directive: &'static str },
    #[error(
        "{at}: `{directive}` is not a migrator directive; write `{NO_TRANSACTION}` alone on the first line, \
         `{ALLOW_DESTRUCTIVE} <reason>` on a destructive statement, or `{NO_OP} <reason>` or \
         `{IRREVERSIBLE} <reason>` as a whole downgrade"
    )]
    UnknownDirective { at: Location, directive: String },
    #[error("{at}: `{directive}` gives no reason; write why after it, e.g. `{directive} <why nothing is undone>`")]
    DirectiveWithoutReason { at: Location, directive: &'static str },
    #[error(
        "{at}: `{directive}` declares the downgrade, so it belongs as the whole content of `{downgrade}`, \
         not in the upgrade"
    )]
    DirectiveInUpgrade { at: Location, directive: &'static str, downgrade: String },
    #[error(
        "{at}: `{directive}` declares that this downgrade runs nothing, but the file holds statements; \
         delete the statements, or the directive"
    )]
    DirectiveWithStatements { at: Location, directive: &'static str },
    #[error(
        "{at}: does not belong in `{MIGRATIONS_DIR}`, which holds only the `postgres`, `clickhouse` and `mongodb` folders{hint}"
    )]
    StrayInMigrations { at: Location, hint: DidYouMean },
    #[error("{at}: does not belong in `{folder}`, which holds only the {} folders{hint}", backticked(.allowed))]
    StrayInTarget { at: Location, folder: String, allowed: Vec<String>, hint: DidYouMean },
    #[error("{at}: data migrations in Rust exist for PostgreSQL only; move its files to `{DATA_MIGRATIONS_DIR}`")]
    DataOutsidePostgres { at: Location },
    #[error("{at}: migrations are not read from subfolders; move its files up into `{folder}`")]
    NestedFolder { at: Location, folder: String },
}

fn backticked(files: &[String]) -> String {
    let quoted: Vec<String> = files.iter().map(|file| format!("`{file}`")).collect();
    match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => quoted.concat(),
    }
}

fn downgrade_fix(expected: &str, same_version: &Option<String>) -> String {
    match same_version {
        Some(path) => format!("rename `{path}`, which has the same version, to `{expected}`"),
        None => format!("create `{expected}`"),
    }
}

/// The valid migrations of each target, by ascending version.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Migrations {
    pub postgres: Vec<Migration>,
    pub clickhouse: Vec<Migration>,
}

/// Applies every migration rule to `inputs`, pushing one [`MigrationError`] per problem (all of
/// them, not only the first), and returns the migrations that passed. `data` are the PostgreSQL
/// data migrations (`data::check`), which share PostgreSQL's version sequence.
pub fn check(inputs: &Inputs, data: &[DataFile], problems: &mut Problems) -> Migrations {
    check_layout(&inputs.stray_entries, problems);
    let migrations = Migrations {
        postgres: check_target(inputs, Dialect::Postgres, data, problems),
        clickhouse: check_target(inputs, Dialect::ClickHouse, &[], problems),
    };
    cluster::check(&migrations.clickhouse, problems);
    migrations
}

/// Anything under `migrations/` outside the layout is a mistake (a misspelt target folder, a
/// migration saved one level too high, a subfolder), and skipping it would drop migrations
/// without a word.
fn check_layout(stray_entries: &[String], problems: &mut Problems) {
    for path in stray_entries {
        let at = Location::file(path.as_str());
        let (folder, name) = path.rsplit_once('/').unwrap_or(("", path));
        let error = match folder.matches('/').count() {
            0 => MigrationError::StrayInMigrations {
                at,
                hint: DidYouMean::find(
                    name,
                    DIALECTS.map(Dialect::dir).into_iter().chain([crate::mongodb::TARGET_FOLDER]),
                ),
            },
            1 if name == DATA_FOLDER => MigrationError::DataOutsidePostgres { at },
            1 => {
                let mut allowed: Vec<&str> = Direction::ALL.map(Direction::dir).to_vec();
                if folder == format!("{MIGRATIONS_DIR}/{}", Dialect::Postgres.dir()) {
                    allowed.push(DATA_FOLDER);
                }
                MigrationError::StrayInTarget {
                    at,
                    folder: folder.to_string(),
                    hint: DidYouMean::find(name, allowed.iter().copied()),
                    allowed: allowed.into_iter().map(str::to_owned).collect(),
                }
            }
            _ => MigrationError::NestedFolder { at, folder: folder.to_string() },
        };
        problems.push(error);
    }
}

fn check_target(inputs: &Inputs, dialect: Dialect, data: &[DataFile], problems: &mut Problems) -> Vec<Migration> {
    let layout = Layout {
        dir: format!("{MIGRATIONS_DIR}/{}", dialect.dir()),
        extension: "sql",
        max_version: max_version(dialect),
    };
    let files = inputs.migration_files.iter().filter(|file| file.dialect == dialect);
    let data_claims = data.iter().filter_map(|file| {
        let declaration = file.declaration.as_ref()?;
        let name = file.path.rsplit('/').next().unwrap_or(&file.path);
        Some(Versioned { version: declaration.version, at: declaration.at.clone(), name })
    });
    let nested = Direction::ALL.map(|direction| has_nested_folder(inputs, dialect, direction));
    let paired =
        pair_files(&layout, files, data_claims, nested, problems, |file, problems| read_script(inputs, file, problems));
    let mut migrations: Vec<Migration> = paired
        .pairs
        .into_iter()
        .map(|pair| {
            let ((upgrade, _), (downgrade, reversal)) = (pair.upgrade, pair.downgrade);
            Migration {
                version: pair.version,
                description: pair.description,
                checksum: source::sha256_hex(&upgrade.sql),
                upgrade,
                downgrade,
                reversal,
                data: None,
            }
        })
        .collect();
    migrations.extend(
        data.iter()
            .filter(|file| file.declaration.as_ref().is_some_and(|d| !paired.duplicated.contains(&d.version)))
            .filter_map(|file| data_migration(inputs, file)),
    );
    migrations.sort_by_key(|migration| migration.version);
    migrations
}

/// Where one target's migrations live and how their files are named. The SQL targets and
/// MongoDB share one set of name and pairing rules ([`pair_files`]); only this differs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    /// The target's folder relative to the sources root, e.g. `migrations/postgres`.
    pub dir: String,
    /// The one extension a migration file has, without the dot, e.g. `sql`.
    pub extension: &'static str,
    /// The largest version that target's history can record.
    pub max_version: u64,
}

impl Layout {
    /// The folder of upgrades or downgrades, e.g. `migrations/postgres/upgrade`.
    pub fn folder(&self, direction: Direction) -> String {
        format!("{}/{}", self.dir, direction.dir())
    }

    fn sibling(&self, name: &str, direction: Direction) -> String {
        format!("{}/{name}", self.folder(direction))
    }
}

/// A file of an upgrade or downgrade folder, as the pairing rules see it.
pub trait PairedFile {
    fn direction(&self) -> Direction;
    /// The file name alone, e.g. `V0001-create_users.sql`.
    fn name(&self) -> &str;
    /// Relative to the sources root, `/`-separated.
    fn path(&self) -> &str;
}

impl PairedFile for MigrationFile {
    fn direction(&self) -> Direction {
        self.direction
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn path(&self) -> &str {
        &self.path
    }
}

/// One upgrade and its downgrade, as read by the caller.
pub struct Pair<T> {
    pub version: u64,
    pub description: String,
    pub upgrade: T,
    pub downgrade: T,
}

/// What [`pair_files`] found: the complete pairs, by file name, and the versions claimed more
/// than once (which make no migration).
pub struct Paired<T> {
    pub pairs: Vec<Pair<T>>,
    pub duplicated: BTreeSet<u64>,
}

/// Applies the name and pairing rules to one target's `files` and reads each file with `read`
/// (which reports its own problems and returns `None` for a file that cannot be part of the
/// plan). Every file is read, paired or not, so that one build reports all problems. `claims`
/// are other migrations sharing the version sequence (PostgreSQL's data migrations); `nested`
/// says, per direction (upgrade, downgrade), whether a subfolder hides files, in which case the
/// other folder's partners are not called orphans until the layout error is fixed.
pub fn pair_files<'a, F: PairedFile + 'a, T>(
    layout: &Layout,
    files: impl Iterator<Item = &'a F> + Clone,
    claims: impl Iterator<Item = Versioned<'a>>,
    nested: [bool; 2],
    problems: &mut Problems,
    mut read: impl FnMut(&'a F, &mut Problems) -> Option<T>,
) -> Paired<T> {
    let [nested_upgrade, nested_downgrade] = nested;
    let upgrades = named_files(layout, files.clone(), Direction::Upgrade, problems);
    let downgrades = named_files(layout, files, Direction::Downgrade, problems);
    let claims: Vec<Versioned<'a>> = claims.collect();
    check_too_large(layout, &upgrades, &downgrades, &claims, problems);
    let versions = upgrades
        .files
        .iter()
        .map(|named| Versioned {
            version: named.version,
            at: Location::file(named.file.path()),
            name: named.file.name(),
        })
        .chain(claims);
    let duplicated = check_unique_versions(versions, problems);
    // A subfolder of `upgrade/` hides the upgrades in it; until the layout error is fixed, their
    // downgrades would be reported as orphans and the message would say to delete them.
    if !nested_upgrade {
        check_every_downgrade_has_upgrade(layout, &upgrades, &downgrades, problems);
    }
    let mut downgrade_scripts: HashMap<&str, Option<T>> =
        downgrades.files.iter().map(|downgrade| (downgrade.file.name(), read(downgrade.file, problems))).collect();
    let mut pairs = Vec::new();
    for upgrade in &upgrades.files {
        let upgrade_script = read(upgrade.file, problems);
        let Some(downgrade_script) = downgrade_scripts.remove(upgrade.file.name()) else {
            if !nested_downgrade {
                problems.push(missing_downgrade(layout, upgrade, &upgrades, &downgrades));
            }
            continue;
        };
        if let (Some(upgrade_script), Some(downgrade_script)) = (upgrade_script, downgrade_script) {
            if !duplicated.contains(&upgrade.version) {
                pairs.push(Pair {
                    version: upgrade.version,
                    description: upgrade.description.clone(),
                    upgrade: upgrade_script,
                    downgrade: downgrade_script,
                });
            }
        }
    }
    for (file, _) in upgrades.too_large.iter().chain(&downgrades.too_large) {
        read(file, problems);
    }
    pairs.sort_by_key(|pair| pair.version);
    Paired { pairs, duplicated }
}

/// A file whose name passed [`parse_name`].
struct Named<'a, F> {
    file: &'a F,
    version: u64,
    description: String,
}

/// The well-named files of one upgrade or downgrade folder, with a set of their names so that
/// pairing stays linear for thousands of migrations, and the files whose only fault is a version
/// too large for history (still read, so that their other problems are reported in this build).
struct Folder<'a, F> {
    files: Vec<Named<'a, F>>,
    names: HashSet<&'a str>,
    too_large: Vec<(&'a F, String)>,
}

impl<F> Folder<'_, F> {
    fn has(&self, name: &str) -> bool {
        self.names.contains(name)
    }
}

/// A data migration as a plan entry: both scripts name its file and hold no statement (its SQL is
/// decided when it runs); the downgrade's text is what history stores instead of SQL.
fn data_migration(inputs: &Inputs, file: &DataFile) -> Option<Migration> {
    let declaration = file.declaration.as_ref()?;
    let script = |sql: String| Script {
        path: file.path.clone(),
        sql,
        statements: Vec::new(),
        statement_offsets: Vec::new(),
        transactional: true,
    };
    Some(Migration {
        version: declaration.version,
        description: declaration.description.clone(),
        checksum: source::sha256_hex(&file.text),
        upgrade: script(String::new()),
        downgrade: script(data::stored_downgrade(&file.path)),
        reversal: Reversal::Script,
        data: Some(DataSource {
            file: inputs.path(&file.path).display().to_string(),
            holds_placeholder: file.text.contains(placeholder::PLACEHOLDER_TEXT),
        }),
    })
}

fn has_nested_folder(inputs: &Inputs, dialect: Dialect, direction: Direction) -> bool {
    let folder = format!("{}/", source::migration_dir(dialect, direction));
    inputs.stray_entries.iter().any(|entry| entry.starts_with(&folder))
}

/// The files of one folder whose names are valid; the others are reported.
fn named_files<'a, F: PairedFile + 'a>(
    layout: &Layout,
    files: impl Iterator<Item = &'a F>,
    direction: Direction,
    problems: &mut Problems,
) -> Folder<'a, F> {
    let mut folder = Folder { files: Vec::new(), names: HashSet::new(), too_large: Vec::new() };
    for file in files.filter(|file| file.direction() == direction) {
        match parse_name(file.name(), layout.extension) {
            Ok((version, _)) if version > layout.max_version => {
                folder.too_large.push((file, version.to_string()));
            }
            Ok((version, description)) => {
                folder.names.insert(file.name());
                folder.files.push(Named { file, version, description });
            }
            Err(NameProblem::TooLarge(digits)) => folder.too_large.push((file, digits)),
            Err(NameProblem::Zero) => problems.push(MigrationError::VersionZero { at: Location::file(file.path()) }),
            Err(NameProblem::Form) => problems.push(form_error(layout, file)),
        }
    }
    folder
}

/// A version too large for history could never be recorded: the error suggests the next free
/// version. Such files are still read (for their other problems), and their partner is not
/// reported as an orphan: one mistake, one error per file.
fn check_too_large<F: PairedFile>(
    layout: &Layout,
    upgrades: &Folder<F>,
    downgrades: &Folder<F>,
    claims: &[Versioned],
    problems: &mut Problems,
) {
    let highest = upgrades
        .files
        .iter()
        .map(|named| named.version)
        .chain(claims.iter().map(|claim| claim.version))
        .max()
        .unwrap_or(0);
    for (file, digits) in upgrades.too_large.iter().chain(&downgrades.too_large) {
        let description = file.name().split_once('-').map_or("", |(_, rest)| rest);
        problems.push(MigrationError::VersionTooLarge {
            at: Location::file(file.path()),
            digits: digits.clone(),
            max: layout.max_version,
            suggestion: format!("V{}-{description}", highest.saturating_add(1)),
        });
    }
}

/// Why a file name is not a migration's name.
#[derive(Debug, PartialEq, Eq)]
pub enum NameProblem {
    /// Not of the form `V<digits>-<description>.<extension>`.
    Form,
    /// The version, these digits, does not fit a `u64`.
    TooLarge(String),
    /// Version 0, which stands for the database before any migration.
    Zero,
}

/// `V<digits>-<description>.sql` → (version, description); see [`parse_name`].
pub fn parse_file_name(name: &str) -> Result<(u64, String), NameProblem> {
    parse_name(name, "sql")
}

/// `V<digits>-<description>.<extension>` → (version, description). The extension must be
/// exactly `extension` so that backups (`.sql.bak`) and other files are never run by accident.
pub fn parse_name(name: &str, extension: &str) -> Result<(u64, String), NameProblem> {
    let (digits, description) = name
        .strip_suffix(extension)
        .and_then(|stem| stem.strip_suffix('.'))
        .and_then(|stem| stem.strip_prefix('V'))
        .and_then(|rest| rest.split_once('-'))
        .ok_or(NameProblem::Form)?;
    if digits.is_empty() || !digits.bytes().all(|byte| byte.is_ascii_digit()) || description.trim().is_empty() {
        return Err(NameProblem::Form);
    }
    let version: u64 = digits.parse().map_err(|_| NameProblem::TooLarge(digits.to_string()))?;
    if version == 0 {
        return Err(NameProblem::Zero);
    }
    Ok((version, description.to_string()))
}

/// The error for a name that is not `V<version>-<description>.<extension>`. A golang-migrate or
/// sqlx name gets both of its new paths, since following a one-file suggestion would only lead
/// to a second error about the missing partner.
fn form_error<F: PairedFile>(layout: &Layout, file: &F) -> MigrationError {
    let at = Location::file(file.path());
    let pair_name = (layout.extension == "sql").then(|| other_tools::split_pair_name(file.name())).flatten();
    let Some((direction, name)) = pair_name else {
        return MigrationError::BadFileName {
            at,
            name: file.name().to_string(),
            extension: layout.extension,
            hint: DidYouMean(suggest_name(file.name(), layout.extension)),
        };
    };
    let other = match direction {
        Direction::Upgrade => Direction::Downgrade,
        Direction::Downgrade => Direction::Upgrade,
    };
    MigrationError::PairName {
        at,
        name: file.name().to_string(),
        expected: layout.sibling(&name, direction),
        other: match other {
            Direction::Upgrade => "`.up.sql` partner",
            Direction::Downgrade => "`.down.sql` partner",
        },
        sibling: layout.sibling(&name, other),
    }
}

/// [`suggest_name`] for SQL migrations.
pub fn suggest_file_name(name: &str) -> Option<String> {
    suggest_name(name, "sql")
}

/// A likely intended name for near misses: `v1-x.sql`, `V1-x.SQL`, `V1__x.sql` (Flyway) and
/// `001_x.sql` (the old migrator's form) all become `V<digits>-x.sql` (with `extension` in
/// place of `sql`). `None` when no such name is valid, or when `name` is already valid.
pub fn suggest_name(name: &str, extension: &str) -> Option<String> {
    let extension_start = name.len().checked_sub(extension.len() + 1)?;
    let found = name.get(extension_start..)?;
    if !found.starts_with('.') || !found[1..].eq_ignore_ascii_case(extension) {
        return None;
    }
    let stem = &name[..extension_start];
    let rest = stem.strip_prefix(['V', 'v']).unwrap_or(stem);
    let digits_length = rest.bytes().take_while(u8::is_ascii_digit).count();
    let (digits, after) = rest.split_at(digits_length);
    let description = after.trim_start_matches(['-', '_', '.', ' ']);
    let suggestion = format!("V{digits}-{description}.{extension}");
    (suggestion != name && parse_name(&suggestion, extension).is_ok()).then_some(suggestion)
}

/// Something that claims a version: an upgrade file or a data migration.
pub struct Versioned<'a> {
    pub version: u64,
    pub at: Location,
    pub name: &'a str,
}

/// Two migrations with one version (two upgrades, or an upgrade and a data migration) would make
/// the order, and which one counts as applied, depend on chance. Returns the versions used more
/// than once, which produce no migration.
fn check_unique_versions<'a>(claims: impl Iterator<Item = Versioned<'a>>, problems: &mut Problems) -> BTreeSet<u64> {
    let mut by_version: BTreeMap<u64, Vec<Versioned>> = BTreeMap::new();
    for claim in claims {
        by_version.entry(claim.version).or_default().push(claim);
    }
    let mut duplicated = BTreeSet::new();
    for (version, files) in by_version.into_iter().filter(|(_, files)| files.len() > 1) {
        problems.push(MigrationError::DuplicateVersion {
            at: files[0].at.clone(),
            version,
            files: files.iter().map(|claim| claim.name.to_owned()).collect(),
        });
        duplicated.insert(version);
    }
    duplicated
}

/// An upgrade is applied only with its downgrade, so nothing reaches a database that cannot be
/// undone; the downgrade is found by its exact file name in the sibling folder.
fn missing_downgrade<F: PairedFile>(
    layout: &Layout,
    upgrade: &Named<F>,
    upgrades: &Folder<F>,
    downgrades: &Folder<F>,
) -> MigrationError {
    let same_version = downgrades
        .files
        .iter()
        .find(|downgrade| downgrade.version == upgrade.version && !upgrades.has(downgrade.file.name()))
        .map(|downgrade| downgrade.file.path().to_string());
    MigrationError::MissingDowngrade {
        upgrade: Location::file(upgrade.file.path()),
        expected: layout.sibling(upgrade.file.name(), Direction::Downgrade),
        same_version,
    }
}

/// A downgrade without its upgrade is never run: usually a renamed or deleted upgrade.
fn check_every_downgrade_has_upgrade<F: PairedFile>(
    layout: &Layout,
    upgrades: &Folder<F>,
    downgrades: &Folder<F>,
    problems: &mut Problems,
) {
    for downgrade in downgrades.files.iter().filter(|downgrade| !upgrades.has(downgrade.file.name())) {
        let renamed = upgrades
            .files
            .iter()
            .any(|upgrade| upgrade.version == downgrade.version && !downgrades.has(upgrade.file.name()));
        if renamed {
            // A downgrade named differently from its upgrade: the upgrade's missing-downgrade
            // error already says to rename this file, and one mistake is one error.
            continue;
        }
        problems.push(MigrationError::MissingUpgrade {
            downgrade: Location::file(downgrade.file.path()),
            expected: layout.sibling(downgrade.file.name(), Direction::Upgrade),
        });
    }
}

fn sibling_path(file: &MigrationFile, direction: Direction) -> String {
    format!("{}/{}", source::migration_dir(file.dialect, direction), file.name)
}

/// Reads, checks and splits one script; `None` when it cannot become part of the plan. A
/// downgrade also says how it undoes its upgrade ([`Reversal`]).
fn read_script(inputs: &Inputs, file: &MigrationFile, problems: &mut Problems) -> Option<(Script, Reversal)> {
    let sql = match source::read(&inputs.root, &file.path) {
        Ok(sql) => sql,
        Err(error) => {
            problems.push(error);
            return None;
        }
    };
    let mut meant_no_transaction = check_directives(&file.path, &sql, problems);
    let reversal = declared_reversal(file, &sql, problems);
    let statements = match sql::split_statements(&sql, file.dialect) {
        Ok(statements) => statements,
        Err(open) => {
            let at = Location::at(file.path.as_str(), open.line, open.column);
            problems.push(MigrationError::Unterminated { at, construct: open.construct });
            return None;
        }
    };
    let pair = Direction::ALL.map(|direction| sibling_path(file, direction));
    let pair = [pair[0].as_str(), pair[1].as_str()];
    for error in other_tools::check_script(&file.path, &sql, file.dialect, file.direction, pair) {
        meant_no_transaction |= matches!(error, other_tools::OtherToolError::NoTransaction { .. });
        problems.push(error);
    }
    let transactional = is_transactional(&sql);
    // A file that means to opt out (a misplaced or misspelt directive, another tool's marker) has
    // that error already; its statements would only repeat it.
    if file.dialect == Dialect::Postgres && transactional && !meant_no_transaction {
        for error in transaction::check_script(&file.path, &sql, &statements) {
            problems.push(error);
        }
    }
    let reversal = match (statements.is_empty(), reversal) {
        // A declaration with a mistake: its error is reported, and one mistake is one error.
        (_, Err(Misdeclared)) => return None,
        (true, Ok(Some((_, reversal)))) => reversal,
        (false, Ok(None)) => Reversal::Script,
        (true, Ok(None)) => {
            problems.push(empty_script(file));
            return None;
        }
        (false, Ok(Some((directive, _)))) => {
            problems.push(MigrationError::DirectiveWithStatements {
                at: Location::at(file.path.as_str(), 1, 1),
                directive,
            });
            return None;
        }
    };
    let (statement_offsets, statements) =
        statements.into_iter().map(|statement| (statement.offset, statement.text)).unzip();
    let script = Script { path: file.path.clone(), transactional, sql, statements, statement_offsets };
    Some((script, reversal))
}

/// The reason of an [`IRREVERSIBLE`] first line, e.g. of a downgrade stored in history by a
/// newer release, which the runtime must not cross either.
pub fn irreversible_reason(sql: &str) -> Option<&str> {
    match directive_with_reason(sql)? {
        (IRREVERSIBLE, reason) if !reason.is_empty() => Some(reason),
        _ => None,
    }
}

/// [`NO_OP`] or [`IRREVERSIBLE`] as the first line, with what follows it, trimmed.
fn directive_with_reason(sql: &str) -> Option<(&'static str, &str)> {
    let first_line = sql.split('\n').next().unwrap_or_default();
    [NO_OP, IRREVERSIBLE].into_iter().find_map(|directive| {
        let rest = first_line.strip_prefix(directive)?;
        (rest.is_empty() || rest.starts_with([' ', '\t'])).then(|| (directive, rest.trim_matches([' ', '\t'])))
    })
}

/// A declaration on the first line with a mistake, already reported.
struct Misdeclared;

/// A downgrade whose first line is [`NO_OP`] or [`IRREVERSIBLE`] with a reason; the directive is
/// returned with it. Either in an upgrade, or without a reason, is an error.
fn declared_reversal(
    file: &MigrationFile,
    sql: &str,
    problems: &mut Problems,
) -> Result<Option<(&'static str, Reversal)>, Misdeclared> {
    let Some((directive, reason)) = directive_with_reason(sql) else {
        return Ok(None);
    };
    let at = Location::at(file.path.as_str(), 1, 1);
    if file.direction == Direction::Upgrade {
        problems.push(MigrationError::DirectiveInUpgrade {
            at,
            directive,
            downgrade: sibling_path(file, Direction::Downgrade),
        });
        return Err(Misdeclared);
    }
    if reason.is_empty() {
        problems.push(MigrationError::DirectiveWithoutReason { at, directive });
        return Err(Misdeclared);
    }
    let reversal = if directive == NO_OP {
        Reversal::NoOp { reason: reason.to_string() }
    } else {
        Reversal::Irreversible { reason: reason.to_string() }
    };
    Ok(Some((directive, reversal)))
}

/// An empty script would record a migration as applied (or undone) while changing nothing.
fn empty_script(file: &MigrationFile) -> MigrationError {
    let at = Location::file(file.path.as_str());
    match file.direction {
        Direction::Upgrade => MigrationError::EmptyUpgrade { at },
        Direction::Downgrade => MigrationError::EmptyDowngrade { at },
    }
}

/// Some statements (`CREATE INDEX CONCURRENTLY`, `ALTER TYPE ... ADD VALUE`) cannot run inside a
/// transaction; the script opts out with [`NO_TRANSACTION`] as its first line.
pub fn is_transactional(sql: &str) -> bool {
    let first_line = sql.split('\n').next().unwrap_or_default();
    first_line.trim_end_matches([' ', '\t']) != NO_TRANSACTION
}

/// A misspelt or misplaced directive would silently run the script in a transaction (or leave
/// a destructive statement unmarked), so any line comment that looks like one must be exactly
/// [`NO_TRANSACTION`], on the first line, or start with [`ALLOW_DESTRUCTIVE`]. This also
/// catches sqlx's `-- no-transaction`. Whether an opt-out gives its reason is `lint`'s concern.
/// Returns whether a reported directive meant to run the file outside a transaction.
fn check_directives(path: &str, sql: &str, problems: &mut Problems) -> bool {
    let mut meant_no_transaction = false;
    if !sql.contains("migrator") && !sql.contains("no-transaction") {
        return meant_no_transaction;
    }
    for (index, line) in sql.split('\n').enumerate() {
        let comment = line.trim_start_matches([' ', '\t']);
        if !looks_like_directive(comment) {
            continue;
        }
        let directive = comment.trim_end_matches([' ', '\t']);
        let indent = line.len() - comment.len();
        let at = Location::at(path, saturating_u32(index + 1), saturating_u32(indent + 1));
        if lint::opt_out_reason(directive).is_some() {
            continue;
        }
        let Some(known) = [NO_TRANSACTION, NO_OP, IRREVERSIBLE].into_iter().find(|known| {
            directive
                .strip_prefix(known)
                .is_some_and(|rest| rest.is_empty() || (*known != NO_TRANSACTION && rest.starts_with([' ', '\t'])))
        }) else {
            meant_no_transaction |= directive.to_ascii_lowercase().contains("transaction");
            problems.push(MigrationError::UnknownDirective { at, directive: directive.to_string() });
            continue;
        };
        if index > 0 || indent > 0 {
            meant_no_transaction |= known == NO_TRANSACTION;
            problems.push(MigrationError::MisplacedDirective { at, directive: known });
        }
    }
    meant_no_transaction
}

fn looks_like_directive(line: &str) -> bool {
    let Some(text) = line.strip_prefix("--") else {
        return false;
    };
    let text = text.trim_start_matches([' ', '\t']).trim_end_matches([' ', '\t']);
    let starts_with = |prefix: &str| text.get(..prefix.len()).is_some_and(|head| head.eq_ignore_ascii_case(prefix));
    starts_with("migrator:") || text.eq_ignore_ascii_case("no-transaction")
}

fn saturating_u32(value: usize) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::path::Path;

    /// A sources root holding `files` (relative path, contents).
    fn sources(files: &[(&str, &[u8])]) -> tempfile::TempDir {
        let root = tempfile::tempdir().expect("temp dir");
        for (relative, contents) in files {
            let path = root.path().join(relative);
            fs::create_dir_all(path.parent().expect("test paths have a parent")).expect("create test folder");
            fs::write(path, contents).expect("write test file");
        }
        root
    }

    fn run(root: &Path) -> (Migrations, Vec<String>) {
        let inputs = source::discover(root).expect("discover");
        let mut problems = Problems::default();
        let data = data::check(&inputs, &mut problems);
        let migrations = check(&inputs, &data, &mut problems);
        (migrations, problems.iter().map(ToString::to_string).collect())
    }

    fn data_migration(version: u64, module: &str) -> String {
        format!(
            "#[tradeforge_migrator::data_migration(version = {version})]\nmod {module} {{\n    \
             pub async fn upgrade(db: &mut C) -> R {{ Ok(()) }}\n    \
             pub async fn downgrade(db: &mut C) -> R {{ Ok(()) }}\n}}\n"
        )
    }

    #[test]
    fn data_migrations_join_the_postgres_sequence_in_version_order() {
        let fill = data_migration(2, "fill_names");
        let mut files = pair("V0001-users.sql", "CREATE TABLE users (id int);\n", "DROP TABLE users;\n").to_vec();
        files.extend(pair("V0003-orders.sql", "CREATE TABLE orders (id int);\n", "DROP TABLE orders;\n"));
        files.push(("migrations/postgres/data/fill.rs".to_owned(), fill.as_bytes()));
        let root = sources_of(&files);
        let (migrations, errors) = run(root.path());
        assert_eq!(errors, Vec::<String>::new());
        let versions: Vec<(u64, &str, bool)> = migrations
            .postgres
            .iter()
            .map(|migration| (migration.version, migration.description.as_str(), migration.data.is_some()))
            .collect();
        assert_eq!(versions, [(1, "users", false), (2, "fill_names", true), (3, "orders", false)]);
        let data = &migrations.postgres[1];
        assert_eq!(data.checksum, source::sha256_hex(&fill));
        assert_eq!(data.upgrade.path, "migrations/postgres/data/fill.rs");
        assert!(data.upgrade.statements.is_empty());
        assert!(data.downgrade.sql.starts_with(data::STORED_DOWNGRADE_PREFIX));
    }

    #[test]
    fn a_version_used_by_sql_and_a_data_migration_is_an_error() {
        let fill = data_migration(1, "fill_names");
        let mut files = pair("V0001-users.sql", "CREATE TABLE users (id int);\n", "DROP TABLE users;\n").to_vec();
        files.push(("migrations/postgres/data/fill.rs".to_owned(), fill.as_bytes()));
        let root = sources_of(&files);
        let (migrations, errors) = run(root.path());
        assert_eq!(
            errors,
            ["migrations/postgres/upgrade/V0001-users.sql: version `1` is used by `V0001-users.sql` and `fill.rs`; \
              give each migration its own version"]
        );
        assert!(migrations.postgres.is_empty());
    }

    fn pair(name: &str, upgrade: &'static str, downgrade: &'static str) -> [(String, &'static [u8]); 2] {
        [
            (format!("migrations/postgres/upgrade/{name}"), upgrade.as_bytes()),
            (format!("migrations/postgres/downgrade/{name}"), downgrade.as_bytes()),
        ]
    }

    fn sources_of(files: &[(String, &[u8])]) -> tempfile::TempDir {
        let borrowed: Vec<(&str, &[u8])> = files.iter().map(|(path, contents)| (path.as_str(), *contents)).collect();
        sources(&borrowed)
    }

    #[test]
    fn check_builds_a_migration_from_a_pair() {
        let root = sources_of(&pair("V0001-users.sql", "CREATE TABLE users (id int);\n", "DROP TABLE users;\n"));
        let (migrations, errors) = run(root.path());
        assert_eq!(errors, Vec::<String>::new());
        let migration = &migrations.postgres[0];
        assert_eq!((migration.version, migration.description.as_str()), (1, "users"));
        assert_eq!(migration.upgrade.path, "migrations/postgres/upgrade/V0001-users.sql");
        assert_eq!(migration.upgrade.statements, ["CREATE TABLE users (id int)"]);
        assert_eq!(migration.downgrade.statements, ["DROP TABLE users"]);
        assert!(migration.upgrade.transactional && migration.downgrade.transactional);
        assert_eq!(migration.checksum, source::sha256_hex("CREATE TABLE users (id int);\n"));
        assert!(migrations.clickhouse.is_empty());
    }

    #[test]
    fn check_orders_by_numeric_version_and_accepts_any_description() {
        let mut files = Vec::new();
        files.extend(pair("V10-ten.sql", "SELECT 10;", "SELECT 10;"));
        files.extend(pair("V9-nine.sql", "SELECT 9;", "SELECT 9;"));
        files.extend(pair("V0012-добавить_индекс.sql", "SELECT 12;", "SELECT 12;"));
        let root = sources_of(&files);
        let (migrations, errors) = run(root.path());
        assert_eq!(errors, Vec::<String>::new());
        let versions: Vec<(u64, &str)> =
            migrations.postgres.iter().map(|migration| (migration.version, migration.description.as_str())).collect();
        assert_eq!(versions, [(9, "nine"), (10, "ten"), (12, "добавить_индекс")]);
    }

    #[test]
    fn check_reads_clickhouse_with_its_own_dialect() {
        let root = sources(&[
            ("migrations/clickhouse/upgrade/V0001-ticks.sql", br"INSERT INTO t VALUES ('a\';b');SELECT 1;"),
            ("migrations/clickhouse/downgrade/V0001-ticks.sql", b"TRUNCATE TABLE t;"),
        ]);
        let (migrations, errors) = run(root.path());
        assert_eq!(errors, Vec::<String>::new());
        assert_eq!(migrations.clickhouse[0].upgrade.statements, [r"INSERT INTO t VALUES ('a\';b')", "SELECT 1"]);
    }

    #[test]
    fn bad_file_names_say_the_form_and_suggest_a_fix() {
        let root = sources(&[
            ("migrations/postgres/upgrade/V0001-users.SQL", b"SELECT 1;"),
            ("migrations/postgres/upgrade/V0003-x.sql.bak", b"SELECT 1;"),
            ("migrations/postgres/upgrade/001_initial_schema.sql", b"SELECT 1;"),
            ("migrations/postgres/upgrade/V0004.sql", b"SELECT 1;"),
        ]);
        let (_, errors) = run(root.path());
        assert_eq!(
            errors,
            [
                "migrations/postgres/upgrade/001_initial_schema.sql: `001_initial_schema.sql` is not a migration file name; \
                 name it `V<version>-<description>.sql`, e.g. `V0001-create_users.sql` (did you mean `V001-initial_schema.sql`?), or move it out of `migrations/`",
                "migrations/postgres/upgrade/V0001-users.SQL: `V0001-users.SQL` is not a migration file name; \
                 name it `V<version>-<description>.sql`, e.g. `V0001-create_users.sql` (did you mean `V0001-users.sql`?), or move it out of `migrations/`",
                "migrations/postgres/upgrade/V0003-x.sql.bak: `V0003-x.sql.bak` is not a migration file name; \
                 name it `V<version>-<description>.sql`, e.g. `V0001-create_users.sql`, or move it out of `migrations/`",
                "migrations/postgres/upgrade/V0004.sql: `V0004.sql` is not a migration file name; \
                 name it `V<version>-<description>.sql`, e.g. `V0001-create_users.sql`, or move it out of `migrations/`",
            ]
        );
    }

    #[test]
    fn parse_file_name_reads_version_and_description() {
        assert_eq!(parse_file_name("V09-a-b.c.sql"), Ok((9, "a-b.c".to_string())));
        assert_eq!(parse_file_name("V1-x.sql"), Ok((1, "x".to_string())));
        for bad in ["v1-x.sql", "V-x.sql", "V1-.sql", "V1- .sql", "V1x-y.sql", "V1_x.sql", "V1-x.sqlx", "V１-x.sql"] {
            assert_eq!(parse_file_name(bad), Err(NameProblem::Form), "{bad}");
        }
    }

    #[test]
    fn version_must_fit_u64_and_not_be_zero() {
        let root = sources(&[
            ("migrations/postgres/upgrade/V18446744073709551616-big.sql", b"SELECT 1;"),
            ("migrations/postgres/upgrade/V0000-init.sql", b"SELECT 1;"),
        ]);
        let (_, errors) = run(root.path());
        assert_eq!(
            errors,
            [
                "migrations/postgres/upgrade/V0000-init.sql: version `0` stands for the database before any migration; start at `V0001`",
                "migrations/postgres/upgrade/V18446744073709551616-big.sql: version `18446744073709551616` is too large \
                 for the history's `version` column, which holds at most `9223372036854775807`; rename the file in \
                 both folders (upgrade and downgrade) with a smaller version, e.g. `V1-big.sql`, the next one after \
                 the highest here",
            ]
        );
        assert_eq!(parse_file_name("V18446744073709551615-max.sql").map(|(version, _)| version), Ok(u64::MAX));
    }

    #[test]
    fn a_version_too_large_hides_neither_its_other_problems_nor_the_others() {
        let mut files =
            pair("V9223372036854775808-big.sql", "BEGIN;\nCREATE TABLE t (x int);\n", "DROP TABLE t;\n").to_vec();
        files.extend(pair("V0007-a.sql", "SELECT 1;", "SELECT 1;"));
        files.push(("migrations/postgres/upgrade/V0008-b.sql".to_owned(), b"SELECT 1;".as_slice()));
        files.push(("migrations/clickhouse/upgrade/V9223372036854775808-fits.sql".to_owned(), b"SELECT 1;".as_slice()));
        files.push((
            "migrations/clickhouse/downgrade/V9223372036854775808-fits.sql".to_owned(),
            b"SELECT 1;".as_slice(),
        ));
        let root = sources_of(&files);
        let (migrations, errors) = run(root.path());
        assert_eq!(errors.len(), 4, "{errors:#?}");
        assert!(errors
            .iter()
            .any(|error| error.starts_with("migrations/postgres/upgrade/V0008-b.sql: upgrade has no downgrade")));
        assert!(errors.iter().any(|error| error.starts_with(
            "migrations/postgres/upgrade/V9223372036854775808-big.sql:1:1: `BEGIN` is transaction control"
        )));
        for direction in ["upgrade", "downgrade"] {
            let expected = format!(
                "migrations/postgres/{direction}/V9223372036854775808-big.sql: version `9223372036854775808` is too \
                 large for the history's `version` column, which holds at most `9223372036854775807`; rename the file \
                 in both folders (upgrade and downgrade) with a smaller version, e.g. `V9-big.sql`, the next one after \
                 the highest here"
            );
            assert!(errors.contains(&expected), "{errors:#?}");
        }
        assert_eq!(
            migrations.clickhouse.iter().map(|migration| migration.version).collect::<Vec<_>>(),
            [9223372036854775808]
        );
    }

    #[test]
    fn golang_migrate_names_get_both_new_paths() {
        let root = sources(&[
            ("migrations/postgres/upgrade/000001_create_teams.up.sql", b"CREATE TABLE teams (id int);"),
            ("migrations/postgres/upgrade/000001_create_teams.down.sql", b"DROP TABLE teams;"),
        ]);
        let (_, errors) = run(root.path());
        assert_eq!(
            errors,
            [
                "migrations/postgres/upgrade/000001_create_teams.down.sql: `000001_create_teams.down.sql` is a \
                 golang-migrate/sqlx name (`<version>_<description>.up.sql` and `.down.sql`); here a migration is one \
                 name in two folders: this file goes to `migrations/postgres/downgrade/V000001-create_teams.sql`, and \
                 its `.up.sql` partner to `migrations/postgres/upgrade/V000001-create_teams.sql`",
                "migrations/postgres/upgrade/000001_create_teams.up.sql: `000001_create_teams.up.sql` is a \
                 golang-migrate/sqlx name (`<version>_<description>.up.sql` and `.down.sql`); here a migration is one \
                 name in two folders: this file goes to `migrations/postgres/upgrade/V000001-create_teams.sql`, and \
                 its `.down.sql` partner to `migrations/postgres/downgrade/V000001-create_teams.sql`",
            ]
        );
    }

    #[test]
    fn declared_downgrades_are_carried_with_their_reasons() {
        let mut files = pair("V0001-a.sql", "UPDATE t SET x = 1;", "-- migrator:no-op  harmless values \n");
        let irreversible = pair("V0002-b.sql", "UPDATE t SET y = 2;", "-- migrator:irreversible y is overwritten\n");
        let root = sources_of(&[files.to_vec(), irreversible.to_vec()].concat());
        let (migrations, errors) = run(root.path());
        assert_eq!(errors, Vec::<String>::new());
        assert_eq!(migrations.postgres[0].reversal, Reversal::NoOp { reason: "harmless values".into() });
        assert_eq!(migrations.postgres[1].reversal, Reversal::Irreversible { reason: "y is overwritten".into() });
        assert!(migrations.postgres[1].downgrade.statements.is_empty());
        assert_eq!(irreversible_reason("-- migrator:irreversible y is overwritten\n"), Some("y is overwritten"));
        files[1].1 = b"-- migrator:no-op\n";
        let root = sources_of(&files);
        assert_eq!(
            run(root.path()).1,
            ["migrations/postgres/downgrade/V0001-a.sql:1:1: `-- migrator:no-op` gives no reason; write why after it, \
              e.g. `-- migrator:no-op <why nothing is undone>`"]
        );
    }

    #[test]
    fn declarations_belong_alone_at_the_top_of_a_downgrade() {
        let mut files =
            pair("V0001-a.sql", "-- migrator:irreversible merged\nUPDATE t SET x = 1;", "SELECT 1;").to_vec();
        files.extend(pair("V0002-b.sql", "SELECT 2;", "-- migrator:no-op harmless\nDELETE FROM t WHERE x = 2;"));
        files.extend(pair("V0003-c.sql", "SELECT 3;", "SELECT 3;\n-- migrator:no-op harmless\n"));
        let root = sources_of(&files);
        assert_eq!(
            run(root.path()).1,
            [
                "migrations/postgres/downgrade/V0002-b.sql:1:1: `-- migrator:no-op` declares that this downgrade runs \
                 nothing, but the file holds statements; delete the statements, or the directive",
                "migrations/postgres/downgrade/V0003-c.sql:2:1: `-- migrator:no-op` works only at the very start of \
                 the first line; move it there",
                "migrations/postgres/upgrade/V0001-a.sql:1:1: `-- migrator:irreversible` declares the downgrade, so it \
                 belongs as the whole content of `migrations/postgres/downgrade/V0001-a.sql`, not in the upgrade",
            ]
        );
    }

    #[test]
    fn a_file_that_means_to_opt_out_gets_one_error_not_one_per_statement() {
        let mut files =
            pair("V0001-a.sql", "-- no-transaction\nCREATE INDEX CONCURRENTLY i ON t (x);", "SELECT 1;").to_vec();
        files.extend(pair(
            "V0002-b.sql",
            "-- +goose NO TRANSACTION\nCREATE INDEX CONCURRENTLY j ON t (x);",
            "SELECT 1;",
        ));
        files.extend(pair("V0003-c.sql", "SELECT 1;\n-- migrator:no-transaction\nVACUUM t;", "SELECT 1;"));
        let root = sources_of(&files);
        let errors = run(root.path()).1;
        assert_eq!(errors.len(), 3, "{errors:#?}");
        assert!(!errors.iter().any(|error| error.contains("cannot run inside a transaction")), "{errors:#?}");
    }

    #[test]
    fn transaction_rules_apply_to_transactional_postgres_scripts_only() {
        let mut files =
            pair("V0001-a.sql", "BEGIN;\nCREATE INDEX CONCURRENTLY i ON t (x);\nCOMMIT;", "SELECT 1;").to_vec();
        files.extend(pair(
            "V0002-b.sql",
            "-- migrator:no-transaction\nCREATE INDEX CONCURRENTLY j ON t (x);",
            "SELECT 1;",
        ));
        files.push(("migrations/clickhouse/upgrade/V0001-c.sql".to_owned(), b"BEGIN TRANSACTION;".as_slice()));
        files.push(("migrations/clickhouse/downgrade/V0001-c.sql".to_owned(), b"SELECT 1;".as_slice()));
        let root = sources_of(&files);
        let errors = run(root.path()).1;
        let places: Vec<&str> = errors.iter().map(|error| error.split(' ').next().unwrap_or_default()).collect();
        assert_eq!(
            places,
            [
                "migrations/postgres/upgrade/V0001-a.sql:1:1:",
                "migrations/postgres/upgrade/V0001-a.sql:2:1:",
                "migrations/postgres/upgrade/V0001-a.sql:3:1:"
            ],
            "{errors:#?}"
        );
    }

    #[test]
    fn same_version_twice_is_one_error_naming_both_files() {
        let mut files = Vec::new();
        files.extend(pair("V9-a.sql", "SELECT 1;", "SELECT 1;"));
        files.extend(pair("V09-b.sql", "SELECT 2;", "SELECT 2;"));
        files.extend(pair("V10-c.sql", "SELECT 3;", "SELECT 3;"));
        let root = sources_of(&files);
        let (migrations, errors) = run(root.path());
        assert_eq!(
            errors,
            ["migrations/postgres/upgrade/V09-b.sql: version `9` is used by `V09-b.sql` and `V9-a.sql`; give each migration its own version"]
        );
        assert_eq!(migrations.postgres.iter().map(|migration| migration.version).collect::<Vec<_>>(), [10]);
    }

    #[test]
    fn upgrade_without_downgrade_names_the_file_to_create() {
        let root = sources(&[("migrations/postgres/upgrade/V0002-orders.sql", b"CREATE TABLE orders ();")]);
        let (migrations, errors) = run(root.path());
        assert_eq!(
            errors,
            ["migrations/postgres/upgrade/V0002-orders.sql: upgrade has no downgrade; create `migrations/postgres/downgrade/V0002-orders.sql`"]
        );
        assert!(migrations.postgres.is_empty());
    }

    #[test]
    fn downgrade_without_upgrade_says_to_add_or_delete() {
        let root = sources(&[("migrations/clickhouse/downgrade/V0003-x.sql", b"DROP TABLE x;")]);
        let (_, errors) = run(root.path());
        assert_eq!(
            errors,
            ["migrations/clickhouse/downgrade/V0003-x.sql: downgrade has no upgrade; add `migrations/clickhouse/upgrade/V0003-x.sql` or delete this file"]
        );
    }

    #[test]
    fn names_that_differ_in_a_pair_suggest_renaming() {
        let root = sources(&[
            ("migrations/postgres/upgrade/V0002-orders.sql", b"SELECT 1;"),
            ("migrations/postgres/downgrade/V0002-order.sql", b"SELECT 1;"),
        ]);
        let (_, errors) = run(root.path());
        assert_eq!(
            errors,
            ["migrations/postgres/upgrade/V0002-orders.sql: upgrade has no downgrade; rename \
              `migrations/postgres/downgrade/V0002-order.sql`, which has the same version, to \
              `migrations/postgres/downgrade/V0002-orders.sql`"]
        );
    }

    #[test]
    fn not_utf8_is_reported_at_the_bad_byte() {
        let root = sources(&[
            ("migrations/postgres/upgrade/V0001-a.sql", b"SELECT 1;\nSELECT '\xC0';"),
            ("migrations/postgres/downgrade/V0001-a.sql", b"SELECT 1;"),
        ]);
        let (migrations, errors) = run(root.path());
        assert_eq!(
            errors,
            ["migrations/postgres/upgrade/V0001-a.sql:2:9: the file is not valid UTF-8; save it as UTF-8"]
        );
        assert!(migrations.postgres.is_empty());
    }

    #[test]
    fn scripts_without_statements_are_rejected_in_both_directions() {
        let mut files = Vec::new();
        files.extend(pair("V0001-a.sql", "  \n", "-- nothing to undo\n/* really */\n"));
        let root = sources_of(&files);
        let (_, errors) = run(root.path());
        assert_eq!(
            errors,
            [
                "migrations/postgres/downgrade/V0001-a.sql: downgrade holds no SQL statement, only blank space or comments; \
                 write the SQL that undoes the upgrade",
                "migrations/postgres/upgrade/V0001-a.sql: upgrade holds no SQL statement, only blank space or comments; \
                 write the change, or delete it and its downgrade",
            ]
        );
    }

    #[test]
    fn unterminated_string_is_reported_where_it_opens() {
        let root = sources_of(&pair("V0001-a.sql", "SELECT 1;\nSELECT 'oops;\n", "SELECT 1;"));
        let (_, errors) = run(root.path());
        assert_eq!(
            errors,
            ["migrations/postgres/upgrade/V0001-a.sql:2:8: string opened here is never closed; add the closing `'`"]
        );
    }

    #[test]
    fn no_transaction_marker_on_the_first_line_applies_per_script() {
        let root = sources_of(&pair(
            "V0001-a.sql",
            "-- migrator:no-transaction  \r\nCREATE INDEX CONCURRENTLY i ON t (x);\r\n",
            "DROP INDEX i;",
        ));
        let (migrations, errors) = run(root.path());
        assert_eq!(errors, Vec::<String>::new());
        let migration = &migrations.postgres[0];
        assert!(!migration.upgrade.transactional);
        assert!(migration.downgrade.transactional);
        assert_eq!(
            migration.upgrade.statements,
            ["-- migrator:no-transaction  \nCREATE INDEX CONCURRENTLY i ON t (x)"]
        );
    }

    #[test]
    fn bom_and_crlf_do_not_change_the_checksum() {
        let lf = sources_of(&pair("V0001-a.sql", "SELECT 1;\nSELECT 2;\n", "SELECT 1;"));
        let crlf = sources_of(&pair("V0001-a.sql", "\u{feff}SELECT 1;\r\nSELECT 2;\r\n", "SELECT 1;"));
        let (lf, _) = run(lf.path());
        let (crlf, _) = run(crlf.path());
        assert_eq!(lf.postgres[0].checksum, crlf.postgres[0].checksum);
    }

    #[test]
    fn misplaced_or_misspelt_directives_are_errors() {
        let root = sources_of(&pair(
            "V0001-a.sql",
            "SELECT 1;\n-- migrator:no-transaction\n  --migrator:notransaction\n-- no-transaction\n-- migration notes\n",
            "SELECT 1;",
        ));
        let (_, errors) = run(root.path());
        assert_eq!(
            errors,
            [
                "migrations/postgres/upgrade/V0001-a.sql:2:1: `-- migrator:no-transaction` works only at the very start of the first line; move it there",
                "migrations/postgres/upgrade/V0001-a.sql:3:3: `--migrator:notransaction` is not a migrator directive; \
                 write `-- migrator:no-transaction` alone on the first line, \
                 `-- migrator:allow-destructive <reason>` on a destructive statement, or `-- migrator:no-op <reason>` \
                 or `-- migrator:irreversible <reason>` as a whole downgrade",
                "migrations/postgres/upgrade/V0001-a.sql:4:1: `-- no-transaction` is not a migrator directive; \
                 write `-- migrator:no-transaction` alone on the first line, \
                 `-- migrator:allow-destructive <reason>` on a destructive statement, or `-- migrator:no-op <reason>` \
                 or `-- migrator:irreversible <reason>` as a whole downgrade",
            ]
        );
    }

    #[test]
    fn allow_destructive_is_a_directive_anywhere_but_a_misspelling_is_not() {
        let root = sources_of(&pair(
            "V0001-a.sql",
            "-- migrator:allow-destructive replaced by accounts\nDROP TABLE users;\n\
             -- migrator:allow-destructive\nTRUNCATE t;\n-- migrator:allow-destructiv typo\nDROP TABLE x;\n",
            "SELECT 1;",
        ));
        let (_, errors) = run(root.path());
        assert_eq!(
            errors,
            ["migrations/postgres/upgrade/V0001-a.sql:5:1: `-- migrator:allow-destructiv typo` is not a migrator directive; \
              write `-- migrator:no-transaction` alone on the first line, \
              `-- migrator:allow-destructive <reason>` on a destructive statement, or `-- migrator:no-op <reason>` \
              or `-- migrator:irreversible <reason>` as a whole downgrade"]
        );
    }

    #[test]
    fn statement_offsets_point_at_each_statement_in_the_file() {
        let root = sources_of(&pair("V0001-a.sql", "SELECT 1;\n\n-- two\nSELECT 2;\n", "SELECT 1;"));
        let (migrations, errors) = run(root.path());
        assert_eq!(errors, Vec::<String>::new());
        let upgrade = &migrations.postgres[0].upgrade;
        assert_eq!(upgrade.statement_offsets, [0, "SELECT 1;\n\n".len()]);
        assert_eq!(upgrade.statements[1], "-- two\nSELECT 2");
    }

    #[test]
    fn entries_outside_the_layout_are_errors_with_hints() {
        let root = sources(&[
            ("migrations/postgress/upgrade/V0001-a.sql", b"SELECT 1;"),
            ("migrations/postgres/upgrades/V0001-a.sql", b"SELECT 1;"),
            ("migrations/postgres/upgrade/old/V0001-a.sql", b"SELECT 1;"),
            ("migrations/clickhouse/data/fill.rs", b"fn f() {}"),
        ]);
        let (_, errors) = run(root.path());
        assert_eq!(
            errors,
            [
                "migrations/clickhouse/data: data migrations in Rust exist for PostgreSQL only; move its files to \
                 `migrations/postgres/data`",
                "migrations/postgres/upgrade/old: migrations are not read from subfolders; move its files up into `migrations/postgres/upgrade`",
                "migrations/postgres/upgrades: does not belong in `migrations/postgres`, which holds only the `upgrade`, \
                 `downgrade` and `data` folders (did you mean `upgrade`?)",
                "migrations/postgress: does not belong in `migrations`, which holds only the `postgres`, `clickhouse` and \
                 `mongodb` folders \
                 (did you mean `postgres`?)",
            ]
        );
    }

    #[test]
    fn every_problem_is_reported_not_only_the_first() {
        let root = sources(&[
            ("migrations/postgres/upgrade/V0001-a.sql", b""),
            ("migrations/postgres/upgrade/V0002-b.sql", b"SELECT 1;"),
            ("migrations/postgres/downgrade/V0001-a.sql", b"SELECT 1;"),
            ("migrations/postgres/downgrade/V0005-e.sql", b"SELECT 1;"),
            ("migrations/clickhouse/upgrade/v3-c.sql", b"SELECT 1;"),
        ]);
        let (_, errors) = run(root.path());
        assert_eq!(errors.len(), 4, "{errors:#?}");
    }

    #[test]
    fn backticked_lists_read_as_prose() {
        assert_eq!(backticked(&["a".into()]), "`a`");
        assert_eq!(backticked(&["a".into(), "b".into(), "c".into()]), "`a`, `b` and `c`");
    }
}
