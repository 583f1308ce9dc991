//! Where the sources are, and how every source file is read.
//!
//! The sources root holds, each part optional:
//!
//! ```text
//! migrations/
//!     postgres/upgrade/V0001-create_users.sql
//!     postgres/downgrade/V0001-create_users.sql
//!     postgres/data/backfill_display_names.rs      (Rust data migrations, PostgreSQL only)
//!     clickhouse/upgrade/V0001-create_ticks.sql
//!     clickhouse/downgrade/V0001-create_ticks.sql
//! kafka_topics.yml
//! indicators/data/*.json
//! ```
//!
//! A missing folder means nothing of that kind; a missing `kafka_topics.yml` means no topics.
//! Dotfiles (`.gitkeep`, `.DS_Store`) are ignored everywhere. [`discover`] only lists what is
//! there; deciding whether a name is acceptable is left to the rules in `migrations`, so that a
//! misnamed file becomes an error instead of being skipped.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::diag::Location;
use crate::model::Dialect;

/// The folder of SQL migrations, relative to the sources root.
pub const MIGRATIONS_DIR: &str = "migrations";
/// The topics file, relative to the sources root.
pub const KAFKA_TOPICS_FILE: &str = "kafka_topics.yml";
/// The indicators folder (it holds `data/`), relative to the sources root.
pub const INDICATORS_DIR: &str = "indicators";
/// The folder of indicator definitions, relative to the sources root.
pub const INDICATOR_DATA_DIR: &str = "indicators/data";
/// The folder of PostgreSQL data migrations written in Rust (see `data`), relative to the root.
pub const DATA_MIGRATIONS_DIR: &str = "migrations/postgres/data";
/// Its name inside `migrations/postgres`.
pub const DATA_FOLDER: &str = "data";

/// Every target with SQL migrations, in the order the plan applies them.
pub const DIALECTS: [Dialect; 2] = [Dialect::Postgres, Dialect::ClickHouse];

/// Whether a SQL file applies a change or undoes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Direction {
    Upgrade,
    Downgrade,
}

impl Direction {
    pub const ALL: [Direction; 2] = [Direction::Upgrade, Direction::Downgrade];

    /// The folder name under `migrations/<target>/`, also the word used in messages.
    pub fn dir(self) -> &'static str {
        match self {
            Direction::Upgrade => "upgrade",
            Direction::Downgrade => "downgrade",
        }
    }
}

impl std::fmt::Display for Direction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.dir())
    }
}

/// The folder of one target's upgrades or downgrades, e.g. `migrations/postgres/upgrade`.
pub fn migration_dir(dialect: Dialect, direction: Direction) -> String {
    format!("{MIGRATIONS_DIR}/{}/{}", dialect.dir(), direction.dir())
}

/// One entry of an upgrade or downgrade folder, whatever its name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MigrationFile {
    pub dialect: Dialect,
    pub direction: Direction,
    /// The file name alone, e.g. `V0001-create_users.sql`.
    pub name: String,
    /// Relative to the sources root, `/`-separated.
    pub path: String,
}

/// Every source file under one root, each list sorted by name so the plan never depends on the
/// order a file system returns entries in.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Inputs {
    pub root: PathBuf,
    /// Regular files of every upgrade and downgrade folder: postgres before clickhouse, upgrade
    /// before downgrade, then by name. Files not named `*.sql` are included so the rules can
    /// reject them.
    pub migration_files: Vec<MigrationFile>,
    /// Entries under `migrations/` that are not part of the layout: an unknown folder such as
    /// `migrations/postgress`, a file beside the target folders, a folder inside `upgrade/`.
    /// Relative, `/`-separated, sorted.
    pub stray_entries: Vec<String>,
    /// Every regular file of `migrations/postgres/data`, relative and sorted; files not named
    /// `*.rs` are included so the rules can reject them.
    pub data_files: Vec<String>,
    /// `kafka_topics.yml` when it exists.
    pub kafka_topics: Option<String>,
    /// `indicators/data/*.json`, relative and sorted; other files there are not indicator
    /// definitions and are not listed.
    pub indicator_files: Vec<String>,
    /// Files that look like sources but would not be read under their name
    /// (`kafka_topics.yaml`, `indicators/data/rsi.JSON`), with the name they need.
    pub misnamed: Vec<Misnamed>,
}

