//! `migrator new`: writes the next-numbered upgrade and downgrade of a SQL target, each with a
//! header saying what to write, and never overwrites a file.
//!
//! The folders and the file name form (`V<digits>-<description>.sql`) are the spec crate's
//! (`tradeforge_migrator_spec::source`); the files are listed with its `discover` and their names
//! read with `migrations::parse_file_name`, as the build does, and the new name must pass that
//! same function. The new files hold only their header, so the build refuses them
//! (`upgrade holds no SQL statement`) until the SQL is written: that error is the to-do list.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use tradeforge_migrator_spec::diag::Problems;
use tradeforge_migrator_spec::model::Dialect;
use tradeforge_migrator_spec::source::{self, Direction, MIGRATIONS_DIR};
use tradeforge_migrator_spec::{data, migrations, placeholder};

use crate::plan::SqlTarget;

/// Digits of the first version when the folders are empty (`V0001`).
const DEFAULT_WIDTH: usize = 4;
/// A longer description makes unwieldy file names; the header comment can say more.
pub const MAX_DESCRIPTION_BYTES: usize = 120;
/// Characters no file name may hold on some system the repository is checked out on.
const FORBIDDEN: [char; 9] = ['/', '\\', ':', '*', '?', '"', '<', '>', '|'];

/// Why no migration was created; in every case nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum NewError {
    #[error(
        "the description is empty; say what the migration does, e.g. `migrator new postgres \"add orders table\"`"
    )]
    EmptyDescription,
    #[error(
        "the description `{description}` contains {shown}, which cannot be part of a file name; use letters, digits, \
         spaces, `_` or `-`",
        shown = shown(*.character)
    )]
    ForbiddenCharacter { description: String, character: char },
    #[error("the description `{description}` starts with `.`, which would make a hidden file; start it with a letter or digit")]
    LeadingDot { description: String },
    #[error("the description is {length} bytes long; keep it within {MAX_DESCRIPTION_BYTES} and say more in the file's comment")]
    TooLong { length: usize },
    #[error("the description would make `{name}`, which the build does not accept as a migration file name; use letters, digits, `_` or `-`")]
    NotAMigrationName { name: String },
    #[error("the description `{description}` does not make a Rust module name for a data migration; use letters, digits and `_`, starting with a letter, and not a Rust keyword")]
    NotAModuleName { description: String },
    #[error("data migrations in Rust exist for PostgreSQL only: `migrator new postgres --data \"…\"`")]
    DataOutsidePostgres,
    #[error("`{}` does not exist; run `migrator new` in the sources root (the folder holding `migrations/`), or pass `--dir <root>`", .path.display())]
    NoMigrationsFolder { path: PathBuf },
    #[error("cannot list the migrations under `{}`: {source}", .root.display())]
    List {
        root: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("`{}` already exists; nothing was written (`migrator new` never overwrites a file): rename or remove it, then run `migrator new` again", .path.display())]
    Exists { path: PathBuf },
    #[error("cannot write `{}`: {source}; nothing was written", .path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

impl NewError {
    /// Whether the command line was at fault (exit 2) rather than the file system (exit 1).
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            NewError::EmptyDescription
                | NewError::ForbiddenCharacter { .. }
                | NewError::LeadingDot { .. }
                | NewError::TooLong { .. }
                | NewError::NotAMigrationName { .. }
                | NewError::NotAModuleName { .. }
                | NewError::DataOutsidePostgres
                | NewError::NoMigrationsFolder { .. }
        )
    }
}

/// A control character is shown escaped, anything else in backticks.
fn shown(character: char) -> String {
    if character.is_control() {
        format!("the control character `{}`", character.escape_default())
    } else {
        format!("`{character}`")
    }
}

/// The two files `new` created.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Created {
    pub version: u64,
    /// `root` joined with `migrations/<target>/upgrade/V<version>-<description>.sql`.
    pub upgrade: PathBuf,
    pub downgrade: PathBuf,
}

