//! `migrator import`: converts another tool's migration folder into this layout, one pair of
//! files per migration, keeping each version number, and lists what needs a person.
//!
//! | tool           | reads                                                        | writes                    |
//! |----------------|--------------------------------------------------------------|---------------------------|
//! | golang-migrate | `<version>_<title>.up.sql` + `.down.sql`                     | `V<version>-<title>.sql` in `upgrade/` and `downgrade/` |
//! | sqlx           | the same, or `<version>_<title>.sql` (no downgrade); `-- no-transaction` | the same       |
//! | dbmate         | `<version>_<title>.sql` with `-- migrate:up` / `-- migrate:down` | split in two          |
//! | goose          | `<version>_<title>.sql` with `-- +goose Up` / `-- +goose Down` | split in two            |
//!
//! Markers map to ours: goose `-- +goose NO TRANSACTION`, dbmate `transaction:false` and sqlx
//! `-- no-transaction` become `-- migrator:no-transaction` as the first line; goose's
//! `StatementBegin`/`StatementEnd` are dropped (the splitter keeps bodies whole by itself).
//! Markers are found with the build's own recogniser (`spec::other_tools`), so a marker inside a
//! string is not one.
//!
//! A missing or empty downgrade is written with `migrator new`'s placeholder, which the build
//! accepts with a warning, and listed: a person decides what undoes the upgrade, or declares it
//! `-- migrator:no-op <reason>` or `-- migrator:irreversible <reason>`. After writing, the
//! build's checks run on the whole sources root, and every problem in a written file is listed
//! too (transaction control, statements that need `-- migrator:no-transaction`, …). Nothing is
//! overwritten: when any file to write exists, nothing is written.

use std::collections::BTreeMap;
use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use tradeforge_migrator_spec::model::Dialect;
use tradeforge_migrator_spec::other_tools::{self, Meaning};
use tradeforge_migrator_spec::source::{self, Direction};
use tradeforge_migrator_spec::{migrations, placeholder, sql};

use crate::plan::SqlTarget;

/// The tool a folder comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Tool {
    GolangMigrate,
    Dbmate,
    Goose,
    Sqlx,
}

impl Tool {
    fn name(self) -> &'static str {
        match self {
            Tool::GolangMigrate => "golang-migrate",
            Tool::Dbmate => "dbmate",
            Tool::Goose => "goose",
            Tool::Sqlx => "sqlx",
        }
    }

    /// The file name form, for messages.
    fn form(self) -> &'static str {
        match self {
            Tool::GolangMigrate => "`<version>_<title>.up.sql` and `<version>_<title>.down.sql`",
            Tool::Sqlx => "`<version>_<description>.up.sql` and `.down.sql`, or `<version>_<description>.sql`",
            Tool::Dbmate | Tool::Goose => "`<version>_<description>.sql`",
        }
    }
}

/// Why nothing was imported; in every case nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(
        "the tools `import` reads write SQL; MongoDB migrations are YAML command lists: write them with \
         `migrator new mongodb \"…\"`"
    )]
    NotSql,
    #[error("cannot read `{}`: {source}; nothing was written", .path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("`{}` holds no .sql file; point `migrator import {tool}` at the folder holding the migrations", .dir.display())]
    Empty { dir: PathBuf, tool: &'static str },
    #[error(
        "`{}` is not a {tool} migration file name ({form}); rename it or move it out of the folder; nothing was written",
        .path.display()
    )]
    BadName { path: PathBuf, tool: &'static str, form: &'static str },
    #[error(
        "`{}` has no `{marker}` section, so it is not a {tool} migration; add the marker or remove the file; \
         nothing was written",
        .path.display()
    )]
    NoUpSection { path: PathBuf, tool: &'static str, marker: &'static str },
    #[error("`{}` is a downgrade without its upgrade `{expected}`; nothing was written", .path.display())]
    DowngradeOnly { path: PathBuf, expected: String },
    #[error("version `{version}` is used by `{first}` and `{second}`; give each its own version; nothing was written")]
    DuplicateVersion { version: String, first: String, second: String },
    #[error(
        "`{}` already exists; nothing was written (`migrator import` never overwrites a file): import into a folder \
         without these versions",
        .path.display()
    )]
    Exists { path: PathBuf },
    #[error("cannot write `{}`: {source}", .path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

