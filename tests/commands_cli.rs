//! The operator commands that need no server, through the real binary: every command's `--help`
//! has examples, `plan --sql` prints every statement offline, `down`/`redo` outside a terminal
//! need `--yes`, and `new` writes a pair the build checks, refuses bad descriptions and never
//! overwrites. Servers are pointed at closed ports, so a command that tried to connect would fail.

mod common;

use std::fs;
use std::path::Path;
use std::process::Command;

use tradeforge_migrator::targets::TargetName;
use tradeforge_migrator::PLAN;
use tradeforge_migrator_spec::diag::Problems;

use common::binary::{self, Outcome};
use common::free_port as closed_port;

/// The binary with every server at a closed port.
fn migrator() -> Command {
    let mut command = binary::migrator();
    command
        .env("DATABASE_URL", format!("postgres://app:pw@127.0.0.1:{}/trading", closed_port()))
        .env("CLICKHOUSE_URL", format!("http://127.0.0.1:{}", closed_port()))
        .env("KAFKA_BOOTSTRAP_SERVERS", format!("127.0.0.1:{}", closed_port()));
    command
}

fn run(args: &[&str]) -> Outcome {
    binary::run(migrator().args(args))
}

const COMMANDS: [&str; 11] =
    ["migrate", "status", "check", "plan", "history", "up", "down", "redo", "new", "baseline", "repair"];

#[test]
fn every_command_help_shows_examples_and_the_main_help_maps_alembic_commands() {
    for command in COMMANDS {
        let outcome = run(&[command, "--help"]);
        assert_eq!(outcome.code, Some(0), "{command}: {}", outcome.stderr);
        assert!(outcome.stdout.contains("Example"), "`{command} --help` has no example: {}", outcome.stdout);
        assert!(outcome.stdout.contains(&format!("migrator {command}")), "`{command} --help`: {}", outcome.stdout);
    }
    let main = run(&["--help"]);
    for command in COMMANDS {
        assert!(main.stdout.contains(&format!("\n  {command} ")), "`--help` lists {command}: {}", main.stdout);
    }
    for alembic in
        ["alembic upgrade head --sql", "alembic downgrade -1", "alembic current", "alembic check", "alembic stamp"]
    {
        assert!(main.stdout.contains(alembic), "`--help` maps `{alembic}`: {}", main.stdout);
    }
    assert!(main.stdout.contains("5  another migrator held the run lock"), "{}", main.stdout);
    let migrate = run(&["migrate", "--help"]);
    for name in ["--dry-run", "--lock-timeout", "--lock-database-url", "MIGRATOR_LOCK_DATABASE_URL", "PgBouncer"] {
        assert!(migrate.stdout.contains(name), "`migrate --help` mentions {name}: {}", migrate.stdout);
    }
}

#[test]
fn plan_sql_prints_every_statement_topic_and_indicator_offline() {
    let outcome = run(&["plan", "--sql"]);
    assert_eq!(outcome.code, Some(0), "{}", outcome.stderr);
    let stdout = &outcome.stdout;
    assert!(stdout.starts_with(&format!("-- migrator plan --sql: plan {}\n", PLAN.fingerprint)), "{stdout}");

    let migrations: Vec<_> = PLAN.postgres.iter().chain(PLAN.clickhouse).collect();
    let mut position = 0;
    let mut statements = 0;
    for migration in &migrations {
        let header = format!("\n-- V{} {} ({})\n", migration.version, migration.description, migration.upgrade.path);
        position += stdout[position..].find(&header).unwrap_or_else(|| panic!("no `{header}`: {stdout}"));
        for statement in migration.upgrade.statements {
            let expected = format!("{statement};");
            let line_comment_end = format!("{statement}\n;");
            let found = stdout[position..]
                .find(&expected)
                .map(|offset| (offset, expected.len()))
                .or_else(|| stdout[position..].find(&line_comment_end).map(|offset| (offset, line_comment_end.len())))
                .unwrap_or_else(|| panic!("statement missing or out of order: {statement}"));
            position += found.0 + found.1;
            statements += 1;
        }
    }
    let planned: usize = migrations.iter().map(|migration| migration.upgrade.statements.len()).sum();
    assert_eq!(statements, planned);
    for migration in PLAN.mongodb {
        let header = format!("\n-- V{} {} ({})\n", migration.version, migration.description, migration.upgrade.path);
        position += stdout[position..].find(&header).unwrap_or_else(|| panic!("no `{header}`: {stdout}"));
        for command in migration.upgrade.statements {
            position += stdout[position..].find(&format!("\n{command}\n")).expect("every MongoDB command, in order");
        }
    }
    assert_eq!(stdout.matches("\n-- V").count(), migrations.len() + PLAN.mongodb.len(), "one header per migration");
    let live_topics = PLAN.topics.iter().filter(|topic| !topic.deleted).count();
    assert_eq!(stdout.matches("\n--   create topic ").count(), live_topics);
    assert_eq!(stdout.matches("\n--   upsert ").count(), PLAN.indicators.len());
    for topic in PLAN.topics.iter().filter(|topic| !topic.deleted) {
        let line = format!(
            "--   create topic {} partitions={} replication_factor={}",
            topic.name, topic.partitions, topic.replication_factor
        );
        assert!(stdout.contains(&line), "{line}");
    }
}

