//! The plan compiled from this repository's sources, as `migrator plan` prints it. Any change to
//! a migration, topic or indicator shows up here as a snapshot diff in review.

#[test]
fn repository_plan() {
    insta::assert_snapshot!(tradeforge_migrator::PLAN.render());
}

/// `plan --sql` prints every upgrade statement of the repository's plan, in order, each terminated
/// once, every MongoDB command, and a line per topic and per indicator.
#[test]
fn plan_sql_prints_every_statement_in_order() {
    use tradeforge_migrator::commands::plan_sql::{render, terminated};
    use tradeforge_migrator::targets::TargetName;
    let plan = &tradeforge_migrator::PLAN;
    let text = render(plan, &TargetName::ALL, None);
    let mut position = 0;
    for migration in plan.postgres.iter().chain(plan.clickhouse) {
        for statement in migration.upgrade.statements {
            let expected = terminated(statement);
            let found = text[position..].find(&expected).unwrap_or_else(|| panic!("missing: {expected}"));
            position += found + expected.len();
        }
    }
    // MongoDB's commands, one canonical JSON document per line, after the SQL.
    for command in plan.mongodb.iter().flat_map(|migration| migration.upgrade.statements) {
        let found = text[position..].find(&format!("\n{command}\n")).unwrap_or_else(|| panic!("missing: {command}"));
        position += found + command.len();
    }
    assert_eq!(text.matches("--   create topic ").count(), plan.topics.iter().filter(|topic| !topic.deleted).count());
    assert_eq!(text.matches("--   upsert ").count(), plan.indicators.len());
}

/// The binary's plan was compiled from the repository's sources as they are now: a source
/// replaced by a file with an older modification time would leave a stale plan, which Cargo does
/// not notice. This is `migrator plan --check-sources .`, run on the test binary's own plan.
#[test]
fn the_plan_matches_the_sources_on_disk() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let checked = tradeforge_migrator::commands::sources::check(&tradeforge_migrator::PLAN, root);
    assert_eq!(checked.map_err(|error| error.to_string()), Ok(tradeforge_migrator::PLAN.fingerprint));
}

/// A tree whose files differ from the ones compiled in is reported as stale, naming both
/// fingerprints and the fix, through the binary.
#[test]
fn check_sources_names_a_stale_plan() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let migrator = env!("CARGO_BIN_EXE_migrator");
    let same = std::process::Command::new(migrator).args(["plan", "--check-sources"]).arg(root).output().expect("run");
    assert_eq!(same.status.code(), Some(0), "{}", String::from_utf8_lossy(&same.stderr));

    let copy = tempfile::tempdir().expect("temp dir");
    for entry in ["migrations", "kafka_topics.yml", "indicators"] {
        copy_tree(&root.join(entry), &copy.path().join(entry));
    }
    let edited = copy.path().join("migrations/postgres/upgrade/V0001-users_and_auth.sql");
    let text = std::fs::read_to_string(&edited).expect("read V0001");
    std::fs::write(&edited, format!("{text}\n-- edited after the build\n")).expect("edit V0001");
    let stale =
        std::process::Command::new(migrator).args(["plan", "--check-sources"]).arg(copy.path()).output().expect("run");
    let stderr = String::from_utf8_lossy(&stale.stderr);
    assert_eq!(stale.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("was not compiled from the sources in") && stderr.contains("rebuild the binary"),
        "{stderr}"
    );
    assert!(stderr.contains(tradeforge_migrator::PLAN.fingerprint), "{stderr}");
}

fn copy_tree(from: &std::path::Path, to: &std::path::Path) {
    if from.is_file() {
        std::fs::copy(from, to).expect("copy file");
        return;
    }
    std::fs::create_dir_all(to).expect("create folder");
    for entry in std::fs::read_dir(from).expect("read folder") {
        let entry = entry.expect("entry");
        copy_tree(&entry.path(), &to.join(entry.file_name()));
    }
}