/// What an import wrote, and what a person must look at before the next build.
#[derive(Debug, Default)]
pub struct Imported {
    /// Every file written, upgrade then downgrade per migration, by version.
    pub written: Vec<PathBuf>,
    /// One line per thing to review: `path: what`.
    pub needs_a_person: Vec<String>,
}

/// One migration read from the other tool's folder.
#[derive(Debug)]
struct Pair {
    /// As written in the source name, leading zeros kept.
    digits: String,
    description: String,
    /// The file(s) it came from, for messages.
    origin: String,
    upgrade: Section,
    downgrade: Option<Section>,
}

#[derive(Debug, Default)]
struct Section {
    text: String,
    no_transaction: bool,
}

/// Converts the `tool` migrations in `dir` into `into/<target>/{upgrade,downgrade}/`, where
/// `into` is a `migrations` folder (its parent is the sources root the checks run on).
pub fn import(tool: Tool, dir: &Path, target: SqlTarget, into: &Path) -> Result<Imported, ImportError> {
    let dialect = match target {
        SqlTarget::Postgres => Dialect::Postgres,
        SqlTarget::ClickHouse => Dialect::ClickHouse,
        SqlTarget::MongoDb => return Err(ImportError::NotSql),
    };
    let pairs = read_pairs(tool, dir, dialect)?;
    let folder = |direction: Direction| into.join(dialect.dir()).join(direction.dir());
    let mut files = Vec::new();
    let mut imported = Imported::default();
    for pair in &pairs {
        let name = format!("V{}-{}.sql", pair.digits, pair.description);
        files.push((folder(Direction::Upgrade).join(&name), converted(&pair.upgrade)));
        let downgrade_path = folder(Direction::Downgrade).join(&name);
        let downgrade = match &pair.downgrade {
            Some(section) if has_statement(&section.text, dialect) => converted(section),
            _ => {
                imported.needs_a_person.push(format!(
                    "{}: {} has no downgrade, so the placeholder was written: write the SQL that undoes the upgrade, \
                     or make the file `{} <reason>` (nothing to undo) or `{} <reason>` (cannot be undone)",
                    downgrade_path.display(),
                    pair.origin,
                    migrations::NO_OP,
                    migrations::IRREVERSIBLE
                ));
                format!("-- {} had no downgrade.\n{};\n", pair.origin, placeholder::PLACEHOLDER)
            }
        };
        files.push((downgrade_path, downgrade));
    }
    if let Some((path, _)) = files.iter().find(|(path, _)| path.exists()) {
        return Err(ImportError::Exists { path: path.clone() });
    }
    for (path, text) in &files {
        write_new(path, text)?;
        imported.written.push(path.clone());
    }
    imported.needs_a_person.extend(problems_in(into, &imported.written));
    Ok(imported)
}