#[test]
fn plan_sql_of_one_target_prints_only_that_target() {
    let outcome = run(&["plan", "--sql", "clickhouse"]);
    assert_eq!(outcome.code, Some(0), "{}", outcome.stderr);
    assert!(outcome.stdout.contains(&format!("\n-- clickhouse: {} migrations\n", PLAN.clickhouse.len())));
    for absent in ["-- postgres:", "-- kafka:", "-- indicators:"] {
        assert!(!outcome.stdout.contains(absent), "{absent}: {}", outcome.stdout);
    }
    let rendered = tradeforge_migrator::commands::plan_sql::render(&PLAN, &[TargetName::Clickhouse], None);
    assert_eq!(outcome.stdout, rendered);
    let targets_without_sql = run(&["plan", "postgres"]);
    assert_eq!(targets_without_sql.code, Some(2), "targets need --sql: {}", targets_without_sql.stderr);
}

#[test]
fn down_and_redo_outside_a_terminal_need_yes_and_contact_nothing() {
    for args in [
        &["down", "--target", "postgres"][..],
        &["down", "--target", "clickhouse", "--to", "base"],
        &["redo", "--target", "postgres"],
    ] {
        let outcome = run(args);
        assert_eq!(outcome.code, Some(2), "{args:?}: {}", outcome.stderr);
        assert_eq!(outcome.stderr.lines().count(), 1, "one line: {}", outcome.stderr);
        assert!(
            outcome
                .stderr
                .starts_with(&format!("error: `migrator {}` undoes migrations and stdin is not a terminal", args[0])),
            "{}",
            outcome.stderr
        );
        assert!(outcome.stderr.contains("pass `--yes`"), "{}", outcome.stderr);
        assert!(outcome.stdout.is_empty());
    }
    // With `--yes` it goes on to connect, and fails at the closed port after `--wait`.
    let outcome = run(&["--log-format", "json", "down", "--target", "postgres", "--yes", "--wait", "0s"]);
    assert_eq!(outcome.code, Some(3), "{}", outcome.stderr);
}

#[test]
fn bad_versions_are_usage_errors() {
    for args in [
        &["up", "--target", "postgres", "--to", "latest"][..],
        &["down", "--target", "postgres", "--to", "V0", "--yes"],
        &["baseline", "--target", "clickhouse", "x1"],
        &["up", "--target", "kafka"],
    ] {
        let outcome = run(args);
        assert_eq!(outcome.code, Some(2), "{args:?}: {}", outcome.stderr);
    }
}

/// A sources root holding one PostgreSQL migration written like the repository's.
fn sources_with_one_migration() -> tempfile::TempDir {
    let root = tempfile::tempdir().expect("temp dir");
    for (direction, sql) in [("upgrade", "CREATE TABLE a (id int);\n"), ("downgrade", "DROP TABLE a;\n")] {
        let folder = root.path().join("migrations/postgres").join(direction);
        fs::create_dir_all(&folder).expect("create folder");
        fs::write(folder.join("V0001-a.sql"), sql).expect("write migration");
    }
    root
}

fn new_in(root: &Path, args: &[&str]) -> Outcome {
    let mut full = vec!["new", "--dir", root.to_str().expect("UTF-8 temp path")];
    full.extend_from_slice(args);
    run(&full)
}