/// Creates the next migration of `target` under `root`.
pub fn create(root: &Path, target: SqlTarget, description: &str) -> Result<Created, NewError> {
    let description = file_description(description)?;
    let migrations = root.join(MIGRATIONS_DIR);
    if !migrations.is_dir() {
        return Err(NewError::NoMigrationsFolder { path: migrations });
    }
    if target == SqlTarget::MongoDb {
        return create_mongodb(root, &description);
    }
    let dialect = dialect(target);
    let (version, width) = next_version(root, dialect)?;
    let name = format!("V{version:0width$}-{description}.sql");
    // The build's own rule has the last word on the name; the checks above only explain why.
    if migrations::parse_file_name(&name).ok() != Some((version, description.clone())) {
        return Err(NewError::NotAMigrationName { name });
    }
    let relative = |direction| format!("{}/{name}", source::migration_dir(dialect, direction));
    let upgrade_relative = relative(Direction::Upgrade);
    let downgrade_relative = relative(Direction::Downgrade);
    let headers = Headers { target, version: format!("V{version:0width$}"), description: &description };
    let upgrade = root.join(&upgrade_relative);
    let downgrade = root.join(&downgrade_relative);
    // The placeholder lets the next build accept the pair; build.rs warns until it is replaced.
    let placeholder = format!("{};\n", placeholder::PLACEHOLDER);
    write_new(&upgrade, &(headers.upgrade(&downgrade_relative) + &placeholder))?;
    if let Err(error) = write_new(&downgrade, &(headers.downgrade(&upgrade_relative) + &placeholder)) {
        // Half a pair would fail the build for a reason the user did not cause.
        let _ = fs::remove_file(&upgrade);
        return Err(error);
    }
    Ok(Created { version, upgrade, downgrade })
}

/// Creates the next PostgreSQL data migration under `root`: `migrations/postgres/data/<name>.rs`,
/// whose functions return the placeholder as their error until they are written.
pub fn create_data(root: &Path, target: SqlTarget, description: &str) -> Result<(u64, PathBuf), NewError> {
    if target != SqlTarget::Postgres {
        return Err(NewError::DataOutsidePostgres);
    }
    let joined = file_description(description)?;
    let module = data::module_name(&joined).ok_or(NewError::NotAModuleName { description: joined })?;
    let migrations = root.join(MIGRATIONS_DIR);
    if !migrations.is_dir() {
        return Err(NewError::NoMigrationsFolder { path: migrations });
    }
    let (version, _) = next_version(root, Dialect::Postgres)?;
    let path = root.join(source::DATA_MIGRATIONS_DIR).join(format!("{module}.rs"));
    write_new(&path, &data_template(version, &module))?;
    Ok((version, path))
}

