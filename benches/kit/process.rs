//! Running one measured child process: whole-process wall time (spawn to exit, so process start
//! counts), its peak memory from `wait4`, and its stdout/stderr kept in files under
//! `target/bench/logs/` for reading afterwards.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What one child did.
pub struct Outcome {
    pub wall: Duration,
    /// Peak resident set size in KiB (`ru_maxrss`).
    pub max_rss_kib: u64,
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
    // Reaped by `wait4` below, which `Child` does not know about.
    #[allow(clippy::zombie_processes)]
    let child = command.spawn().unwrap_or_else(|error| panic!("cannot start {command:?}: {error}"));
    let (status, max_rss_kib) = wait(child.id());
    let wall = started.elapsed();
    let outcome = Outcome { wall, max_rss_kib, stderr_path };
    if status != 0 {
        let stderr = outcome.stderr();
        let tail: Vec<&str> = stderr.lines().rev().take(15).collect::<Vec<_>>().into_iter().rev().collect();
        panic!("{label}: {command:?} failed (wait status {status}); its stderr ends:\n{}", tail.join("\n"));
    }
    outcome
}

/// `wait4` rather than `Child::wait`: it also returns the child's resource usage.
fn wait(pid: u32) -> (i32, u64) {
    let mut status = 0;
    // SAFETY: an all-zero `rusage` is a valid value of the plain C struct wait4 fills in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = libc::pid_t::try_from(pid).expect("a process id fits pid_t");
    // SAFETY: `pid` is our own child, not yet waited for; both pointers are valid for the call.
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(waited, pid, "wait4 on the child failed: {}", std::io::Error::last_os_error());
    (status, u64::try_from(usage.ru_maxrss).unwrap_or(0))
}
