//! The MongoDB migrations as plan tokens: each becomes a `plan::Migration` whose scripts carry
//! the file's text and, as statements, one canonical JSON string per command (compact, in the
//! file's key order, command name first: the document the runtime sends). The versioned engine
//! then counts, records and resumes MongoDB's progress per command, exactly as per statement
//! for SQL. Kept apart from `codegen.rs`, which it calls only for what both share.

use proc_macro2::TokenStream;
use quote::quote;

use super::model::{MongoMigration, MongoScript};
use crate::codegen::reversal;

/// `&[…]` of the migrations, ascending by version, for `Plan::mongodb`.
pub fn migrations(migrations: &[MongoMigration]) -> TokenStream {
    let items = migrations.iter().map(migration);
    quote! { &[#(#items),*] }
}

/// The canonical JSON of each command of `script`: what the plan carries and the runtime runs.
pub fn command_texts(script: &MongoScript) -> Vec<String> {
    script.commands.iter().map(|command| command.document.to_string()).collect()
}

fn migration(migration: &MongoMigration) -> TokenStream {
    let MongoMigration { version, description, checksum, upgrade, downgrade, reversal: how } = migration;
    let upgrade = script(upgrade);
    let downgrade = script(downgrade);
    let reversal = reversal(how);
    quote! {
        ::tradeforge_migrator::plan::Migration {
            version: #version,
            description: #description,
            checksum: #checksum,
            upgrade: #upgrade,
            downgrade: #downgrade,
            data: ::core::option::Option::None,
            reversal: #reversal,
        }
    }
}

/// Commands are not cut from the file's text (YAML is not what the server reads), so each is
/// its own constant; a MongoDB migration is small, so the text is not worth sharing.
fn script(script: &MongoScript) -> TokenStream {
    let path = &script.path;
    let text = &script.text;
    let commands = command_texts(script);
    quote! {
        ::tradeforge_migrator::plan::Script {
            path: #path,
            sql: #text,
            statements: &[#(#commands),*],
            transactional: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Problems;
    use crate::source::Direction;

    #[test]
    fn each_command_is_one_compact_json_document_in_file_order() {
        let text = "commands:\n  - create: a\n    validationAction: warn\n  - createIndexes: a\n    indexes:\n      - {key: {x: 1}, name: a_x}\n";
        let mut problems = Problems::default();
        let (commands, _) =
            crate::mongodb::parse("u.yml", text, Direction::Upgrade, "d.yml", &mut problems).expect("valid");
        let script = MongoScript { path: "u.yml".into(), text: text.into(), commands };
        assert_eq!(
            command_texts(&script),
            [
                r#"{"create":"a","validationAction":"warn"}"#,
                r#"{"createIndexes":"a","indexes":[{"key":{"x":1},"name":"a_x"}]}"#
            ]
        );
    }
}