fn data_template(version: u64, module: &str) -> String {
    let placeholder = placeholder::PLACEHOLDER_TEXT;
    format!(
        "// V{version} {module}: PostgreSQL data migration (Rust)
//
// `upgrade` changes rows, `downgrade` undoes exactly that. Both run inside one transaction
// together with the migration's history row, in version order with the SQL migrations: any error
// (`?` converts it) rolls back everything the function did. Once applied anywhere, do not edit
// this file (its checksum is recorded): put further changes in a new migration.
// Until both functions are written they fail on purpose, and every build warns about this file.

#[tradeforge_migrator::data_migration(version = {version})]
mod {module} {{
    use tradeforge_migrator::plan::{{DataError, PgConnection}};

    pub async fn upgrade(db: &mut PgConnection) -> Result<(), DataError> {{
        // e.g. sqlx::query(\"UPDATE … SET … WHERE …\").bind(…).execute(&mut *db).await?;
        let _ = db;
        Err(\"{placeholder}\".into())
    }}

    pub async fn downgrade(db: &mut PgConnection) -> Result<(), DataError> {{
        let _ = db;
        Err(\"{placeholder}\".into())
    }}
}}
"
    )
}

/// Only called for the SQL targets (`create` hands MongoDB to `create_mongodb`).
fn dialect(target: SqlTarget) -> Dialect {
    match target {
        SqlTarget::Postgres => Dialect::Postgres,
        SqlTarget::ClickHouse | SqlTarget::MongoDb => Dialect::ClickHouse,
    }
}

/// The next MongoDB pair: `migrations/mongodb/{upgrade,downgrade}/V<n>-<description>.yml`, the
/// version one above the highest of either folder, with a commented example. The files hold
/// no command yet, so the next build stops at them (`holds no command`) until they are written:
/// a YAML list has no placeholder the build could accept and still warn about.
fn create_mongodb(root: &Path, description: &str) -> Result<Created, NewError> {
    use tradeforge_migrator_spec::mongodb;
    let layout = mongodb::layout();
    let mut highest: Option<(u64, usize)> = None;
    for direction in [Direction::Upgrade, Direction::Downgrade] {
        let folder = root.join(layout.folder(direction));
        let Ok(entries) = fs::read_dir(&folder) else { continue };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Ok((version, _)) = migrations::parse_name(&name, mongodb::EXTENSION) {
                if highest.is_none_or(|(best, _)| version > best) {
                    highest = Some((version, digit_count(&name)));
                }
            }
        }
    }
    let (version, width) = highest.map_or((1, DEFAULT_WIDTH), |(version, width)| (version.saturating_add(1), width));
    let name = format!("V{version:0width$}-{description}.{}", mongodb::EXTENSION);
    if migrations::parse_name(&name, mongodb::EXTENSION).ok() != Some((version, description.to_owned())) {
        return Err(NewError::NotAMigrationName { name });
    }
    let upgrade_relative = format!("{}/{name}", layout.folder(Direction::Upgrade));
    let downgrade_relative = format!("{}/{name}", layout.folder(Direction::Downgrade));
    let upgrade = root.join(&upgrade_relative);
    let downgrade = root.join(&downgrade_relative);
    let label = format!("V{version:0width$} {description}");
    write_new(&upgrade, &mongodb_upgrade(&label, &downgrade_relative))?;
    if let Err(error) = write_new(&downgrade, &mongodb_downgrade(&label, &upgrade_relative)) {
        let _ = fs::remove_file(&upgrade);
        return Err(error);
    }
    Ok(Created { version, upgrade, downgrade })
}

fn mongodb_upgrade(label: &str, downgrade: &str) -> String {
    format!(
        "# {label}: upgrade (MongoDB)
#
# Database commands, run one by one in MONGO_DATABASE; each is recorded when it succeeds, and a
# failed run resumes at the failed command. Collections are named without the database. The
# build checks commands, options, `$jsonSchema` validators and index specs; for example:
#
#   - create: orders
#     validator:
#       $jsonSchema: {{bsonType: object, required: [order_id], properties: {{order_id: {{bsonType: string}}}}}}
#   - createIndexes: orders
#     indexes:
#       - {{key: {{order_id: 1}}, name: orders_order_id_unique, unique: true}}
#
# Its downgrade, which must undo exactly this, is {downgrade}.
# Once applied anywhere, do not edit this file (its checksum is recorded).
commands: []
"
    )
}

fn mongodb_downgrade(label: &str, upgrade: &str) -> String {
    format!(
        "# {label}: downgrade (MongoDB)
#
# The commands that undo {upgrade}, in reverse order: drop what it created (`- drop: orders`,
# `- dropIndexes: orders` with `index: <name>`), restore what it changed (`collMod`). Or declare,
# with a reason, `no_op: <why>` or `irreversible: <why>` instead of `commands`.
commands: []
"
    )
}

/// The description as it goes into the file name: trimmed, each run of white space one `_`.
pub fn file_description(description: &str) -> Result<String, NewError> {
    let joined = description.split_whitespace().collect::<Vec<_>>().join("_");
    if joined.is_empty() {
        return Err(NewError::EmptyDescription);
    }
    if let Some(character) = joined.chars().find(|character| FORBIDDEN.contains(character) || character.is_control()) {
        return Err(NewError::ForbiddenCharacter { description: joined.escape_default().to_string(), character });
    }
    if joined.starts_with('.') {
        return Err(NewError::LeadingDot { description: joined });
    }
    if joined.len() > MAX_DESCRIPTION_BYTES {
        return Err(NewError::TooLong { length: joined.len() });
    }
    Ok(joined)
}

/// One above the highest version among the target's upgrade *and* downgrade files (an orphan
/// downgrade still holds its number) and, for PostgreSQL, its Rust data migrations, with the
/// digit count of the file that has it. Names the build rejects are skipped; the build reports them.
fn next_version(root: &Path, dialect: Dialect) -> Result<(u64, usize), NewError> {
    let inputs = source::discover(root).map_err(|source| NewError::List { root: root.to_owned(), source })?;
    let sql_files: Vec<(u64, usize)> = inputs
        .migration_files
        .iter()
        .filter(|file| file.dialect == dialect)
        .filter_map(|file| {
            let (version, _) = migrations::parse_file_name(&file.name).ok()?;
            Some((version, digit_count(&file.name)))
        })
        .collect();
    // A data migration's file name holds no version: it takes the SQL files' width. The build
    // reports the data files' problems; here they only must not hide a version.
    let width = sql_files.iter().map(|(_, width)| *width).max().unwrap_or(DEFAULT_WIDTH);
    let data_files = match dialect {
        Dialect::Postgres => data::check(&inputs, &mut Problems::default()),
        Dialect::ClickHouse => Vec::new(),
    };
    let data_versions = data_files.into_iter().filter_map(|file| Some((file.declaration?.version, width)));
    let highest = sql_files.into_iter().chain(data_versions).max_by_key(|(version, _)| *version);
    Ok(match highest {
        Some((version, width)) => (version.saturating_add(1), width),
        None => (1, DEFAULT_WIDTH),
    })
}

/// The number of digits after the `V` of a well-formed name (`V0007-x.sql` → 4).
fn digit_count(name: &str) -> usize {
    name.bytes().skip(1).take_while(u8::is_ascii_digit).count()
}

/// Creates `path` with `text`; fails if anything exists there.
fn write_new(path: &Path, text: &str) -> Result<(), NewError> {
    let write_error = |source| NewError::Write { path: path.to_owned(), source };
    if let Some(folder) = path.parent() {
        fs::create_dir_all(folder).map_err(write_error)?;
    }
    let mut file = match OpenOptions::new().write(true).create_new(true).open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == io::ErrorKind::AlreadyExists || path.exists() => {
            return Err(NewError::Exists { path: path.to_owned() })
        }
        Err(error) => return Err(write_error(error)),
    };
    if let Err(error) = file.write_all(text.as_bytes()) {
        let _ = fs::remove_file(path);
        return Err(write_error(error));
    }
    Ok(())
}

