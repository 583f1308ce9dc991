//! What other migration tools write into their files and their file names, recognised so that a
//! folder brought over from golang-migrate, dbmate, goose or sqlx gets an error saying what to
//! change instead of compiling into something that runs wrongly at deploy (a dbmate file would
//! otherwise run its `-- migrate:down` section as part of the upgrade). `migrator import` uses
//! the same recognisers to convert such a folder.
//!
//! | tool           | file names                                   | markers (line comments)                                   |
//! |----------------|----------------------------------------------|-----------------------------------------------------------|
//! | golang-migrate | `000001_create_teams.up.sql` / `.down.sql`   | none                                                      |
//! | sqlx           | `20240101120000_create_teams.up.sql` / `.down.sql` | `-- no-transaction` (first line)                    |
//! | dbmate         | `20240101120000_create_teams.sql`, one file  | `-- migrate:up`, `-- migrate:down`, `transaction:false`   |
//! | goose          | `00001_create_teams.sql`, one file           | `-- +goose Up`, `Down`, `StatementBegin`, `StatementEnd`, `NO TRANSACTION` |
//! | morph          | `000001_x.up.sql` / `.down.sql`              | `-- morph:nontransactional`                               |

use std::fmt;

use crate::diag::Location;
use crate::lint::tokens;
use crate::migrations::NO_TRANSACTION;
use crate::model::Dialect;
use crate::source::{line_column, Direction};

/// A migration tool whose files are recognised.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tool {
    Dbmate,
    Goose,
    Morph,
}

impl fmt::Display for Tool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Tool::Dbmate => "dbmate",
            Tool::Goose => "goose",
            Tool::Morph => "morph",
        })
    }
}

/// What a marker comment of another tool means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Meaning {
    /// The start of the upgrade (`up`) or downgrade (`down`) section of a one-file migration.
    Section(Direction),
    /// The file runs outside a transaction.
    NoTransaction,
    /// goose's `StatementBegin`/`StatementEnd`, which keep a body with `;` in one statement.
    StatementBlock,
    /// Any other goose annotation (`ENVSUB ON`, …).
    Annotation,
}

/// One marker found in a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Marker {
    pub tool: Tool,
    pub meaning: Meaning,
    /// The whole comment, e.g. `-- +goose Up`.
    pub text: String,
    /// Byte offset of the comment in the file.
    pub offset: usize,
}

/// The markers of other tools in a script, in order. A dbmate `-- migrate:up transaction:false`
/// is two markers at one offset: a section and no-transaction.
pub fn markers(sql: &str, dialect: Dialect) -> Vec<Marker> {
    // Most files mention none of them; skip the scan for those.
    if !["migrate:", "+goose", "morph:"].iter().any(|needle| sql.contains(needle)) {
        return Vec::new();
    }
    let mut found = Vec::new();
    for comment in tokens::scan(sql, dialect).comments {
        let body = comment.text.trim_start_matches('-').trim();
        let mut push = |tool, meaning| {
            found.push(Marker { tool, meaning, text: comment.text.trim_end().to_string(), offset: comment.offset });
        };
        if let Some(rest) = body.strip_prefix("migrate:") {
            let mut words = rest.split_ascii_whitespace();
            match words.next() {
                Some("up") => push(Tool::Dbmate, Meaning::Section(Direction::Upgrade)),
                Some("down") => push(Tool::Dbmate, Meaning::Section(Direction::Downgrade)),
                _ => continue,
            }
            if words.any(|option| option == "transaction:false") {
                push(Tool::Dbmate, Meaning::NoTransaction);
            }
        } else if let Some(rest) = body.strip_prefix("+goose") {
            let annotation = rest.split_ascii_whitespace().collect::<Vec<_>>().join(" ").to_ascii_lowercase();
            push(
                Tool::Goose,
                match annotation.as_str() {
                    "up" => Meaning::Section(Direction::Upgrade),
                    "down" => Meaning::Section(Direction::Downgrade),
                    "statementbegin" | "statementend" => Meaning::StatementBlock,
                    "no transaction" => Meaning::NoTransaction,
                    _ => Meaning::Annotation,
                },
            );
        } else if body.eq_ignore_ascii_case("morph:nontransactional") {
            push(Tool::Morph, Meaning::NoTransaction);
        }
    }
    found
}

