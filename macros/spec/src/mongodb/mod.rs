//! MongoDB migrations: paired upgrade/downgrade files of database commands, checked at build
//! time by `compile()` and carried in the plan as one canonical JSON string per command
//! ([`codegen`]), which `targets::mongodb` in the runtime runs one by one.
//!
//! ## Format
//!
//! `migrations/mongodb/{upgrade,downgrade}/V<digits>-<description>.yml`, named and paired by
//! the SQL migrations' own rules (`migrations::pair_files`). Each file is a YAML mapping with
//! `commands`, a list of database commands written as MongoDB reads them (command name first,
//! the collection as its value, then its options):
//!
//! ```yaml
//! commands:
//!   - create: system_logs
//!     validator:
//!       $jsonSchema: {bsonType: object, required: [timestamp, level]}
//!   - createIndexes: system_logs
//!     indexes:
//!       - {key: {timestamp: 1}, name: system_logs_ttl, expireAfterSeconds: 2592000}
//! ```
//!
//! A downgrade may instead declare, with a reason, that it undoes nothing (`no_op: <why>`) or
//! that the upgrade cannot be undone (`irreversible: <why>`), as SQL downgrades do.
//!
//! Why YAML and a list of commands: comments say why a migration does what it does; the tree
//! parser gives every mistake its path:line:column; a command list is exactly what a run
//! executes, one command at a time, so nothing is interpreted between the file and the server.
//! Only the commands in [`commands::COMMANDS`] are accepted (DDL and the three data commands);
//! `$jsonSchema` is the only validator form, so that it can be checked.
//!
//! ## What the runtime does with them
//!
//! MongoDB's DDL is not transactional, so a migration cannot be all-or-nothing. History
//! records progress per command ([`model::Command::checksum`] and its index): a run that fails
//! half-way records the commands that succeeded, and the next run resumes at the failed
//! command, never re-running one that succeeded (and refusing if a recorded command's checksum
//! changed). The runtime turns collection names into namespaces in `MONGO_DATABASE`, and
//! integers into BSON int32 where they fit (index directions, TTLs).

pub mod codegen;
pub mod commands;
pub mod editor_schema;
pub mod error;
pub mod indexes;
pub mod json_schema;
pub mod model;
pub mod names;

use std::path::Path;

use crate::diag::{DidYouMean, Location, Problems};
use crate::migrations::{self, Layout, MigrationError, PairedFile};
use crate::model::Reversal;
use crate::source::{self, Direction};
use crate::tree::{self, Value};

pub use error::MongoError;
pub use model::{Command, MongoMigration, MongoScript};

/// The folder of MongoDB migrations, relative to the sources root.
pub const MONGODB_DIR: &str = "migrations/mongodb";

/// Its name under `migrations/`, beside `postgres` and `clickhouse`.
pub const TARGET_FOLDER: &str = "mongodb";

/// The extension of a MongoDB migration file.
pub const EXTENSION: &str = "yml";

/// The keys of a migration file.
pub const FILE_KEYS: &[&str] = &["commands", NO_OP, IRREVERSIBLE];

/// A downgrade that deliberately undoes nothing, with the reason.
pub const NO_OP: &str = "no_op";

/// The downgrade of an upgrade that cannot be undone, with the reason.
pub const IRREVERSIBLE: &str = "irreversible";

/// Where MongoDB migrations live; history keeps versions as BSON int64.
pub fn layout() -> Layout {
    Layout { dir: MONGODB_DIR.to_string(), extension: EXTENSION, max_version: i64::MAX.unsigned_abs() }
}

/// One file of `upgrade/` or `downgrade/`.
struct MongoFile {
    direction: Direction,
    name: String,
    path: String,
}

