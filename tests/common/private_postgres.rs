//! A PostgreSQL server of the test's own, for tests that restart or stop the server (the
//! stack's is shared by every test running at once and must never be restarted). It runs the
//! stack's PostgreSQL binaries (`/usr/lib/postgresql/<newest>/bin`) on a free loopback port with
//! its data in a temporary directory, as the `postgres` user when the tests run as root (initdb
//! refuses root), trusting local connections; it is stopped and deleted on drop.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub struct PrivatePostgres {
    pub port: u16,
    bin: PathBuf,
    data: PathBuf,
    // Deleted on drop, after the server stopped.
    dir: tempfile::TempDir,
}

impl PrivatePostgres {
    /// initdb and start; panics with the server's log when either fails.
    pub fn start() -> PrivatePostgres {
        let bin = binaries();
        let dir = tempfile::tempdir().expect("a temporary directory");
        let data = dir.path().join("data");
        if is_root() {
            run(Command::new("chown").args(["-R", "postgres:postgres"]).arg(dir.path()));
        }
        run(as_postgres(&bin.join("initdb"))
            .args(["--auth=trust", "--username=postgres", "--no-sync", "--encoding=UTF8", "-D"])
            .arg(&data));
        let port = super::server_ports(1)[0];
        let server = PrivatePostgres { port, bin, data, dir };
        server.pg_ctl(&["start", "-w", "-t", "60", "-o", &server.options()]);
        server
    }

    /// `postgres://postgres@127.0.0.1:<port>/<database>`.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// A fast restart: every session is ended (as on a failover), then the server accepts
    /// connections again on the same port.
    pub fn restart(&self) {
        self.pg_ctl(&["restart", "-m", "fast", "-w", "-t", "60", "-o", &self.options()]);
    }

    fn options(&self) -> String {
        format!("-p {} -c listen_addresses=127.0.0.1 -k {} -c fsync=off", self.port, self.dir.path().display())
    }

    fn pg_ctl(&self, args: &[&str]) {
        let log = self.dir.path().join("server.log");
        let status = as_postgres(&self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(&self.data)
            .arg("-l")
            .arg(&log)
            .args(args)
            .stdout(Stdio::null())
            .status();
        if !status.is_ok_and(|status| status.success()) {
            let log = std::fs::read_to_string(&log).unwrap_or_default();
            panic!("pg_ctl {args:?} failed; server log:\n{log}");
        }
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let _ = as_postgres(&self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(&self.data)
            .args(["stop", "-m", "immediate"])
            .stdout(Stdio::null())
            .status();
    }
}

fn binaries() -> PathBuf {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL binaries in /usr/lib/postgresql")
        .filter_map(|entry| entry.ok().map(|entry| entry.path().join("bin")))
        .filter(|bin| bin.join("initdb").exists())
        .collect();
    versions.sort();
    versions.pop().expect("an initdb under /usr/lib/postgresql/*/bin")
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|output| output.stdout.starts_with(b"0\n"))
}

/// `program`, run as `postgres` when we are root.
fn as_postgres(program: &Path) -> Command {
    if is_root() {
        let mut command = Command::new("runuser");
        // The test's working directory may be closed to `postgres`.
        command.args(["-u", "postgres", "--"]).arg(program).current_dir("/");
        command
    } else {
        Command::new(program)
    }
}

fn run(command: &mut Command) {
    let output = command.output().expect("run a PostgreSQL tool");
    assert!(output.status.success(), "{command:?} failed: {}", String::from_utf8_lossy(&output.stderr));
}
