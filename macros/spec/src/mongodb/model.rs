//! The checked MongoDB migrations, as owned values (like `model::Migration` for SQL): what the
//! runtime will run, command by command.

use crate::model::Reversal;

/// One upgrade/downgrade pair.
#[derive(Clone, Debug, PartialEq)]
pub struct MongoMigration {
    pub version: u64,
    /// The text after `V<digits>-` in the file name, without `.yml`.
    pub description: String,
    /// `sha256:<hex>` of the upgrade's normalised text (LF line endings, no BOM), as for SQL.
    pub checksum: String,
    pub upgrade: MongoScript,
    pub downgrade: MongoScript,
    /// How the downgrade undoes the upgrade: by its commands, or by a declaration.
    pub reversal: Reversal,
}

/// One file: its commands in order.
#[derive(Clone, Debug, PartialEq)]
pub struct MongoScript {
    /// Relative to the sources root, `/`-separated.
    pub path: String,
    /// The normalised text.
    pub text: String,
    /// Empty for a downgrade declared `no_op` or `irreversible`.
    pub commands: Vec<Command>,
}

/// One checked database command.
#[derive(Clone, Debug, PartialEq)]
pub struct Command {
    /// `create`, `collMod`, … (a name from `commands::COMMANDS`).
    pub name: &'static str,
    /// The collection the command acts on (for `renameCollection`, the old name).
    pub collection: String,
    /// The command document in the file's key order, command name first, collections without
    /// the database (the runtime adds it). Integers are JSON integers; the runtime decides
    /// their BSON width.
    pub document: serde_json::Value,
    /// The line of the command in its file, for messages and `plan`.
    pub line: u32,
    /// `sha256:<hex>` of the compact JSON of `document`: history records it per command, so a
    /// resumed run can tell that a command changed since it last ran.
    pub checksum: String,
}