/// The pairs of `dir`, by version; every name must be the tool's.
fn read_pairs(tool: Tool, dir: &Path, dialect: Dialect) -> Result<Vec<Pair>, ImportError> {
    let read_error = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ImportError::Read { path, source }
    };
    let mut names: Vec<String> = fs::read_dir(dir)
        .map_err(read_error(dir))?
        .filter_map(Result::ok)
        .filter(|entry| entry.file_type().is_ok_and(|kind| kind.is_file()))
        .filter_map(|entry| entry.file_name().into_string().ok())
        .filter(|name| name.ends_with(".sql"))
        .collect();
    names.sort();
    if names.is_empty() {
        return Err(ImportError::Empty { dir: dir.to_path_buf(), tool: tool.name() });
    }
    let mut pairs: BTreeMap<u128, Pair> = BTreeMap::new();
    let mut downgrades = Vec::new();
    for name in names {
        let path = dir.join(&name);
        let bytes = fs::read(&path).map_err(read_error(&path))?;
        let text = source::normalize(&bytes).unwrap_or_else(|_| String::from_utf8_lossy(&bytes).into_owned());
        let bad_name = || ImportError::BadName { path: path.clone(), tool: tool.name(), form: tool.form() };
        let split_name = match tool {
            Tool::GolangMigrate | Tool::Sqlx => other_tools::split_pair_name(&name),
            Tool::Dbmate | Tool::Goose => None,
        };
        let (digits, description, sections) = match (tool, split_name) {
            (Tool::GolangMigrate | Tool::Sqlx, Some((direction, ours))) => {
                let (digits, description) = ours_parts(&ours).ok_or_else(bad_name)?;
                if direction == Direction::Downgrade {
                    downgrades.push((digits, description, name.clone(), section_of_whole(text)));
                    continue;
                }
                (digits, description, (section_of_whole(text), None))
            }
            (Tool::GolangMigrate, None) => return Err(bad_name()),
            (Tool::Sqlx | Tool::Dbmate | Tool::Goose, _) => {
                let (digits, description) = plain_parts(&name).ok_or_else(bad_name)?;
                let sections = match tool {
                    Tool::Sqlx => (section_of_whole(text), None),
                    _ => split_one_file(tool, &path, &text, dialect)?,
                };
                (digits, description, sections)
            }
        };
        insert(
            &mut pairs,
            Pair { digits, description, origin: format!("`{name}`"), upgrade: sections.0, downgrade: sections.1 },
        )?;
    }
    for (digits, description, name, section) in downgrades {
        let pair =
            pairs.get_mut(&version_key(&digits)).filter(|pair| pair.description == description).ok_or_else(|| {
                ImportError::DowngradeOnly { path: dir.join(&name), expected: name.replace(".down.sql", ".up.sql") }
            })?;
        pair.origin = format!("{} and `{name}`", pair.origin);
        pair.downgrade = Some(section);
    }
    Ok(pairs.into_values().collect())
}

fn insert(pairs: &mut BTreeMap<u128, Pair>, pair: Pair) -> Result<(), ImportError> {
    let key = version_key(&pair.digits);
    if let Some(existing) = pairs.get(&key) {
        return Err(ImportError::DuplicateVersion {
            version: pair.digits.clone(),
            first: existing.origin.trim_matches('`').to_owned(),
            second: pair.origin.trim_matches('`').to_owned(),
        });
    }
    pairs.insert(key, pair);
    Ok(())
}

/// Versions compare as numbers; a version too large for any history still sorts (the build then
/// says how to renumber it).
fn version_key(digits: &str) -> u128 {
    digits.parse().unwrap_or(u128::MAX)
}

/// `V<digits>-<description>.sql` → its two parts.
fn ours_parts(name: &str) -> Option<(String, String)> {
    let (digits, description) = name.strip_prefix('V')?.strip_suffix(".sql")?.split_once('-')?;
    Some((digits.to_owned(), description.to_owned()))
}

/// `<digits>_<description>.sql` → its two parts.
fn plain_parts(name: &str) -> Option<(String, String)> {
    let (digits, description) = name.strip_suffix(".sql")?.split_once('_')?;
    let valid = !digits.is_empty() && digits.bytes().all(|byte| byte.is_ascii_digit()) && !description.is_empty();
    valid.then(|| (digits.to_owned(), description.to_owned()))
}

/// A whole file as one direction; sqlx's `-- no-transaction` first line becomes ours.
fn section_of_whole(text: String) -> Section {
    let first_line = text.split('\n').next().unwrap_or_default().trim();
    if first_line == "-- no-transaction" {
        let rest = text.split_once('\n').map_or("", |(_, rest)| rest).to_owned();
        return Section { text: rest, no_transaction: true };
    }
    Section { text, no_transaction: false }
}