/// A file that looks like a source but is named so that it would be silently skipped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Misnamed {
    pub path: String,
    pub expected: &'static str,
}

/// Problems with the sources root itself, before any file is read.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("{path}: the sources folder does not exist; check the path given to `plan!`")]
    MissingRoot { path: String },
    #[error("{path}: this file is not read under its name; rename it to {expected}")]
    Misnamed { path: String, expected: &'static str },
}

impl Inputs {
    /// The absolute path of a file given relative to the sources root.
    pub fn path(&self, relative: &str) -> PathBuf {
        self.root.join(relative)
    }
}

/// Lists every source file under `root`.
///
/// Fails only when a folder that exists cannot be listed, or holds a name that is not UTF-8
/// (a source's path is part of every message and of the plan, so it must be text).
pub fn discover(root: &Path) -> io::Result<Inputs> {
    let mut inputs = Inputs { root: root.to_path_buf(), ..Inputs::default() };
    discover_migrations(root, &mut inputs)?;
    if root.join(KAFKA_TOPICS_FILE).is_file() {
        inputs.kafka_topics = Some(KAFKA_TOPICS_FILE.to_string());
    }
    // A look-alike would be skipped without a word, and its topics would never be created.
    for lookalike in ["kafka_topics.yaml", "kafka-topics.yml", "kafka-topics.yaml", "kafka_topics.YML"] {
        if root.join(lookalike).is_file() && !root.join(KAFKA_TOPICS_FILE).is_file() {
            inputs.misnamed.push(Misnamed { path: lookalike.to_string(), expected: "`kafka_topics.yml`" });
        }
    }
    for entry in list_dir(root, INDICATOR_DATA_DIR)? {
        if entry.is_dir {
            continue;
        }
        if entry.name.ends_with(".json") {
            inputs.indicator_files.push(entry.path);
        } else {
            inputs.misnamed.push(Misnamed {
                path: entry.path,
                expected: "`*.json` (lowercase), or move it out of `indicators/data`",
            });
        }
    }
    Ok(inputs)
}

/// Walks `migrations/<target>/<direction>/`, keeping anything unexpected as a stray entry.
fn discover_migrations(root: &Path, inputs: &mut Inputs) -> io::Result<()> {
    for target in list_dir(root, MIGRATIONS_DIR)? {
        // MongoDB's files are not SQL: `mongodb::check` lists and checks that folder itself.
        if target.is_dir && target.name == crate::mongodb::TARGET_FOLDER {
            continue;
        }
        let Some(dialect) = DIALECTS.into_iter().find(|d| target.is_dir && d.dir() == target.name) else {
            inputs.stray_entries.push(target.path);
            continue;
        };
        for folder in list_dir(root, &target.path)? {
            if dialect == Dialect::Postgres && folder.is_dir && folder.name == DATA_FOLDER {
                for file in list_dir(root, &folder.path)? {
                    if file.is_dir {
                        inputs.stray_entries.push(file.path);
                    } else {
                        inputs.data_files.push(file.path);
                    }
                }
                continue;
            }
            let Some(direction) = Direction::ALL.into_iter().find(|d| folder.is_dir && d.dir() == folder.name) else {
                inputs.stray_entries.push(folder.path);
                continue;
            };
            for file in list_dir(root, &folder.path)? {
                if file.is_dir {
                    inputs.stray_entries.push(file.path);
                } else {
                    inputs.migration_files.push(MigrationFile { dialect, direction, name: file.name, path: file.path });
                }
            }
        }
    }
    // Folders come out of `list_dir` by name ("clickhouse" < "postgres"); put them in plan order.
    inputs.migration_files.sort_by(|a, b| {
        (dialect_rank(a.dialect), a.direction, &a.name).cmp(&(dialect_rank(b.dialect), b.direction, &b.name))
    });
    inputs.stray_entries.sort();
    Ok(())
}

