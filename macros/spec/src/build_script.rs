//! What build.rs prints: a `cargo:rerun-if-changed` line per source path, so that Cargo rebuilds
//! the plan when a source changes, and a `cargo:warning` line per destructive upgrade statement
//! (see `lint`), ClickHouse statement not written as a cluster needs (see `cluster`), script
//! still holding `migrator new`'s placeholder, or script larger than
//! [`LARGE_SCRIPT_BYTES`]. It lives here, not in build.rs, so that it can be tested.

use std::path::Path;

use crate::model::Plan;
use crate::{cluster, compile_migrations, lint, placeholder, source};

/// Above this size a script gets a build warning. The plan embeds each script's text once, so
/// the binary grows by the file's size, but rustc needs several times that in memory while it
/// compiles the plan (rustc peaked near 200 MB on a 6 MB script; the report that led here saw
/// 1.3 GB for 50 MB when the text was embedded twice): bulk data is better loaded at deploy time
/// (`COPY … FROM`, a data migration reading a file) than compiled in.
pub const LARGE_SCRIPT_BYTES: usize = 10 * 1024 * 1024;

/// The `cargo:` lines for the sources under `root`, in the order build.rs prints them.
///
/// Checking the sources is the `plan!()` macro's job, because only its errors come out as
/// ordinary `error:` lines; so when the migrations do not compile this prints no warning at all
/// (a warning about a plan that does not build would only be noise beside the errors). Only the
/// migrations are read here: every warning is about them.
pub fn lines(root: &Path) -> Vec<String> {
    let inputs = match source::discover(root) {
        Ok(inputs) => inputs,
        Err(error) => {
            // The macro reports the same problem as a compile error; watching the folder still
            // lets a fix trigger the rebuild.
            return vec![
                format!("cargo:warning=cannot list the migration sources: {error}"),
                format!("cargo:rerun-if-changed={}", source::MIGRATIONS_DIR),
            ];
        }
    };
    // Cargo reruns a build script on every build while a declared path is missing, so a missing
    // path is left out (`watch_paths` does): a file created later inside a declared folder is
    // still noticed, the only exception being a `kafka_topics.yml` created where there was none.
    let mut lines: Vec<String> =
        source::watch_paths(&inputs).iter().map(|path| format!("cargo:rerun-if-changed={}", path.display())).collect();
    if let Ok(plan) = compile_migrations(root) {
        lines.extend(lint::check(&plan).iter().map(|warning| format!("cargo:warning={warning}")));
        lines.extend(cluster::lint(&plan).iter().map(|warning| format!("cargo:warning={warning}")));
        lines.extend(placeholder::placeholders(&plan).iter().map(|placeholder| format!("cargo:warning={placeholder}")));
        lines.extend(large_scripts(&plan).into_iter().map(|warning| format!("cargo:warning={warning}")));
    }
    lines
}

/// A warning per script above [`LARGE_SCRIPT_BYTES`], PostgreSQL first, in plan order.
pub fn large_scripts(plan: &Plan) -> Vec<String> {
    let limit_mib = LARGE_SCRIPT_BYTES / (1024 * 1024);
    plan.postgres
        .iter()
        .chain(&plan.clickhouse)
        .flat_map(|migration| [&migration.upgrade, &migration.downgrade])
        .filter(|script| script.sql.len() > LARGE_SCRIPT_BYTES)
        .map(|script| {
            let mib = script.sql.len() as f64 / (1024.0 * 1024.0);
            format!(
                "{}: {mib:.1} MiB of SQL is compiled into the binary, and rustc needs several times that in memory \
                 to build it; above {limit_mib} MiB, load bulk data at deploy time instead (`COPY ... FROM`, or a \
                 data migration that reads a file)",
                script.path
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn write(root: &Path, relative: &str, contents: &str) {
        let path = root.join(relative);
        fs::create_dir_all(path.parent().expect("test paths have a parent")).expect("create test folder");
        fs::write(path, contents).expect("write test file");
    }

    #[test]
    fn lines_watch_the_sources_and_warn_about_destructive_upgrades() {
        let root = tempfile::tempdir().expect("temp dir");
        write(root.path(), "migrations/postgres/upgrade/V0001-a.sql", "CREATE TABLE a (x int);\n");
        write(root.path(), "migrations/postgres/downgrade/V0001-a.sql", "DROP TABLE a;\n");
        write(root.path(), "migrations/clickhouse/upgrade/V0001-t.sql", "SELECT 1;\n\nTRUNCATE TABLE ticks;\n");
        write(root.path(), "migrations/clickhouse/downgrade/V0001-t.sql", "SELECT 1;\n");
        assert_eq!(
            lines(root.path()),
            [
                format!("cargo:rerun-if-changed={}", root.path().join("migrations").display()),
                "cargo:warning=migrations/clickhouse/upgrade/V0001-t.sql:3:1: this upgrade empties table `ticks` \
                 (`TRUNCATE TABLE ticks`); if that is intended, add `-- migrator:allow-destructive <reason>` to the statement"
                    .to_string(),
            ]
        );
    }

    #[test]
    fn lines_hold_no_warning_when_the_statement_is_opted_out_or_the_sources_do_not_compile() {
        let root = tempfile::tempdir().expect("temp dir");
        write(
            root.path(),
            "migrations/postgres/upgrade/V0001-a.sql",
            "DROP TABLE a; -- migrator:allow-destructive replaced by b\n",
        );
        write(root.path(), "migrations/postgres/downgrade/V0001-a.sql", "CREATE TABLE a (x int);\n");
        write(root.path(), "kafka_topics.yml", "topics: []\n");
        let watched = [
            format!("cargo:rerun-if-changed={}", root.path().join("migrations").display()),
            format!("cargo:rerun-if-changed={}", root.path().join("kafka_topics.yml").display()),
        ];
        assert_eq!(lines(root.path()), watched);

        // A destructive upgrade without its downgrade: the macro reports the error, build.rs
        // stays quiet.
        write(root.path(), "migrations/postgres/upgrade/V0002-b.sql", "DROP TABLE b;\n");
        assert_eq!(lines(root.path()), watched);
    }

    #[test]
    fn a_script_above_the_size_limit_is_a_warning() {
        let root = tempfile::tempdir().expect("temp dir");
        let row = "INSERT INTO t VALUES (1, 'some text of a row');\n";
        let large = row.repeat(LARGE_SCRIPT_BYTES / row.len() + 1);
        write(root.path(), "migrations/postgres/upgrade/V0001-a.sql", &large);
        write(root.path(), "migrations/postgres/downgrade/V0001-a.sql", "DELETE FROM t WHERE true;\n");
        let warnings: Vec<String> =
            lines(root.path()).into_iter().filter(|line| line.starts_with("cargo:warning=")).collect();
        assert_eq!(
            warnings,
            ["cargo:warning=migrations/postgres/upgrade/V0001-a.sql: 10.0 MiB of SQL is compiled into the binary, and \
              rustc needs several times that in memory to build it; above 10 MiB, load bulk data at deploy time \
              instead (`COPY ... FROM`, or a data migration that reads a file)"]
        );
    }

    #[test]
    fn lines_of_the_repository_hold_no_warning() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let lines = lines(&root);
        assert!(lines.iter().any(|line| line.starts_with("cargo:rerun-if-changed=")), "{lines:?}");
        assert_eq!(
            lines.iter().filter(|line| line.starts_with("cargo:warning=")).collect::<Vec<_>>(),
            Vec::<&String>::new()
        );
    }
}