fn problem_messages(problems: &Problems) -> Vec<String> {
    problems.iter().map(|problem| problem.to_string()).collect()
}

#[test]
fn new_creates_the_next_pair_which_the_build_accepts_and_warns_about_until_written() {
    let root = sources_with_one_migration();
    let outcome = new_in(root.path(), &["postgres", "add orders  table"]);
    assert_eq!(outcome.code, Some(0), "{}", outcome.stderr);
    let upgrade = root.path().join("migrations/postgres/upgrade/V0002-add_orders_table.sql");
    let downgrade = root.path().join("migrations/postgres/downgrade/V0002-add_orders_table.sql");
    assert_eq!(
        outcome.stdout.lines().take(2).collect::<Vec<_>>(),
        [format!("created {}", upgrade.display()), format!("created {}", downgrade.display())]
    );
    // What it prints is what the build does: it warns about the placeholder, it does not refuse it.
    let advice = outcome.stdout.lines().nth(2).unwrap_or_default();
    assert!(
        advice.contains("the build accepts the placeholder") && advice.contains("warns on every build"),
        "{advice}"
    );
    assert!(!outcome.stdout.contains("refuses"), "{}", outcome.stdout);
    let upgrade_text = fs::read_to_string(&upgrade).expect("upgrade written");
    assert!(upgrade_text.starts_with("-- V0002 add_orders_table: upgrade (PostgreSQL)\n"), "{upgrade_text}");
    assert!(upgrade_text.contains("migrations/postgres/downgrade/V0002-add_orders_table.sql"), "{upgrade_text}");

    // As written, the build accepts the pair, and warns about exactly the two files to fill in.
    let plan = tradeforge_migrator_spec::compile(root.path())
        .unwrap_or_else(|problems| panic!("the new pair must build: {:?}", problem_messages(&problems)));
    let warnings: Vec<String> =
        tradeforge_migrator_spec::placeholder::placeholders(&plan).iter().map(ToString::to_string).collect();
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(
        warnings[0].starts_with("migrations/postgres/upgrade/V0002-add_orders_table.sql: still holds the placeholder")
    );
    assert!(warnings[1]
        .starts_with("migrations/postgres/downgrade/V0002-add_orders_table.sql: still holds the placeholder"));

    let placeholder = format!("{};\n", tradeforge_migrator_spec::placeholder::PLACEHOLDER);
    let written = upgrade_text.replace(&placeholder, "CREATE TABLE orders (id int);\n");
    fs::write(&upgrade, written).expect("write the upgrade");
    let downgrade_text = fs::read_to_string(&downgrade).expect("downgrade written");
    fs::write(&downgrade, downgrade_text.replace(&placeholder, "DROP TABLE orders;\n")).expect("write the downgrade");
    let plan = tradeforge_migrator_spec::compile(root.path())
        .unwrap_or_else(|problems| panic!("{:?}", problem_messages(&problems)));
    let versions: Vec<(u64, &str)> =
        plan.postgres.iter().map(|migration| (migration.version, migration.description.as_str())).collect();
    assert_eq!(versions, [(1, "a"), (2, "add_orders_table")]);
    assert!(plan.postgres[1].upgrade.transactional, "the header does not turn the transaction off");
    assert!(tradeforge_migrator_spec::placeholder::placeholders(&plan).is_empty(), "no warning once written");
}

#[test]
fn new_starts_clickhouse_at_v0001_and_keeps_an_existing_width() {
    let root = sources_with_one_migration();
    let outcome = new_in(root.path(), &["clickhouse", "sentiment"]);
    assert_eq!(outcome.code, Some(0), "{}", outcome.stderr);
    let upgrade = root.path().join("migrations/clickhouse/upgrade/V0001-sentiment.sql");
    let text = fs::read_to_string(upgrade).expect("clickhouse upgrade written");
    assert!(text.contains("18.16") && text.contains("IF NOT EXISTS"), "{text}");

    let narrow = tempfile::tempdir().expect("temp dir");
    for direction in ["upgrade", "downgrade"] {
        let folder = narrow.path().join("migrations/postgres").join(direction);
        fs::create_dir_all(&folder).expect("create folder");
        fs::write(folder.join("V9-x.sql"), "SELECT 1;\n").expect("write migration");
    }
    assert_eq!(new_in(narrow.path(), &["postgres", "y"]).code, Some(0));
    assert!(narrow.path().join("migrations/postgres/upgrade/V10-y.sql").is_file(), "one above V9, no padding");
}