fn dialect_rank(dialect: Dialect) -> usize {
    DIALECTS.iter().position(|d| *d == dialect).unwrap_or(DIALECTS.len())
}

pub(crate) struct Entry {
    pub(crate) name: String,
    /// Relative to the sources root.
    pub(crate) path: String,
    pub(crate) is_dir: bool,
}

/// The non-dot entries of `root/relative`, sorted by name; empty when the folder is missing.
pub(crate) fn list_dir(root: &Path, relative: &str) -> io::Result<Vec<Entry>> {
    let dir = root.join(relative);
    let read_dir = match fs::read_dir(&dir) {
        Ok(read_dir) => read_dir,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => return Err(with_path(&dir, error)),
    };
    let mut entries = Vec::new();
    for entry in read_dir {
        let entry = entry.map_err(|error| with_path(&dir, error))?;
        let Ok(name) = entry.file_name().into_string() else {
            let message = format!("{}: file name {:?} is not UTF-8; rename it", dir.display(), entry.file_name());
            return Err(io::Error::new(io::ErrorKind::InvalidData, message));
        };
        if name.starts_with('.') {
            continue;
        }
        // `Path::is_dir` follows symlinks, so a linked folder counts as a folder.
        let is_dir = entry.path().is_dir();
        entries.push(Entry { path: format!("{relative}/{name}"), name, is_dir });
    }
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(entries)
}

fn with_path(path: &Path, error: io::Error) -> io::Error {
    io::Error::new(error.kind(), format!("{}: {error}", path.display()))
}

/// The paths build.rs declares with `cargo:rerun-if-changed`, so that adding, removing or
/// editing a source rebuilds the plan: `migrations`, `indicators` and `kafka_topics.yml`, each
/// only when it exists.
///
/// Folders are enough: Cargo scans a declared folder recursively and compares the newest mtime
/// of everything in it, folders included, so a new or deleted file anywhere below changes the
/// folder's mtime. A missing path is left out because Cargo treats a declared path that does
/// not exist as changed on every build, which would rebuild the crate each time. The price:
/// creating a missing top-level source (the first `kafka_topics.yml`) is not noticed until
/// something else triggers a rebuild, since watching the root would also watch `target/`.
pub fn watch_paths(inputs: &Inputs) -> Vec<PathBuf> {
    [MIGRATIONS_DIR, INDICATORS_DIR, KAFKA_TOPICS_FILE]
        .iter()
        .map(|relative| inputs.path(relative))
        .filter(|path| path.exists())
        .collect()
}

/// Decodes a source file as UTF-8, drops a leading byte order mark and turns CRLF and lone CR
/// into LF, so that a checksum does not change when git or an editor converts line endings.
pub fn normalize(bytes: &[u8]) -> Result<String, std::str::Utf8Error> {
    let text = std::str::from_utf8(bytes)?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if !text.contains('\r') {
        return Ok(text.to_string());
    }
    let mut normalized = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(index) = rest.find('\r') {
        normalized.push_str(&rest[..index]);
        normalized.push('\n');
        rest = &rest[index + 1..];
        rest = rest.strip_prefix('\n').unwrap_or(rest);
    }
    normalized.push_str(rest);
    Ok(normalized)
}

/// `sha256:<lowercase hex>` of `text`; the prefix names the algorithm so it can change later
/// without old checksums being misread.
pub fn sha256_hex(text: &str) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(text.as_bytes())))
}

/// Why a source file could not be read; each module wraps it in its own error.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{at}: cannot read the file: {source}; check that it exists and is readable")]
    Io { at: Location, source: io::Error },
    #[error("{at}: the file is not valid UTF-8; save it as UTF-8")]
    NotUtf8 { at: Location },
}