/// The header comments of the two files.
struct Headers<'a> {
    target: SqlTarget,
    /// `V0008`, as in the file name.
    version: String,
    description: &'a str,
}

impl Headers<'_> {
    fn title(&self, direction: &str) -> String {
        let server = match self.target {
            SqlTarget::Postgres => "PostgreSQL",
            SqlTarget::ClickHouse => "ClickHouse",
            SqlTarget::MongoDb => "MongoDB",
        };
        format!("-- {} {}: {direction} ({server})\n--\n", self.version, self.description)
    }

    fn upgrade(&self, downgrade_path: &str) -> String {
        let mut text = self.title("upgrade");
        text.push_str("-- Write the SQL that makes the change below this header, statements separated by `;`.\n");
        text.push_str(match self.target {
            SqlTarget::Postgres => POSTGRES_UPGRADE,
            SqlTarget::ClickHouse | SqlTarget::MongoDb => CLICKHOUSE_UPGRADE,
        });
        text.push_str(&format!(
            "--\n-- Pairing rule: this upgrade goes together with its downgrade\n\
             --   {downgrade_path}\n\
             -- which must undo exactly what this file does. The build refuses an upgrade without its\n\
             -- downgrade, and warns while either file still holds the placeholder below. Once this migration is applied\n\
             -- anywhere, do not edit it (its checksum is recorded): put further changes in a new one\n\
             -- (`migrator new {} \"…\"`).\n\n",
            self.target.name()
        ));
        text
    }

    fn downgrade(&self, upgrade_path: &str) -> String {
        let mut text = self.title("downgrade");
        text.push_str(&format!(
            "-- Write the SQL that undoes the upgrade\n\
             --   {upgrade_path}\n\
             -- taking its statements in reverse order: drop what it created, restore what it changed.\n\
             -- `migrator down` runs it and removes the history row; the history keeps a copy of this SQL,\n\
             -- so even an older binary can undo the migration.\n"
        ));
        if self.target == SqlTarget::ClickHouse {
            text.push_str("-- Use DROP TABLE IF EXISTS and the like: a failed downgrade may be run again.\n");
        }
        text.push('\n');
        text
    }
}

const POSTGRES_UPGRADE: &str = "\
-- The file runs in one transaction together with its history row. For statements that cannot
-- run in a transaction (CREATE INDEX CONCURRENTLY), put the line `-- migrator:no-transaction`
-- at the very top of the file, above this header.
";

const CLICKHOUSE_UPGRADE: &str = "\
-- ClickHouse DDL is not transactional: each statement is recorded when it succeeds, and a failed
-- run resumes at the failed statement. Write statements that are safe to run again:
-- CREATE TABLE IF NOT EXISTS, CREATE MATERIALIZED VIEW IF NOT EXISTS, DROP TABLE IF EXISTS.
-- Keep it valid on ClickHouse 18.16 as well as on current releases: no DateTime64, no TTL, no
-- ADD COLUMN IF NOT EXISTS. Try it on the local stack: `migrator up --target clickhouse`.
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_become_one_word_per_file_name() {
        assert_eq!(file_description("  add orders\ttable ").ok().as_deref(), Some("add_orders_table"));
        assert_eq!(file_description("добавить индекс").ok().as_deref(), Some("добавить_индекс"));
        assert_eq!(file_description("add-column_x").ok().as_deref(), Some("add-column_x"));
    }

    #[test]
    fn bad_descriptions_are_refused_with_the_reason() {
        assert!(matches!(file_description(" \t "), Err(NewError::EmptyDescription)));
        assert!(matches!(file_description("a/b"), Err(NewError::ForbiddenCharacter { character: '/', .. })));
        assert!(matches!(file_description("a\\b"), Err(NewError::ForbiddenCharacter { character: '\\', .. })));
        assert!(matches!(file_description("a\u{7}b"), Err(NewError::ForbiddenCharacter { character: '\u{7}', .. })));
        assert!(matches!(file_description(".hidden"), Err(NewError::LeadingDot { .. })));
        assert!(matches!(file_description(&"x".repeat(121)), Err(NewError::TooLong { length: 121 })));
        let message = file_description("a\u{1b}b").map(|_| ()).unwrap_err().to_string();
        assert!(message.contains("the control character `\\u{1b}`"), "{message}");
    }

    #[test]
    fn the_width_is_the_digit_count_of_the_name() {
        assert_eq!(digit_count("V0007-x.sql"), 4);
        assert_eq!(digit_count("V12-a-b.sql"), 2);
    }
}
