//! MongoDB migrations, as files under a sources root: the seed's collections (this
//! repository's `migrations/mongodb`) pass every check, and each
//! mistake class is one error at its place with the fix.

use std::fs;
use std::path::Path;

use tradeforge_migrator_spec::diag::Problems;
use tradeforge_migrator_spec::model::Reversal;
use tradeforge_migrator_spec::mongodb::{self, MongoMigration};

fn fixtures() -> &'static Path {
    // The repository root: its `migrations/mongodb` holds the seed's collections.
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

fn run(root: &Path) -> (Vec<MongoMigration>, Vec<String>) {
    let mut problems = Problems::default();
    let migrations = mongodb::check(root, &mut problems);
    (migrations, problems.iter().map(ToString::to_string).collect())
}

/// A sources root holding `files` under `migrations/mongodb/`.
fn sources(files: &[(&str, &str)]) -> tempfile::TempDir {
    let root = tempfile::tempdir().expect("temp dir");
    for (relative, text) in files {
        let path = root.path().join("migrations/mongodb").join(relative);
        fs::create_dir_all(path.parent().expect("has a parent")).expect("create folder");
        fs::write(path, text).expect("write file");
    }
    root
}

const DROP_A: &str = "commands:\n  - drop: a\n";
const CREATE_A: &str = "commands:\n  - create: a\n";

/// The errors of an upgrade `text` paired with a valid downgrade.
fn upgrade_errors(text: &str) -> Vec<String> {
    let root = sources(&[("upgrade/V1-a.yml", text), ("downgrade/V1-a.yml", DROP_A)]);
    run(root.path()).1
}

fn one_error(text: &str) -> String {
    let errors = upgrade_errors(text);
    assert_eq!(errors.len(), 1, "expected one error, got {errors:#?}");
    errors.into_iter().next().unwrap_or_default()
}

#[test]
fn the_seed_collections_pass_every_check() {
    let (migrations, errors) = run(fixtures());
    assert_eq!(errors, Vec::<String>::new());
    let collections: Vec<&str> = migrations.iter().map(|m| m.upgrade.commands[0].collection.as_str()).collect();
    assert_eq!(
        collections,
        [
            "strategy_configs",
            "indicator_metadata",
            "system_logs",
            "event_store",
            "ml_models",
            "genetic_algorithm_config"
        ]
    );
    assert_eq!(migrations.iter().map(|m| m.version).collect::<Vec<_>>(), [1, 2, 3, 4, 5, 6]);
    for migration in &migrations {
        assert!(migration.checksum.starts_with("sha256:"));
        assert_eq!(migration.reversal, Reversal::Script);
        assert_eq!(migration.downgrade.commands[0].name, "drop");
        let create = &migration.upgrade.commands[0];
        assert_eq!(create.name, "create");
        // The command name leads its document, as MongoDB reads it.
        let first_key = create.document.as_object().and_then(|map| map.keys().next()).map(String::as_str);
        assert_eq!(first_key, Some("create"));
        assert!(create.document["validator"]["$jsonSchema"].is_object(), "{}", migration.description);
    }
    let logs = &migrations[2].upgrade.commands[1];
    assert_eq!(logs.document["indexes"][0]["expireAfterSeconds"], 2592000);
    // Compound keys keep their order: by aggregate, then time.
    let events = &migrations[3].upgrade.commands[1].document["indexes"][1]["key"];
    assert_eq!(
        events.as_object().map(|key| key.keys().cloned().collect::<Vec<_>>()),
        Some(vec!["aggregate_id".into(), "timestamp".into()])
    );
    let checksums: std::collections::HashSet<&str> =
        migrations.iter().flat_map(|m| &m.upgrade.commands).map(|c| c.checksum.as_str()).collect();
    assert_eq!(checksums.len(), migrations.iter().map(|m| m.upgrade.commands.len()).sum::<usize>());
}