/// A marker of another tool in a migration file.
#[derive(Debug, thiserror::Error)]
pub enum OtherToolError {
    #[error(
        "{at}: this file holds {tool}'s {sections}, and all of them would run as one {direction}; \
         here each direction is a file of its own: {moves}, and delete the markers \
         (`migrator import {tool}` converts a whole folder)"
    )]
    Sections { at: Location, tool: Tool, sections: String, direction: &'static str, moves: String },
    #[error(
        "{at}: `{marker}` is {tool}'s no-transaction marker, which this migrator does not read, so the file \
         would run in a transaction; write `{NO_TRANSACTION}` as the first line of the file instead"
    )]
    NoTransaction { at: Location, marker: String, tool: Tool },
    #[error(
        "{at}: `{marker}` is goose's; it is not needed here, since statements are split at `;` outside \
         quotes, dollar-quoted bodies and `BEGIN ATOMIC` bodies as psql does: delete it"
    )]
    StatementBlock { at: Location, marker: String },
    #[error("{at}: `{marker}` is a goose annotation this migrator does not read (it substitutes nothing); delete it")]
    Annotation { at: Location, marker: String },
}

/// The errors for the markers of one script at `path`; `upgrade` and `downgrade` are the paths
/// its two halves belong in.
pub fn check_script(
    path: &str,
    sql: &str,
    dialect: Dialect,
    direction: Direction,
    pair: [&str; 2],
) -> Vec<OtherToolError> {
    let markers = markers(sql, dialect);
    let at = |marker: &Marker| {
        let (line, column) = line_column(sql, marker.offset);
        Location::at(path, line, column)
    };
    let mut errors = Vec::new();
    let sections: Vec<(&Marker, Direction)> = markers
        .iter()
        .filter_map(|marker| match marker.meaning {
            Meaning::Section(section) => Some((marker, section)),
            _ => None,
        })
        .collect();
    if let Some((first, _)) = sections.first() {
        errors.push(sections_error(at(first), sql, direction, pair, &sections));
    }
    let mut statement_block_reported = false;
    for marker in &markers {
        let text = marker.text.clone();
        match marker.meaning {
            Meaning::Section(_) => {}
            Meaning::NoTransaction => {
                errors.push(OtherToolError::NoTransaction { at: at(marker), marker: text, tool: marker.tool })
            }
            // One error for the file: its `StatementEnd`s go with its `StatementBegin`s.
            Meaning::StatementBlock if statement_block_reported => {}
            Meaning::StatementBlock => {
                statement_block_reported = true;
                errors.push(OtherToolError::StatementBlock { at: at(marker), marker: text });
            }
            Meaning::Annotation => errors.push(OtherToolError::Annotation { at: at(marker), marker: text }),
        }
    }
    errors
}

fn sections_error(
    at: Location,
    sql: &str,
    direction: Direction,
    pair: [&str; 2],
    sections: &[(&Marker, Direction)],
) -> OtherToolError {
    let tool = sections[0].0.tool;
    let moves: Vec<String> = sections
        .iter()
        .map(|(marker, section)| {
            let (line, _) = line_column(sql, marker.offset);
            let destination = match section {
                Direction::Upgrade => pair[0],
                Direction::Downgrade => pair[1],
            };
            format!("the part after `{}` (line {line}) goes in `{destination}`", marker.text)
        })
        .collect();
    let names: Vec<String> = sections.iter().map(|(marker, _)| format!("`{}`", marker.text)).collect();
    OtherToolError::Sections {
        at,
        tool,
        sections: format!("section marker{} {}", if names.len() == 1 { "" } else { "s" }, names.join(" and ")),
        direction: direction.dir(),
        moves: moves.join(", "),
    }
}

