//! `migrator import` on folders in each tool's own layout (`tests/fixtures/import/<tool>/`):
//! the binary writes the pairs this build reads, keeps the version numbers, maps the markers to
//! ours, lists what needs a person (missing downgrades, statements the build refuses), and
//! never overwrites a file.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixture(tool: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/import").join(tool)
}

/// Runs `migrator import <tool> <fixture> --target postgres --into <root>/migrations`.
fn import(tool: &str, root: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_migrator"))
        .args(["import", tool])
        .arg(fixture(tool))
        .args(["--target", "postgres", "--into"])
        .arg(root.join("migrations"))
        .output()
        .expect("run migrator import")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn read(root: &Path, relative: &str) -> String {
    fs::read_to_string(root.join("migrations/postgres").join(relative))
        .unwrap_or_else(|error| panic!("{relative} was written: {error}"))
}

/// Every file under `migrations/postgres`, relative to it, sorted.
fn written(root: &Path) -> Vec<String> {
    let mut files = Vec::new();
    for direction in ["upgrade", "downgrade"] {
        let folder = root.join("migrations/postgres").join(direction);
        for entry in fs::read_dir(&folder).expect("folder written") {
            files.push(format!("{direction}/{}", entry.expect("entry").file_name().to_string_lossy()));
        }
    }
    files.sort();
    files
}

#[test]
fn golang_migrate_pairs_keep_their_versions_and_list_what_the_build_refuses() {
    let root = tempfile::tempdir().expect("temp dir");
    let output = import("golang-migrate", root.path());
    let out = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{out}\n{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(
        written(root.path()),
        [
            "downgrade/V000001-create_teams.sql",
            "downgrade/V000002-index_teams.sql",
            "upgrade/V000001-create_teams.sql",
            "upgrade/V000002-index_teams.sql",
        ]
    );
    assert_eq!(read(root.path(), "downgrade/V000001-create_teams.sql"), "DROP TABLE IF EXISTS teams;\n");
    assert_eq!(
        read(root.path(), "downgrade/V000002-index_teams.sql"),
        format!(
            "-- `000002_index_teams.up.sql` and `000002_index_teams.down.sql` had no downgrade.\n{};\n",
            tradeforge_migrator_spec::placeholder::PLACEHOLDER
        )
    );
    // The empty downgrade and both transaction-control statements need a person.
    let needs: Vec<&str> = out.lines().skip_while(|line| *line != "needs a person:").skip(1).collect();
    assert_eq!(needs.len(), 3, "{out}");
    assert!(needs[0].contains("downgrade/V000002-index_teams.sql: `000002_index_teams.up.sql`"), "{out}");
    assert!(needs[0].contains("-- migrator:no-op <reason>"), "{out}");
    assert!(
        needs[1].contains("migrations/postgres/upgrade/V000001-create_teams.sql:1:1: `BEGIN` is transaction control")
    );
    assert!(
        needs[2].contains("migrations/postgres/upgrade/V000001-create_teams.sql:3:1: `COMMIT` is transaction control")
    );
}

#[test]
fn a_dbmate_file_is_split_and_transaction_false_becomes_ours() {
    let root = tempfile::tempdir().expect("temp dir");
    let output = import("dbmate", root.path());
    let out = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{out}");
    assert_eq!(
        read(root.path(), "upgrade/V20240101120000-create_teams.sql"),
        "CREATE TABLE teams (id bigint PRIMARY KEY, name text NOT NULL);\n"
    );
    assert_eq!(read(root.path(), "downgrade/V20240101120000-create_teams.sql"), "DROP TABLE teams;\n");
    assert_eq!(
        read(root.path(), "upgrade/V20240102090000-index_teams.sql"),
        "-- migrator:no-transaction\nCREATE INDEX CONCURRENTLY teams_name_idx ON teams (name);\n"
    );
    assert_eq!(
        read(root.path(), "downgrade/V20240102090000-index_teams.sql"),
        "-- migrator:no-transaction\nDROP INDEX CONCURRENTLY teams_name_idx;\n"
    );
    assert!(out.contains("nothing needs a person"), "{out}");
    let plan = tradeforge_migrator_spec::compile(root.path())
        .unwrap_or_else(|problems| panic!("the imported folder builds:\n{problems}"));
    assert_eq!(
        plan.postgres.iter().map(|migration| migration.version).collect::<Vec<_>>(),
        [20240101120000, 20240102090000]
    );
}

#[test]
fn goose_markers_are_dropped_or_mapped_and_bodies_stay_whole() {
    let root = tempfile::tempdir().expect("temp dir");
    let output = import("goose", root.path());
    let out = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{out}");
    let upgrade = read(root.path(), "upgrade/V00001-create_teams.sql");
    assert!(!upgrade.contains("+goose"), "{upgrade}");
    assert!(upgrade.starts_with("CREATE TABLE teams"), "{upgrade}");
    assert_eq!(read(root.path(), "downgrade/V00001-create_teams.sql"), "DROP FUNCTION touch();\nDROP TABLE teams;\n");
    assert_eq!(
        read(root.path(), "upgrade/V00002-index_teams.sql"),
        "-- migrator:no-transaction\nCREATE INDEX CONCURRENTLY teams_name_idx ON teams (name);\n"
    );
    assert!(read(root.path(), "downgrade/V00002-index_teams.sql").starts_with("-- migrator:no-transaction\n"));
    assert!(out.contains("nothing needs a person"), "{out}");
    let plan = tradeforge_migrator_spec::compile(root.path())
        .unwrap_or_else(|problems| panic!("the imported folder builds:\n{problems}"));
    assert_eq!(plan.postgres[0].upgrade.statements.len(), 2, "the function body is one statement");
    assert!(!plan.postgres[1].upgrade.transactional);
}

#[test]
fn sqlx_simple_and_reversible_migrations_are_imported_and_a_second_import_overwrites_nothing() {
    let root = tempfile::tempdir().expect("temp dir");
    let output = import("sqlx", root.path());
    let out = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{out}");
    assert_eq!(
        read(root.path(), "upgrade/V20240102090000-index_teams.sql"),
        "-- migrator:no-transaction\nCREATE INDEX CONCURRENTLY teams_name_idx ON teams (name);\n"
    );
    assert!(
        out.contains("downgrade/V20240102090000-index_teams.sql: `20240102090000_index_teams.sql` has no downgrade")
    );

    let before = written(root.path());
    fs::write(
        root.path().join("migrations/postgres/upgrade/V20240101120000-create_teams.sql"),
        "-- edited\nSELECT 1;\n",
    )
    .expect("edit");
    let again = import("sqlx", root.path());
    assert_eq!(again.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(stderr.contains("already exists; nothing was written"), "{stderr}");
    assert_eq!(written(root.path()), before);
    assert_eq!(read(root.path(), "upgrade/V20240101120000-create_teams.sql"), "-- edited\nSELECT 1;\n");
}
