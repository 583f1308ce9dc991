//! Running one measured child process: whole-process wall time (spawn to exit, so process start
//! counts) and its stdout/stderr kept in files under `target/bench/logs/` for reading
//! afterwards. (Peak memory is measured with GNU time instead: see `Context::peak_memory_kib`.)

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What one child did.
pub struct Outcome {
    pub wall: Duration,
    pub stderr_path: PathBuf,
}

impl Outcome {
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }
}

/// Runs `command` to completion with its output in `logs/<label>.{stdout,stderr}` and `stdin`
/// (or nothing) as its input; panics with the log's tail when it fails, since a figure of a
/// failed run means nothing.
pub fn run(mut command: Command, stdin: Option<&Path>, logs: &Path, label: &str) -> Outcome {
    std::fs::create_dir_all(logs).expect("create target/bench/logs");
    let stdout_path = logs.join(format!("{label}.stdout"));
    let stderr_path = logs.join(format!("{label}.stderr"));
    let input = match stdin {
        Some(path) => Stdio::from(File::open(path).expect("open the input of a measured process")),
        None => Stdio::null(),
    };
    command
        .stdin(input)
        .stdout(File::create(&stdout_path).expect("create a log file"))
        .stderr(File::create(&stderr_path).expect("create a log file"));
    let started = Instant::now();
    let mut child = command.spawn().unwrap_or_else(|error| panic!("cannot start {command:?}: {error}"));
    let status = child.wait().unwrap_or_else(|error| panic!("cannot wait for {command:?}: {error}"));
    let wall = started.elapsed();
    let outcome = Outcome { wall, stderr_path };
    if !status.success() {
        let stderr = outcome.stderr();
        let tail: Vec<&str> = stderr.lines().rev().take(15).collect::<Vec<_>>().into_iter().rev().collect();
        panic!("{label}: {command:?} failed ({status}); its stderr ends:\n{}", tail.join("\n"));
    }
    outcome
}