/// A dbmate or goose file split at its section markers, with every marker line dropped and
/// what the markers meant kept.
fn split_one_file(
    tool: Tool,
    path: &Path,
    text: &str,
    dialect: Dialect,
) -> Result<(Section, Option<Section>), ImportError> {
    let markers = other_tools::markers(text, dialect);
    let file_no_transaction =
        tool == Tool::Goose && markers.iter().any(|marker| marker.meaning == Meaning::NoTransaction);
    let mut sections: [Option<Section>; 2] = [None, None];
    // Lines before the first section marker (a header comment) go with the upgrade.
    let mut preamble = String::new();
    let mut current: Option<usize> = None;
    let mut line_start = 0;
    for line in text.split_inclusive('\n') {
        let line_end = line_start + line.len();
        let on_line: Vec<_> = markers.iter().filter(|marker| (line_start..line_end).contains(&marker.offset)).collect();
        line_start = line_end;
        if on_line.is_empty() {
            match current.and_then(|index| sections[index].as_mut()) {
                Some(section) => section.text.push_str(line),
                None => preamble.push_str(line),
            }
            continue;
        }
        for marker in on_line {
            match marker.meaning {
                Meaning::Section(direction) => {
                    let index = usize::from(direction == Direction::Downgrade);
                    sections[index].get_or_insert_with(Section::default);
                    current = Some(index);
                }
                Meaning::NoTransaction => {
                    if let Some(section) = current.and_then(|index| sections[index].as_mut()) {
                        section.no_transaction = true;
                    }
                }
                Meaning::StatementBlock | Meaning::Annotation => {}
            }
        }
    }
    let [upgrade, downgrade] = sections;
    let marker = if tool == Tool::Dbmate { "-- migrate:up" } else { "-- +goose Up" };
    let mut upgrade =
        upgrade.ok_or_else(|| ImportError::NoUpSection { path: path.to_path_buf(), tool: tool.name(), marker })?;
    upgrade.text.insert_str(0, preamble.trim_start_matches('\n'));
    let mut downgrade = downgrade;
    if file_no_transaction {
        upgrade.no_transaction = true;
        if let Some(downgrade) = &mut downgrade {
            downgrade.no_transaction = true;
        }
    }
    Ok((upgrade, downgrade))
}

/// The section as our file: our directive first when it runs outside a transaction.
fn converted(section: &Section) -> String {
    let text = section.text.trim_matches('\n');
    match section.no_transaction {
        true => format!("{}\n{text}\n", migrations::NO_TRANSACTION),
        false => format!("{text}\n"),
    }
}

fn has_statement(text: &str, dialect: Dialect) -> bool {
    sql::split(text, dialect).map_or(true, |statements| !statements.is_empty())
}

fn write_new(path: &Path, text: &str) -> Result<(), ImportError> {
    let write_error = |source| ImportError::Write { path: path.to_path_buf(), source };
    if let Some(folder) = path.parent() {
        fs::create_dir_all(folder).map_err(write_error)?;
    }
    let mut file = OpenOptions::new().write(true).create_new(true).open(path).map_err(write_error)?;
    file.write_all(text.as_bytes()).map_err(write_error)
}

/// The build's problems in the written files, found by running the build's own checks on the
/// sources root around `into`.
fn problems_in(into: &Path, written: &[PathBuf]) -> Vec<String> {
    let Some(root) = into.parent() else {
        return Vec::new();
    };
    let root = if root.as_os_str().is_empty() { Path::new(".") } else { root };
    let relative: Vec<String> = written
        .iter()
        .filter_map(|path| path.strip_prefix(root).ok())
        .map(|path| path.to_string_lossy().replace('\\', "/"))
        .collect();
    let Err(problems) = tradeforge_migrator_spec::compile(root) else {
        return Vec::new();
    };
    problems
        .iter()
        .map(ToString::to_string)
        .filter(|message| relative.iter().any(|path| message.starts_with(path.as_str())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_split_into_version_and_description() {
        assert_eq!(
            plain_parts("20240101120000_create_teams.sql"),
            Some(("20240101120000".into(), "create_teams".into()))
        );
        assert_eq!(plain_parts("create_teams.sql"), None);
        assert_eq!(ours_parts("V000001-create_teams.sql"), Some(("000001".into(), "create_teams".into())));
    }

    #[test]
    fn sqlx_no_transaction_becomes_ours() {
        let section = section_of_whole("-- no-transaction\nCREATE INDEX CONCURRENTLY i ON t (x);\n".into());
        assert_eq!(converted(&section), "-- migrator:no-transaction\nCREATE INDEX CONCURRENTLY i ON t (x);\n");
    }

    #[test]
    fn a_dbmate_file_splits_at_its_markers() {
        let text = "-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY i ON t (x);\n\n-- migrate:down\nDROP INDEX i;\n";
        let (upgrade, downgrade) =
            split_one_file(Tool::Dbmate, Path::new("x.sql"), text, Dialect::Postgres).expect("splits");
        assert_eq!(converted(&upgrade), "-- migrator:no-transaction\nCREATE INDEX CONCURRENTLY i ON t (x);\n");
        assert_eq!(converted(&downgrade.expect("a down section")), "DROP INDEX i;\n");
    }
}