#[test]
fn unknown_commands_and_options_get_a_did_you_mean() {
    let error = one_error("commands:\n  - createIndex: a\n    indexes: []\n");
    assert!(
        error.starts_with(
            "migrations/mongodb/upgrade/V1-a.yml:2:5: `createIndex` is not a command a migration can run (did you mean `createIndexes`?)"
        ),
        "{error}"
    );
    let error = one_error("commands:\n  - create: a\n    validationActon: warn\n");
    assert!(
        error.starts_with(
            "migrations/mongodb/upgrade/V1-a.yml:3:5: unknown key `validationActon` in `create` command (did you mean `validationAction`?)"
        ),
        "{error}"
    );
    let error = one_error("commands:\n  - create: a\n    validationLevel: strikt\n");
    assert!(error.contains("is `strikt`; use one of `off`, `strict`, `moderate` (did you mean `strict`?)"), "{error}");
    let error = one_error("comands:\n  - create: a\n");
    assert!(error.contains("unknown key `comands` in a MongoDB migration (did you mean `commands`?)"), "{error}");
}

#[test]
fn a_command_leads_its_item_and_stands_alone() {
    let error = one_error("commands:\n  - validator: {$jsonSchema: {}}\n    create: a\n");
    assert!(
        error.starts_with("migrations/mongodb/upgrade/V1-a.yml:3:5: the command `create` must be the first key"),
        "{error}"
    );
    let error = one_error("commands:\n  - create: a\n    drop: b\n");
    assert!(error.contains("one item holds two commands, `create` and `drop`"), "{error}");
}

#[test]
fn required_options_and_option_rules() {
    assert!(one_error("commands:\n  - createIndexes: a\n").contains("`createIndexes` command has no `indexes`; add it"));
    assert!(one_error("commands:\n  - create: a\n    capped: true\n").contains("a capped collection needs its `size`"));
    assert!(
        one_error("commands:\n  - create: a\n    size: 100\n").contains("`size` applies only to a capped collection")
    );
    assert!(one_error("commands:\n  - collMod: a\n").contains("`collMod` changes nothing"));
    assert!(one_error("commands:\n  - renameCollection: a\n    to: a\n").contains("renaming `a` to itself"));
    assert!(
        one_error("commands:\n  - dropIndexes: a\n    index: _id_\n").contains("the `_id_` index cannot be dropped")
    );
    let error = one_error("commands:\n  - collMod: a\n    index: {name: ttl, expireAfterSeconds: -5}\n");
    assert!(error.contains("`expireAfterSeconds` must be at least 0"), "{error}");
}

#[test]
fn validators_are_json_schema_and_checked() {
    let error = one_error("commands:\n  - create: a\n    validator: {name: {$type: string}}\n");
    assert!(error.contains("the validator holds `name`; write the whole rule as `$jsonSchema`"), "{error}");
    let error = one_error("commands:\n  - create: a\n    validator:\n      $jsonSchema:\n        properties:\n          n: {bsonType: integer}\n");
    assert!(
        error.starts_with(
            "migrations/mongodb/upgrade/V1-a.yml:6:25: `integer` is not a BSON type (did you mean `int`?)"
        ),
        "{error}"
    );
}

#[test]
fn collection_names_follow_mongodb_and_spare_the_history() {
    assert!(one_error("commands:\n  - create: system.users\n").contains("names starting with `system.`"));
    assert!(one_error("commands:\n  - create: a$b\n").contains("it contains `$`"));
    assert!(one_error("commands:\n  - drop: migrations\n")
        .contains("`migrations` is where the migrator keeps its own history"));
    assert!(one_error("commands:\n  - renameCollection: a\n    to: system.a\n").contains("not a valid collection name"));
}