impl PairedFile for MongoFile {
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

/// Reads and checks `migrations/mongodb` under `root`, pushing every problem, and returns the
/// valid migrations by ascending version. A missing folder means no migrations.
pub fn check(root: &Path, problems: &mut Problems) -> Vec<MongoMigration> {
    let layout = layout();
    let mut files = Vec::new();
    let mut nested = [false; 2];
    let folders = match source::list_dir(root, MONGODB_DIR) {
        Ok(entries) => entries,
        Err(error) => {
            problems.push(source::ReadError::Io { at: Location::file(MONGODB_DIR), source: error });
            return Vec::new();
        }
    };
    for folder in folders {
        let Some(direction) = Direction::ALL.into_iter().find(|d| folder.is_dir && d.dir() == folder.name) else {
            let allowed = Direction::ALL.map(Direction::dir);
            problems.push(MigrationError::StrayInTarget {
                at: Location::file(folder.path.as_str()),
                folder: MONGODB_DIR.to_string(),
                hint: DidYouMean::find(&folder.name, allowed),
                allowed: allowed.map(str::to_owned).to_vec(),
            });
            continue;
        };
        let entries = match source::list_dir(root, &folder.path) {
            Ok(entries) => entries,
            Err(error) => {
                problems.push(source::ReadError::Io { at: Location::file(folder.path.as_str()), source: error });
                continue;
            }
        };
        for entry in entries {
            if entry.is_dir {
                nested[usize::from(direction == Direction::Downgrade)] = true;
                problems
                    .push(MigrationError::NestedFolder { at: Location::file(entry.path), folder: folder.path.clone() });
            } else {
                files.push(MongoFile { direction, name: entry.name, path: entry.path });
            }
        }
    }
    let paired =
        migrations::pair_files(&layout, files.iter(), std::iter::empty(), nested, problems, |file, problems| {
            read_file(root, &layout, file, problems)
        });
    paired
        .pairs
        .into_iter()
        .map(|pair| {
            let ((upgrade, _), (downgrade, reversal)) = (pair.upgrade, pair.downgrade);
            MongoMigration {
                version: pair.version,
                description: pair.description,
                checksum: source::sha256_hex(&upgrade.text),
                upgrade,
                downgrade,
                reversal,
            }
        })
        .collect()
}

fn read_file(
    root: &Path,
    layout: &Layout,
    file: &MongoFile,
    problems: &mut Problems,
) -> Option<(MongoScript, Reversal)> {
    let text = source::read(root, &file.path).map_err(|error| problems.push(error)).ok()?;
    let partner = format!("{}/{}", layout.folder(Direction::Downgrade), file.name);
    let (commands, reversal) = parse(&file.path, &text, file.direction, &partner, problems)?;
    Some((MongoScript { path: file.path.clone(), text, commands }, reversal))
}

/// Checks the text of one migration file; `downgrade` is the path of its downgrade, for
/// messages. `None` when the file has a mistake (reported in `problems`).
pub fn parse(
    path: &str,
    text: &str,
    direction: Direction,
    downgrade: &str,
    problems: &mut Problems,
) -> Option<(Vec<Command>, Reversal)> {
    let before = problems.len();
    let root = tree::parse_yaml(path, text, problems)?;
    let map = match &root.value {
        Value::Null => {
            problems.push(MongoError::NoCommands { at: Location::file(path), direction: direction.dir() });
            return None;
        }
        _ => root.expect_map("a MongoDB migration", problems)?,
    };
    map.check_keys(FILE_KEYS, "a MongoDB migration", problems);
    let reversal = declared_reversal(map, direction, downgrade, problems);
    let commands = match (map.get("commands"), &reversal) {
        (Some(node), Some(_)) => {
            let key = if map.get(NO_OP).is_some() { NO_OP } else { IRREVERSIBLE };
            problems.push(MongoError::DeclarationWithCommands { at: node.at.clone(), key });
            Vec::new()
        }
        (None, Some(_)) => Vec::new(),
        (None, None) => {
            if map.misspelt(FILE_KEYS).is_empty() && problems.len() == before {
                problems.push(MongoError::NoCommands { at: root.at.clone(), direction: direction.dir() });
            }
            Vec::new()
        }
        (Some(node), None) => {
            let items = node.expect_seq("`commands`", problems).unwrap_or_default();
            if items.is_empty() && matches!(node.value, Value::Seq(_)) {
                problems.push(MongoError::NoCommands { at: node.at.clone(), direction: direction.dir() });
            }
            let mut state = commands::FileState::default();
            items.iter().filter_map(|item| commands::check(item, &mut state, problems)).collect()
        }
    };
    (problems.len() == before).then(|| (commands, reversal.unwrap_or_default()))
}

/// `no_op: <reason>` or `irreversible: <reason>`, allowed in a downgrade only.
fn declared_reversal(
    map: &tree::Map,
    direction: Direction,
    downgrade: &str,
    problems: &mut Problems,
) -> Option<Reversal> {
    let declared: Vec<(&'static str, &tree::Node)> =
        [NO_OP, IRREVERSIBLE].into_iter().filter_map(|key| Some((key, map.get(key)?))).collect();
    let (key, node) = match declared.as_slice() {
        [] => return None,
        [one] => *one,
        [_, (_, second), ..] => {
            problems.push(MongoError::TwoDeclarations { at: second.at.clone() });
            return Some(Reversal::Script);
        }
    };
    if direction == Direction::Upgrade {
        problems.push(MongoError::DeclarationInUpgrade { at: node.at.clone(), key, downgrade: downgrade.to_string() });
        return Some(Reversal::Script);
    }
    let reason = match &node.value {
        Value::String(reason) if !reason.trim().is_empty() => reason.trim().to_string(),
        Value::String(_) | Value::Null => {
            problems.push(MongoError::DeclarationWithoutReason { at: node.at.clone(), key });
            return Some(Reversal::Script);
        }
        _ => {
            node.wrong_type::<()>(&format!("`{key}`"), "a string: the reason", problems);
            return Some(Reversal::Script);
        }
    };
    Some(if key == NO_OP { Reversal::NoOp { reason } } else { Reversal::Irreversible { reason } })
}
