//! The placeholder `migrator new` writes into a new migration, and the build warning for every
//! file that still holds it: a new pair compiles and is accepted, but cannot reach a server
//! unnoticed. Not a destructive-change lint (`lint`); build.rs prints both kinds of warning.

use std::fmt;

use crate::model::Plan;

/// The statement `migrator new` writes into both files of a new pair, so that the next build
/// accepts the pair while [`placeholders`] keeps warning until a person writes the real SQL.
pub const PLACEHOLDER: &str = "SELECT 'written by migrator new: replace with the migration' AS placeholder";

/// The words of [`PLACEHOLDER`]; a new data migration's functions return them as their error,
/// so it compiles, refuses to run, and [`placeholders`] warns while the file still holds them.
pub const PLACEHOLDER_TEXT: &str = "written by migrator new: replace with the migration";

/// A script that still holds [`PLACEHOLDER`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Placeholder {
    pub path: String,
}

impl fmt::Display for Placeholder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: still holds the placeholder `migrator new` wrote; replace it with the real {} before this \
             migration is applied anywhere",
            self.path,
            if self.path.ends_with(".rs") { "code" } else { "SQL" }
        )
    }
}

/// Every upgrade and downgrade that still holds [`PLACEHOLDER`], PostgreSQL first, in plan order.
pub fn placeholders(plan: &Plan) -> Vec<Placeholder> {
    plan.postgres
        .iter()
        .chain(&plan.clickhouse)
        .flat_map(|migration| {
            if migration.data.as_ref().is_some_and(|data| data.holds_placeholder) {
                // Both directions are in one file: one warning.
                return vec![Placeholder { path: migration.upgrade.path.clone() }];
            }
            [&migration.upgrade, &migration.downgrade]
                .into_iter()
                .filter(|script| script.statements.iter().any(|statement| is_placeholder(statement)))
                .map(|script| Placeholder { path: script.path.clone() })
                .collect()
        })
        .collect()
}

/// The statement is the placeholder, whatever comment lines stand before it.
fn is_placeholder(statement: &str) -> bool {
    let code: Vec<&str> = statement.lines().filter(|line| !line.trim_start().starts_with("--")).collect();
    code.join("\n").trim() == PLACEHOLDER
}
