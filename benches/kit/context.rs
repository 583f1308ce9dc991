//! What every measurement shares: the stack, the corpus and its built migrators, a tokio runtime
//! for set-up and proxies, and how a migrator or floor process is started (with `--profile`:
//! under `perf record`, with debug logs).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::corpus::Corpus;
use crate::floor;
use crate::options::Sizes;
use crate::process::{self, Outcome};
use crate::report::Report;
use crate::stack::Stack;

pub struct Context {
    pub runtime: tokio::runtime::Runtime,
    pub stack: Stack,
    pub corpus: Corpus,
    pub sizes: Sizes,
    pub report: Report,
    /// `target/bench/logs`: each process's stdout and stderr, overwritten per label.
    pub logs: PathBuf,
    /// `target/bench/profile` when profiling, else None.
    pub profile: Option<PathBuf>,
    /// The migrator built over the full corpus.
    pub migrator: PathBuf,
    /// `migrate postgres` samples kept for the peers' ratios: from empty, and with nothing pending.
    pub postgres_full_apply: Vec<Duration>,
    pub postgres_up_to_date: Vec<Duration>,
}

/// Whatever happened, the databases and topics of the run are removed.
impl Drop for Context {
    fn drop(&mut self) {
        self.runtime.block_on(async {
            self.stack.delete_topics(&self.corpus.topic_names()).await;
            self.stack.clean_up().await;
        });
    }
}

impl Context {
    /// Runs `binary` (a migrator) with `--log-format json` and `arguments`, pointed at `env`.
    pub fn migrator(&self, binary: &Path, env: &[(String, String)], arguments: &[&str], label: &str) -> Outcome {
        let mut command = self.profiled(binary, label);
        command.arg("--log-format").arg("json");
        if self.profile.is_some() {
            command.arg("--log-level").arg("debug");
        }
        command.args(arguments);
        process::run(with_env(command, env), None, &self.logs, label)
    }

    /// Runs a floor (`kit floor <arguments>`) pointed at `env`.
    pub fn floor(&self, env: &[(String, String)], arguments: &[&str], label: &str) -> Outcome {
        process::run(with_env(floor::command(arguments), env), None, &self.logs, label)
    }

    /// The migrator's peak memory (KiB) running `arguments` against `env`, measured by GNU time,
    /// which forks the migrator from its own small process. (`wait4` on a child spawned straight
    /// from the kit would not do: Rust spawns with `vfork`, and the child's `ru_maxrss` then
    /// starts from the kit's own resident memory, corpus included.)
    pub fn peak_memory_kib(&self, env: &[(String, String)], arguments: &[&str], label: &str) -> u64 {
        let report = self.logs.join(format!("{label}.maxrss"));
        let mut command = Command::new("/usr/bin/time");
        command.args(["-f", "%M", "-o"]).arg(&report).arg(&self.migrator).args(["--log-format", "json"]);
        command.args(arguments);
        process::run(with_env(command, env), None, &self.logs, label);
        let text = std::fs::read_to_string(&report).expect("read GNU time's report");
        text.trim().parse().unwrap_or_else(|_| panic!("GNU time's report `{}` holds no number", report.display()))
    }

    /// Runs any other command (psql, clickhouse-client) as a measured process, `stdin` as its input.
    pub fn other(&self, command: Command, stdin: Option<&Path>, label: &str) -> Outcome {
        process::run(command, stdin, &self.logs, label)
    }

    /// `binary`, or `perf record -g -o <profile>/<label>.data -- binary` when profiling and perf
    /// is installed.
    fn profiled(&self, binary: &Path, label: &str) -> Command {
        match &self.profile {
            Some(folder) if perf_installed() => {
                std::fs::create_dir_all(folder).expect("create target/bench/profile");
                let mut command = Command::new("perf");
                command.args(["record", "-q", "-g", "-o"]).arg(folder.join(format!("{label}.data"))).arg("--");
                command.arg(binary);
                command
            }
            _ => Command::new(binary),
        }
    }
}

/// The variables the migrator reads are set from `env` alone; those of the caller's shell that
/// could point it elsewhere (`POSTGRES_*`, `CLICKHOUSE_*`, `KAFKA_*`) are removed.
fn with_env(mut command: Command, env: &[(String, String)]) -> Command {
    for (name, _) in std::env::vars() {
        let points_elsewhere =
            ["POSTGRES_", "CLICKHOUSE_", "KAFKA_", "MIGRATOR_", "DATABASE_URL", "MIGRATE", "RUST_LOG"]
                .iter()
                .any(|prefix| name.starts_with(prefix));
        if points_elsewhere {
            command.env_remove(name);
        }
    }
    command.envs(env.iter().map(|(name, value)| (name, value)));
    command
}

fn perf_installed() -> bool {
    Command::new("perf").arg("--version").output().is_ok_and(|output| output.status.success())
}