/// Reads the source file at `relative` (to `root`) and [`normalize`]s it. A file that is not
/// UTF-8 is reported at the line and column of its first bad byte.
pub fn read(root: &Path, relative: &str) -> Result<String, ReadError> {
    let bytes =
        fs::read(root.join(relative)).map_err(|source| ReadError::Io { at: Location::file(relative), source })?;
    normalize(&bytes).map_err(|error| {
        // The prefix up to the bad byte is valid, so normalising it cannot fail; counting in
        // the normalised prefix makes CRLF count as one line break, as in an editor.
        let valid = normalize(&bytes[..error.valid_up_to()]).unwrap_or_default();
        let (line, column) = line_column(&valid, valid.len());
        ReadError::NotUtf8 { at: Location::at(relative, line, column) }
    })
}

/// The 1-based line and column (in characters) of `byte_offset` in normalised `text`.
///
/// `byte_offset` must lie on a character boundary; one past the end is allowed.
pub fn line_column(text: &str, byte_offset: usize) -> (u32, u32) {
    let before = text.get(..byte_offset).unwrap_or(text);
    let line = before.bytes().filter(|&byte| byte == b'\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |index| index + 1);
    let column = before[line_start..].chars().count() + 1;
    (saturating_u32(line), saturating_u32(column))
}

fn saturating_u32(value: usize) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Path, relative: &str, contents: &[u8]) {
        let path = root.join(relative);
        fs::create_dir_all(path.parent().expect("test paths have a parent")).expect("create test folder");
        fs::write(path, contents).expect("write test file");
    }

    fn names(inputs: &Inputs) -> Vec<&str> {
        inputs.migration_files.iter().map(|file| file.path.as_str()).collect()
    }

    #[test]
    fn discover_lists_migrations_in_plan_order_sorted_by_name() {
        let root = tempfile::tempdir().expect("temp dir");
        for path in [
            "migrations/clickhouse/upgrade/V0001-ticks.sql",
            "migrations/postgres/downgrade/V0001-users.sql",
            "migrations/postgres/upgrade/V0002-orders.sql",
            "migrations/postgres/upgrade/V0001-users.sql",
        ] {
            write(root.path(), path, b"SELECT 1;");
        }
        let inputs = discover(root.path()).expect("discover");
        assert_eq!(
            names(&inputs),
            [
                "migrations/postgres/upgrade/V0001-users.sql",
                "migrations/postgres/upgrade/V0002-orders.sql",
                "migrations/postgres/downgrade/V0001-users.sql",
                "migrations/clickhouse/upgrade/V0001-ticks.sql",
            ]
        );
        let first = &inputs.migration_files[0];
        assert_eq!(
            (first.dialect, first.direction, first.name.as_str()),
            (Dialect::Postgres, Direction::Upgrade, "V0001-users.sql")
        );
    }

    #[test]
    fn discover_treats_missing_parts_as_empty() {
        let root = tempfile::tempdir().expect("temp dir");
        let inputs = discover(root.path()).expect("discover");
        assert_eq!(inputs, Inputs { root: root.path().to_path_buf(), ..Inputs::default() });
    }

    #[test]
    fn discover_ignores_dotfiles_but_keeps_misnamed_files() {
        let root = tempfile::tempdir().expect("temp dir");
        write(root.path(), "migrations/postgres/upgrade/.gitkeep", b"");
        write(root.path(), "migrations/.DS_Store", b"");
        write(root.path(), "indicators/data/.gitkeep", b"");
        write(root.path(), "migrations/postgres/upgrade/V0001-users.SQL", b"");
        let inputs = discover(root.path()).expect("discover");
        assert_eq!(names(&inputs), ["migrations/postgres/upgrade/V0001-users.SQL"]);
        assert!(inputs.stray_entries.is_empty());
        assert!(inputs.indicator_files.is_empty());
    }

    #[test]
    fn discover_keeps_entries_outside_the_layout_as_stray() {
        let root = tempfile::tempdir().expect("temp dir");
        write(root.path(), "migrations/postgress/upgrade/V0001-a.sql", b"");
        write(root.path(), "migrations/postgres/V0001-a.sql", b"");
        write(root.path(), "migrations/postgres/upgrade/old/V0001-a.sql", b"");
        let inputs = discover(root.path()).expect("discover");
        assert_eq!(
            inputs.stray_entries,
            ["migrations/postgres/V0001-a.sql", "migrations/postgres/upgrade/old", "migrations/postgress"]
        );
        assert!(inputs.migration_files.is_empty());
    }

    #[test]
    fn discover_finds_topics_and_json_indicators_only() {
        let root = tempfile::tempdir().expect("temp dir");
        write(root.path(), "kafka_topics.yml", b"topics: []");
        write(root.path(), "indicators/data/trend.json", b"{}");
        write(root.path(), "indicators/data/README.md", b"");
        write(root.path(), "indicators/data/momentum.json", b"{}");
        let inputs = discover(root.path()).expect("discover");
        assert_eq!(inputs.kafka_topics.as_deref(), Some("kafka_topics.yml"));
        assert_eq!(inputs.indicator_files, ["indicators/data/momentum.json", "indicators/data/trend.json"]);
    }

    #[test]
    fn watch_paths_are_the_existing_top_level_sources() {
        let root = tempfile::tempdir().expect("temp dir");
        write(root.path(), "migrations/postgres/upgrade/V0001-a.sql", b"");
        let inputs = discover(root.path()).expect("discover");
        assert_eq!(watch_paths(&inputs), [root.path().join("migrations")]);
        write(root.path(), "kafka_topics.yml", b"");
        write(root.path(), "indicators/data/a.json", b"{}");
        assert_eq!(
            watch_paths(&inputs),
            ["migrations", "indicators", "kafka_topics.yml"].map(|relative| root.path().join(relative))
        );
    }

    #[test]
    fn normalize_strips_bom_and_converts_line_endings() {
        assert_eq!(normalize(b"\xEF\xBB\xBFa\r\nb\rc\n").expect("utf-8"), "a\nb\nc\n");
        assert_eq!(normalize(b"a\r\r\nb").expect("utf-8"), "a\n\nb");
        assert_eq!(normalize("добавить\n".as_bytes()).expect("utf-8"), "добавить\n");
    }

    #[test]
    fn normalize_rejects_invalid_utf8() {
        assert!(normalize(b"ab\xFF").is_err());
    }

    #[test]
    fn sha256_hex_names_the_algorithm() {
        assert_eq!(sha256_hex(""), "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    }

    #[test]
    fn read_reports_invalid_utf8_at_line_and_column() {
        let root = tempfile::tempdir().expect("temp dir");
        write(root.path(), "a.sql", b"SELECT 1;\r\nSELECT '\xFF';");
        let error = read(root.path(), "a.sql").expect_err("not UTF-8");
        assert_eq!(error.to_string(), "a.sql:2:9: the file is not valid UTF-8; save it as UTF-8");
    }

    #[test]
    fn read_reports_a_missing_file_with_its_path() {
        let root = tempfile::tempdir().expect("temp dir");
        let error = read(root.path(), "missing.sql").expect_err("missing");
        assert!(error.to_string().starts_with("missing.sql: cannot read the file: "), "{error}");
    }

    #[test]
    fn line_column_counts_characters_not_bytes() {
        assert_eq!(line_column("ab\nдв;", "ab\nдв".len()), (2, 3));
        assert_eq!(line_column("", 0), (1, 1));
    }
    #[test]
    fn lookalike_sources_are_listed_as_misnamed() {
        let root = tempfile::tempdir().unwrap();
        std::fs::write(root.path().join("kafka_topics.yaml"), "topics: []\n").unwrap();
        std::fs::create_dir_all(root.path().join("indicators/data")).unwrap();
        std::fs::write(root.path().join("indicators/data/rsi.JSON"), "[]").unwrap();
        std::fs::write(root.path().join("indicators/data/.gitkeep"), "").unwrap();
        let inputs = discover(root.path()).unwrap();
        let paths: Vec<&str> = inputs.misnamed.iter().map(|misnamed| misnamed.path.as_str()).collect();
        assert_eq!(paths, ["kafka_topics.yaml", "indicators/data/rsi.JSON"]);
        assert!(inputs.kafka_topics.is_none() && inputs.indicator_files.is_empty());
    }
}