#[test]
fn new_data_writes_a_data_migration_the_build_accepts_and_warns_about_until_written() {
    let root = sources_with_one_migration();

    let outcome = new_in(root.path(), &["postgres", "--data", "Fill plan limits"]);

    assert_eq!(outcome.code, Some(0), "{}", outcome.stderr);
    let path = root.path().join("migrations/postgres/data/fill_plan_limits.rs");
    assert!(outcome.stdout.contains(&format!("created {} (V2)", path.display())), "{}", outcome.stdout);
    let plan = tradeforge_migrator_spec::compile(root.path()).expect("the build accepts the new file");
    let data = &plan.postgres[1];
    assert_eq!((data.version, data.description.as_str()), (2, "fill_plan_limits"));
    let warnings = tradeforge_migrator_spec::placeholder::placeholders(&plan);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].to_string().contains("replace it with the real code"), "{}", warnings[0]);

    let again = new_in(root.path(), &["postgres", "--data", "fill plan limits"]);
    assert_eq!(again.code, Some(1), "never overwrites: {}", again.stderr);
    let bad = new_in(root.path(), &["postgres", "--data", "2nd fill"]);
    assert_eq!(bad.code, Some(2), "{}", bad.stderr);
    assert!(bad.stderr.contains("does not make a Rust module name"), "{}", bad.stderr);
    let clickhouse = new_in(root.path(), &["clickhouse", "--data", "fill"]);
    assert_eq!(clickhouse.code, Some(2), "{}", clickhouse.stderr);
}

#[test]
fn new_postgres_numbers_past_the_data_migrations() {
    let root = sources_with_one_migration();
    let data = root.path().join("migrations/postgres/data");
    fs::create_dir_all(&data).expect("create data folder");
    fs::write(
        data.join("fill.rs"),
        "#[tradeforge_migrator::data_migration(version = 5)]\nmod fill {\n    \
         pub async fn upgrade(db: &mut C) -> R { todo!() }\n    pub async fn downgrade(db: &mut C) -> R { todo!() }\n}\n",
    )
    .expect("write data migration");

    let outcome = new_in(root.path(), &["postgres", "after fill"]);

    assert_eq!(outcome.code, Some(0), "{}", outcome.stderr);
    assert!(root.path().join("migrations/postgres/upgrade/V0006-after_fill.sql").is_file(), "{}", outcome.stdout);
}

#[test]
fn new_refuses_bad_descriptions_and_writes_nothing() {
    let root = sources_with_one_migration();
    let long = "x".repeat(121);
    for description in ["", "   ", "a/b", "a\\b", ".hidden", "tab\u{1}char", long.as_str(), "what?"] {
        let outcome = new_in(root.path(), &["postgres", description]);
        assert_eq!(outcome.code, Some(2), "{description:?}: {}", outcome.stderr);
        assert!(outcome.stderr.starts_with("error: the description "), "{}", outcome.stderr);
    }
    let files = fs::read_dir(root.path().join("migrations/postgres/upgrade")).expect("list").count();
    assert_eq!(files, 1, "nothing was written");

    let no_sources = tempfile::tempdir().expect("temp dir");
    let outcome = new_in(no_sources.path(), &["postgres", "x"]);
    assert_eq!(outcome.code, Some(2), "{}", outcome.stderr);
    assert!(outcome.stderr.contains("migrations` does not exist"), "{}", outcome.stderr);
}

#[test]
fn new_never_overwrites_and_leaves_no_half_pair() {
    let root = sources_with_one_migration();
    // Something already holds the downgrade's name (a folder the build would reject).
    let taken = root.path().join("migrations/postgres/downgrade/V0002-orders.sql");
    fs::create_dir_all(&taken).expect("create the obstacle");
    let outcome = new_in(root.path(), &["postgres", "orders"]);
    assert_eq!(outcome.code, Some(1), "{}", outcome.stderr);
    assert!(outcome.stderr.contains("already exists; nothing was written"), "{}", outcome.stderr);
    assert!(
        !root.path().join("migrations/postgres/upgrade/V0002-orders.sql").exists(),
        "the upgrade was removed again"
    );
    assert!(taken.is_dir(), "the existing entry is untouched");
}