#[test]
fn an_index_name_is_created_once_per_collection() {
    let indexes = "  - createIndexes: a\n    indexes:\n      - {key: {x: 1}, name: by_x}\n";
    let error = one_error(&format!("commands:\n{indexes}{indexes}"));
    assert!(
        error.starts_with(
            "migrations/mongodb/upgrade/V1-a.yml:7:29: index `by_x` on `a` is created twice (first at migrations/mongodb/upgrade/V1-a.yml:4:29)"
        ),
        "{error}"
    );
    // Dropped in between, or on another collection, the name is free again.
    let drop = "  - dropIndexes: a\n    index: by_x\n";
    assert!(upgrade_errors(&format!("commands:\n{indexes}{drop}{indexes}")).is_empty());
    let other = "  - createIndexes: b\n    indexes:\n      - {key: {x: 1}, name: by_x}\n";
    assert!(upgrade_errors(&format!("commands:\n{indexes}{other}")).is_empty());
    let error = one_error("commands:\n  - createIndexes: a\n    indexes:\n      - {key: {x: 1}, name: one}\n      - {key: {x: 1}, name: two}\n");
    assert!(error.contains("this key pattern is already indexed by `one`"), "{error}");
}

#[test]
fn index_specs_are_checked_in_place() {
    let error = one_error("commands:\n  - createIndexes: a\n    indexes:\n      - {key: {a: 1, t: 1}, name: ttl, expireAfterSeconds: 60}\n");
    assert!(error.contains("a TTL index (`expireAfterSeconds`) must have exactly one ascending or descending field, but `key` has `a: 1`, `t: 1`"), "{error}");
    let error = one_error("commands:\n  - createIndexes: a\n    indexes:\n      - {key: {a: 1}, name: u, unique: true, partialFilterExpression: {a: {$ne: null}}}\n");
    assert!(error.contains("`$ne` is not allowed in `partialFilterExpression`"), "{error}");
}

#[test]
fn data_commands_are_checked() {
    let error = one_error("commands:\n  - delete: a\n    deletes: [{q: {}, limit: 5}]\n");
    assert!(error.contains("`limit` of a delete must be `0`"), "{error}");
    let error = one_error("commands:\n  - update: a\n    updates: [{q: {}, u: {$set: {x: 1}, y: 2}}]\n");
    assert!(error.contains("`u` mixes update operators (`$set`) with plain fields (`y`)"), "{error}");
    let error = one_error("commands:\n  - update: a\n    updates: [{q: {}, u: {y: 2}, multi: true}]\n");
    assert!(error.contains("`multi: true` is refused"), "{error}");
    assert!(upgrade_errors("commands:\n  - insert: a\n    documents: [{_id: seed, n: 1}]\n").is_empty());
}

#[test]
fn an_upgrade_needs_its_downgrade_and_the_reverse() {
    let root = sources(&[("upgrade/V1-a.yml", CREATE_A), ("downgrade/V2-b.yml", DROP_A)]);
    let (migrations, errors) = run(root.path());
    assert!(migrations.is_empty());
    assert_eq!(
        errors,
        [
            "migrations/mongodb/downgrade/V2-b.yml: downgrade has no upgrade; add `migrations/mongodb/upgrade/V2-b.yml` or delete this file",
            "migrations/mongodb/upgrade/V1-a.yml: upgrade has no downgrade; create `migrations/mongodb/downgrade/V1-a.yml`",
        ]
    );
}

#[test]
fn two_migrations_with_one_version_clash() {
    let root = sources(&[
        ("upgrade/V1-a.yml", CREATE_A),
        ("downgrade/V1-a.yml", DROP_A),
        ("upgrade/V01-b.yml", CREATE_A),
        ("downgrade/V01-b.yml", DROP_A),
    ]);
    let (migrations, errors) = run(root.path());
    assert!(migrations.is_empty());
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(errors[0].contains("version `1` is used by `V01-b.yml` and `V1-a.yml`"), "{errors:#?}");
}

#[test]
fn file_names_follow_the_sql_rules_with_yml() {
    let root =
        sources(&[("upgrade/V1_a.yml", CREATE_A), ("downgrade/V1_a.yml", DROP_A), ("upgrade/V0-z.yml", CREATE_A)]);
    let (_, errors) = run(root.path());
    assert_eq!(errors.len(), 3, "{errors:#?}");
    assert!(errors.iter().any(|e| e.contains("`V1_a.yml` is not a migration file name; name it `V<version>-<description>.yml`, e.g. `V0001-create_users.yml` (did you mean `V1-a.yml`?)")), "{errors:#?}");
    assert!(
        errors.iter().any(|e| e.contains("version `0` stands for the database before any migration")),
        "{errors:#?}"
    );
}

