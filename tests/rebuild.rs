//! The rebuild rule, for real: a crate that calls `plan!()` must be rebuilt, and its plan
//! compiled again, whenever a source is added, removed or edited. A proc macro cannot watch
//! files, so this only holds because build.rs declares the sources with `rerun-if-changed`; a
//! unit test of `watch_paths` cannot show that Cargo acts on them, so this test runs Cargo.
//!
//! It builds a scratch crate in a temporary folder: this repository's build.rs, a main.rs
//! printing what `plan!()` compiled, and one migration pair. The scratch crate depends on the
//! compiler crates (spec and macros) by path and includes the real `runtime/src/plan.rs` as its own
//! `plan` module, so it builds exactly what the repository builds at compile time without the
//! runtime's heavy dependencies (rdkafka, the ClickHouse client, tokio): only sqlx's PostgreSQL
//! driver, whose `PgConnection` the plan names for data migrations. The target folder `target/rebuild-test` is
//! shared between runs, so only the scratch crate itself is compiled each time.

use std::fs;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::Instant;

const UPGRADE: &str = "migrations/postgres/upgrade/V0001-create_users.sql";
const DOWNGRADE: &str = "migrations/postgres/downgrade/V0001-create_users.sql";
const CREATE_USERS: &str = "CREATE TABLE users (id bigint PRIMARY KEY);\n";
const DROP_USERS: &str = "DROP TABLE users;\n";

/// Prints the checksum of each PostgreSQL migration of the plan, one a line. The generated
/// plan names its types `::tradeforge_migrator::plan::…`: this crate plays that part.
const MAIN: &str = r#"extern crate self as tradeforge_migrator;

#[path = "REPOSITORY/runtime/src/plan.rs"]
pub mod plan;

tradeforge_migrator_macros::plan!();

fn main() {
    for migration in PLAN.postgres {
        println!("{}", migration.checksum);
    }
}
"#;

#[test]
fn plan_follows_every_change_to_the_sources() {
    let scratch = Scratch::new();
    scratch.write(UPGRADE, CREATE_USERS);
    scratch.write(DOWNGRADE, DROP_USERS);
    let first = scratch.run("first build");
    assert_eq!(first.len(), 1, "{first:?}");

    fs::remove_file(scratch.path(DOWNGRADE)).expect("delete the downgrade");
    let failure = scratch.build("build without the downgrade");
    let stderr = String::from_utf8_lossy(&failure.stderr);
    assert!(!failure.status.success(), "the build must fail without the downgrade:\n{stderr}");
    let expected = format!("{UPGRADE}: upgrade has no downgrade; create `{DOWNGRADE}`");
    assert!(stderr.contains(&expected), "expected `{expected}` in:\n{stderr}");

    scratch.write(DOWNGRADE, DROP_USERS);
    assert_eq!(scratch.run("build with the downgrade back"), first);

    scratch.write("migrations/postgres/upgrade/V0002-create_orders.sql", "CREATE TABLE orders (id bigint);\n");
    scratch.write("migrations/postgres/downgrade/V0002-create_orders.sql", "DROP TABLE orders;\n");
    let with_orders = scratch.run("build with a new migration");
    assert_eq!(with_orders.len(), 2, "the new migration must be in the plan: {with_orders:?}");
    assert_eq!(with_orders[0], first[0]);

    scratch.write(UPGRADE, "CREATE TABLE users (id bigint PRIMARY KEY, name text);\n");
    let edited = scratch.run("build with an edited migration");
    assert_eq!(edited.len(), 2, "{edited:?}");
    assert_ne!(edited[0], with_orders[0], "editing V0001 must change its checksum");
    assert_eq!(edited[1], with_orders[1], "V0002 was not edited");
}

/// A crate in a temporary folder that depends on this repository's crates by path.
struct Scratch {
    dir: tempfile::TempDir,
    repository: PathBuf,
}