/// A golang-migrate, sqlx or morph name, `<digits>_<description>.up.sql` or `.down.sql`:
/// which direction it is and our name for it, `V<digits>-<description>.sql`.
pub fn split_pair_name(name: &str) -> Option<(Direction, String)> {
    let (stem, direction) = if let Some(stem) = name.strip_suffix(".up.sql") {
        (stem, Direction::Upgrade)
    } else {
        (name.strip_suffix(".down.sql")?, Direction::Downgrade)
    };
    let (digits, description) = stem.split_once('_')?;
    let valid =
        !digits.is_empty() && digits.bytes().all(|byte| byte.is_ascii_digit()) && !description.trim().is_empty();
    valid.then(|| (direction, format!("V{digits}-{description}.sql")))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAIR: [&str; 2] = ["migrations/postgres/upgrade/V1-a.sql", "migrations/postgres/downgrade/V1-a.sql"];

    fn errors(sql: &str) -> Vec<String> {
        check_script(PAIR[0], sql, Dialect::Postgres, Direction::Upgrade, PAIR)
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn dbmate_sections_say_which_part_goes_in_which_file() {
        let sql = "-- migrate:up\nCREATE TABLE t (x int);\n\n-- migrate:down\nDROP TABLE t;\n";
        assert_eq!(
            errors(sql),
            ["migrations/postgres/upgrade/V1-a.sql:1:1: this file holds dbmate's section markers `-- migrate:up` and \
              `-- migrate:down`, and all of them would run as one upgrade; here each direction is a file of its own: \
              the part after `-- migrate:up` (line 1) goes in `migrations/postgres/upgrade/V1-a.sql`, the part after \
              `-- migrate:down` (line 4) goes in `migrations/postgres/downgrade/V1-a.sql`, and delete the markers \
              (`migrator import dbmate` converts a whole folder)"]
        );
    }

    #[test]
    fn goose_markers_each_get_their_fix() {
        let sql = "-- +goose NO TRANSACTION\n-- +goose Up\n-- +goose StatementBegin\nDO $$ BEGIN END $$;\n\
                   -- +goose StatementEnd\n-- +goose ENVSUB ON\n-- +goose Down\nSELECT 1;\n";
        let errors = errors(sql);
        assert_eq!(errors.len(), 4, "{errors:#?}");
        assert!(errors[0].contains(":2:1: this file holds goose's section markers `-- +goose Up` and `-- +goose Down`"));
        assert!(errors[1].starts_with(
            "migrations/postgres/upgrade/V1-a.sql:1:1: `-- +goose NO TRANSACTION` is goose's no-transaction marker"
        ));
        assert!(errors[1].ends_with("write `-- migrator:no-transaction` as the first line of the file instead"));
        assert!(errors[2].contains(":3:1: `-- +goose StatementBegin` is goose's; it is not needed here"));
        assert!(errors[3].contains(":6:1: `-- +goose ENVSUB ON` is a goose annotation"));
    }

    #[test]
    fn dbmate_and_morph_no_transaction_markers_name_ours() {
        let sql = "-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY i ON t (x);\n";
        let errors = errors(sql);
        assert_eq!(errors.len(), 2, "{errors:#?}");
        assert!(errors[1].contains("`-- migrate:up transaction:false` is dbmate's no-transaction marker"));
        let morph = check_script(
            PAIR[1],
            "-- morph:nontransactional\nSELECT 1;",
            Dialect::Postgres,
            Direction::Downgrade,
            PAIR,
        );
        assert!(morph[0].to_string().contains("`-- morph:nontransactional` is morph's no-transaction marker"));
    }

    #[test]
    fn markers_in_strings_and_ordinary_comments_are_not_markers() {
        let sql = "SELECT '-- migrate:down';\n-- we used to say migrate:up here\n/* -- +goose Down */ SELECT 1;";
        assert_eq!(errors(sql), Vec::<String>::new());
    }

    #[test]
    fn pair_names_become_ours() {
        assert_eq!(
            split_pair_name("000001_create_teams.up.sql"),
            Some((Direction::Upgrade, "V000001-create_teams.sql".to_string()))
        );
        assert_eq!(
            split_pair_name("20240101120000_add_x.down.sql"),
            Some((Direction::Downgrade, "V20240101120000-add_x.sql".to_string()))
        );
        assert_eq!(split_pair_name("V1-x.up.sql"), None);
        assert_eq!(split_pair_name("0001_.up.sql"), None);
    }
}
