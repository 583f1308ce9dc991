//! The repository under test: a copy of this repository with a generated corpus in place of
//! `migrations/`, `kafka_topics.yml` and `indicators/`, built into a real `migrator` exactly as a
//! user builds it (`cargo build --release --bin migrator`). The generators are shared with the
//! spec crate's `compile` bench (`generate`, from `macros/spec/benches/corpus/`).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::generate;
use crate::options::Sizes;

/// The sources a corpus replaces; everything else is copied from the working tree.
const SOURCES: [&str; 3] = ["migrations", "kafka_topics.yml", "indicators"];

/// Cargo's two build profiles, as a user builds the migrator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Profile {
    /// `cargo build`: what a developer runs after editing a migration.
    Debug,
    /// `cargo build --release`: what a deploy builds.
    Release,
}

pub struct Corpus {
    /// `target/bench/repo`: the copy the migrator is built from.
    pub repo: PathBuf,
    /// `target/bench-build`: shared between kit runs so crates.io dependencies compile once.
    pub target_dir: PathBuf,
    /// `target/bench/bin`: each built migrator is copied here under its own name.
    pub bin_dir: PathBuf,
    pub postgres: Vec<generate::Migration>,
    pub clickhouse: Vec<generate::Migration>,
    pub topic_prefix: String,
    pub topics: usize,
}

impl Corpus {
    /// Copies the working tree (what `git ls-files` lists, untracked files included, ignored
    /// ones not) to `target/bench/repo` and writes the corpus there.
    pub fn prepare(workspace: &Path, sizes: &Sizes, topic_prefix: &str) -> Corpus {
        let bench = workspace.join("target/bench");
        let repo = bench.join("repo");
        copy_working_tree(workspace, &repo);
        let corpus = Corpus {
            repo,
            target_dir: workspace.join("target/bench-build"),
            bin_dir: bench.join("bin"),
            postgres: generate::postgres(sizes.postgres),
            clickhouse: generate::clickhouse(sizes.clickhouse),
            topic_prefix: topic_prefix.to_owned(),
            topics: sizes.topics,
        };
        remove_stale_migrations(&corpus.repo, &corpus.postgres, &corpus.clickhouse);
        generate::write_migrations(&corpus.repo, "postgres", &corpus.postgres);
        generate::write_migrations(&corpus.repo, "clickhouse", &corpus.clickhouse);
        corpus.write_topics(sizes.topics);
        generate::write(&corpus.repo, "indicators/data/indicators.json", &generate::indicators(sizes.indicators));
        corpus
    }

    /// Rewrites `kafka_topics.yml` with the first `count` topics.
    pub fn write_topics(&self, count: usize) {
        generate::write(&self.repo, "kafka_topics.yml", &generate::kafka_topics(count, &self.topic_prefix));
    }

    /// Every topic name of the full corpus.
    pub fn topic_names(&self) -> Vec<String> {
        (0..self.topics).map(|index| format!("{}{index}", self.topic_prefix)).collect()
    }

    /// `cargo build --release --bin migrator` in the copy; the whole cargo wall time.
    pub fn build(&self) -> Duration {
        self.build_in(Profile::Release)
    }

    /// `cargo build [--release] --bin migrator` in the copy; the whole cargo wall time.
    pub fn build_in(&self, profile: Profile) -> Duration {
        let mut arguments = vec!["build", "--quiet", "--bin", "migrator"];
        if profile == Profile::Release {
            arguments.push("--release");
        }
        let started = Instant::now();
        let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .args(&arguments)
            .current_dir(&self.repo)
            .env("CARGO_TARGET_DIR", &self.target_dir)
            .status()
            .expect("run cargo build in target/bench/repo");
        assert!(status.success(), "building the migrator over the corpus failed; its errors are above");
        started.elapsed()
    }

    /// Copies the migrator just built to `target/bench/bin/<name>` and returns that path.
    pub fn keep_binary(&self, name: &str) -> PathBuf {
        std::fs::create_dir_all(&self.bin_dir).expect("create target/bench/bin");
        let kept = self.bin_dir.join(name);
        std::fs::copy(self.target_dir.join("release/migrator"), &kept).expect("copy the built migrator");
        kept
    }