impl Scratch {
    fn new() -> Self {
        let repository = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let scratch = Scratch { dir: tempfile::tempdir().expect("create a temporary folder"), repository };
        scratch.write("Cargo.toml", &scratch.manifest());
        // The same lock file as the repository: the same dependency versions, already
        // downloaded, and already built in the shared target folder after the first run.
        let lock = fs::read_to_string(scratch.repository.join("Cargo.lock")).expect("read Cargo.lock");
        scratch.write("Cargo.lock", &lock);
        let build_script = fs::read_to_string(scratch.repository.join("build.rs")).expect("read build.rs");
        scratch.write("build.rs", &build_script);
        let main = MAIN.replace("REPOSITORY", &scratch.repository.display().to_string());
        scratch.write("src/main.rs", &main);
        scratch
    }

    fn manifest(&self) -> String {
        let repository = self.repository.display();
        format!(
            r#"[package]
name = "rebuild-scratch"
version = "0.0.0"
edition = "2021"
publish = false
build = "build.rs"

[workspace]

[dependencies]
tradeforge-migrator-macros = {{ path = "{repository}/macros" }}
tradeforge-migrator-spec = {{ path = "{repository}/macros/spec" }}
sqlx = {{ version = "0.9", default-features = false, features = ["postgres"] }}

[build-dependencies]
tradeforge-migrator-spec = {{ path = "{repository}/macros/spec" }}

[profile.dev]
debug = false

[profile.dev.package."*"]
opt-level = 1

[profile.dev.package.tradeforge-migrator-spec]
opt-level = 2
"#
        )
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    fn write(&self, relative: &str, contents: &str) {
        let path = self.path(relative);
        fs::create_dir_all(path.parent().expect("scratch paths have a parent")).expect("create a scratch folder");
        fs::write(&path, contents).unwrap_or_else(|error| panic!("write {}: {error}", path.display()));
    }

    fn cargo(&self, subcommand: &str) -> Command {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut command = Command::new(cargo);
        command
            .arg(subcommand)
            .arg("--quiet")
            // Everything is in Cargo.lock and was downloaded to build this test.
            .arg("--offline")
            .current_dir(self.dir.path())
            .env("CARGO_TARGET_DIR", self.repository.join("target/rebuild-test"))
            .env_remove("CARGO_MANIFEST_DIR");
        command
    }

    /// `cargo build`, whatever its outcome.
    fn build(&self, step: &str) -> Output {
        timed(step, || self.cargo("build").output().expect("run cargo build"))
    }

    /// `cargo run`, which must succeed; returns the checksum of each migration in the plan.
    fn run(&self, step: &str) -> Vec<String> {
        let output = timed(step, || self.cargo("run").output().expect("run cargo run"));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{step}: cargo run failed:\n{stderr}");
        let checksums: Vec<String> = String::from_utf8_lossy(&output.stdout).lines().map(str::to_string).collect();
        assert!(checksums.iter().all(|checksum| checksum.starts_with("sha256:")), "{step}: {checksums:?}");
        checksums
    }
}

fn timed<T>(step: &str, action: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let result = action();
    eprintln!("{step}: {:.1?}", start.elapsed());
    result
}

/// Application code that wants only the typed topic and indicator names depends on this crate
/// with `default-features = false`: no database or Kafka client is then in its dependency graph.
#[test]
fn the_names_alone_need_no_database_client() {
    let repository = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .current_dir(&repository)
        .args(["tree", "--offline", "--prefix", "none", "-e", "normal", "-p", "tradeforge-migrator"])
        .arg("--no-default-features")
        .output()
        .expect("run cargo tree");
    let tree = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "cargo tree failed:\n{}", String::from_utf8_lossy(&output.stderr));
    assert!(tree.contains("tradeforge-migrator-macros"), "{tree}");
    for client in ["sqlx ", "rdkafka ", "clickhouse ", "mongodb ", "tokio ", "tradeforge-migrator-runtime "] {
        assert!(!tree.lines().any(|line| line.starts_with(client)), "`{client}` is linked by the names alone:\n{tree}");
    }
}