#[test]
fn stray_entries_in_the_folder_are_errors() {
    let root =
        sources(&[("upgrades/V1-a.yml", CREATE_A), ("upgrade/old/V1-a.yml", CREATE_A), ("downgrade/V1-a.yml", DROP_A)]);
    let (_, errors) = run(root.path());
    assert!(
        errors.iter().any(|e| e.contains("migrations/mongodb/upgrades: does not belong in `migrations/mongodb`")
            && e.contains("did you mean `upgrade`")),
        "{errors:#?}"
    );
    assert!(errors.iter().any(|e| e.contains("migrations are not read from subfolders")), "{errors:#?}");
    // The hidden upgrade does not make its downgrade an orphan.
    assert!(!errors.iter().any(|e| e.contains("downgrade has no upgrade")), "{errors:#?}");
}

#[test]
fn downgrades_may_declare_no_op_or_irreversible_with_a_reason() {
    let root =
        sources(&[("upgrade/V1-a.yml", CREATE_A), ("downgrade/V1-a.yml", "no_op: the collection is harmless\n")]);
    let (migrations, errors) = run(root.path());
    assert_eq!(errors, Vec::<String>::new());
    assert_eq!(migrations[0].reversal, Reversal::NoOp { reason: "the collection is harmless".into() });
    assert!(migrations[0].downgrade.commands.is_empty());

    let root = sources(&[("upgrade/V1-a.yml", "irreversible: nope\n"), ("downgrade/V1-a.yml", "irreversible: ''\n")]);
    let (_, errors) = run(root.path());
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert!(
        errors.iter().any(|e| e.contains("belongs in `migrations/mongodb/downgrade/V1-a.yml`, not in the upgrade")),
        "{errors:#?}"
    );
    assert!(errors.iter().any(|e| e.contains("`irreversible` gives no reason")), "{errors:#?}");

    let root = sources(&[("upgrade/V1-a.yml", CREATE_A), ("downgrade/V1-a.yml", "no_op: x\ncommands:\n  - drop: a\n")]);
    assert!(
        run(root.path()).1[0].contains("declares that this downgrade runs nothing, but the file also has `commands`")
    );
}

#[test]
fn a_file_without_commands_is_an_error() {
    assert!(one_error("commands: []\n").contains("upgrade holds no command"));
    assert!(one_error("# nothing yet\n").contains("upgrade holds no command"));
    assert!(one_error("commands:\n  - create: a\n    validator: [1\n").contains("invalid YAML"));
}

#[test]
fn every_problem_of_a_file_is_reported() {
    let errors = upgrade_errors(
        "commands:\n  - creat: a\n  - drop: system.x\n  - createIndexes: b\n    indexes: [{key: {x: 0}, name: i}]\n",
    );
    assert_eq!(errors.len(), 3, "{errors:#?}");
}

#[test]
fn key_order_makes_a_different_index_and_empty_items_are_errors() {
    let text = "commands:\n  - createIndexes: a\n    indexes:\n      - {key: {x: 1, y: 1}, name: xy}\n      - {key: {y: 1, x: 1}, name: yx}\n";
    assert_eq!(upgrade_errors(text), Vec::<String>::new());
    let error = one_error("commands:\n  - {}\n");
    assert!(error.starts_with("migrations/mongodb/upgrade/V1-a.yml:2:5: an empty item runs nothing"), "{error}");
    let error =
        one_error("commands:\n  - create: a\n    validator: {$jsonSchema: {properties: {n: {multipleOf: 0}}}}\n");
    assert!(error.contains("`multipleOf` must be greater than 0, found 0"), "{error}");
}