    /// Appends a comment to the last PostgreSQL upgrade: the smallest edit a user makes.
    pub fn edit_one_migration(&self, edit: usize) {
        let last = self.postgres.last().expect("the corpus has PostgreSQL migrations");
        let path = self.repo.join("migrations/postgres/upgrade").join(last.file_name());
        let mut text = std::fs::read_to_string(&path).expect("read the migration to edit");
        let _ = writeln!(text, "-- edit {edit}");
        std::fs::write(&path, text).expect("write the edited migration");
    }

    /// Every upgrade of `migrations`, in version order, as one script.
    pub fn concatenated(migrations: &[generate::Migration]) -> String {
        let mut script = String::new();
        for migration in migrations {
            let _ = writeln!(script, "{}", migration.upgrade.trim_end());
        }
        script
    }

    /// The indicator rows as `migrate` writes them into `system_indicators`, in COPY text format,
    /// for the floor of the indicator sync. Compiled by the same spec crate as the migrator's plan.
    pub fn indicator_rows(&self) -> String {
        let plan = tradeforge_migrator_spec::compile(&self.repo)
            .unwrap_or_else(|problems| panic!("the generated corpus must be valid:\n{problems}"));
        let mut rows = String::new();
        for indicator in &plan.indicators {
            let definition = tradeforge_migrator_spec::indicators::definition_json(indicator);
            let fields = [
                indicator.name.as_str(),
                indicator.display_name.as_str(),
                indicator.category.as_str(),
                indicator.description.as_deref().unwrap_or("\\N"),
                &tradeforge_migrator_spec::indicators::parameters_json(indicator),
                &tradeforge_migrator_spec::indicators::outputs_json(indicator),
                &tradeforge_migrator_spec::source::sha256_hex(&definition),
                "t",
            ];
            let escaped: Vec<String> = fields.iter().map(|field| copy_escape(field)).collect();
            let _ = writeln!(rows, "{}", escaped.join("\t"));
        }
        rows
    }
}

/// COPY text format: backslash, tab, newline and carriage return are escaped (`\N` is kept).
fn copy_escape(field: &str) -> String {
    if field == "\\N" {
        return field.to_owned();
    }
    field.replace('\\', "\\\\").replace('\t', "\\t").replace('\n', "\\n").replace('\r', "\\r")
}

fn copy_working_tree(workspace: &Path, repo: &Path) {
    let listed = Command::new("git")
        .args(["ls-files", "-z", "--cached", "--others", "--exclude-standard"])
        .current_dir(workspace)
        .output()
        .expect("run git ls-files in the repository");
    assert!(listed.status.success(), "git ls-files failed: {}", String::from_utf8_lossy(&listed.stderr));
    for file in listed.stdout.split(|&byte| byte == 0).filter(|file| !file.is_empty()) {
        let relative = Path::new(std::str::from_utf8(file).expect("a UTF-8 path"));
        let is_source = SOURCES.iter().any(|source| relative.starts_with(source));
        let from = workspace.join(relative);
        if is_source || !from.is_file() {
            continue;
        }
        let to = repo.join(relative);
        std::fs::create_dir_all(to.parent().expect("a file has a folder")).expect("create a folder in the copy");
        copy_if_changed(&from, &to);
    }
}

/// Removes migration files of an earlier, larger corpus; files the new corpus also has stay, so
/// an unchanged corpus does not rebuild the migrator.
fn remove_stale_migrations(repo: &Path, postgres: &[generate::Migration], clickhouse: &[generate::Migration]) {
    for (target, migrations) in [("postgres", postgres), ("clickhouse", clickhouse)] {
        let wanted: Vec<String> = migrations.iter().map(generate::Migration::file_name).collect();
        for side in ["upgrade", "downgrade"] {
            let Ok(entries) = std::fs::read_dir(repo.join("migrations").join(target).join(side)) else { continue };
            for entry in entries.flatten() {
                if !wanted.iter().any(|name| *name == entry.file_name().to_string_lossy()) {
                    let _ = std::fs::remove_file(entry.path());
                }
            }
        }
    }
}

/// Leaves unchanged files alone so their modification times do not make cargo rebuild them.
fn copy_if_changed(from: &Path, to: &Path) {
    let text = std::fs::read(from).expect("read a file of the repository");
    if std::fs::read(to).is_ok_and(|existing| existing == text) {
        return;
    }
    std::fs::write(to, text).expect("write a file of the copy");
}
