//! Peer migration tools run on the kit's PostgreSQL corpus (issue 6, item 6): sqlx-cli, dbmate and
//! Alembic, each installed at a pinned version by `benches/peers/install` under
//! `target/bench/peers/` (or `$TFM_BENCH_PEERS_DIR`).
//!
//! For each run and each peer (interleaved, so that noise on this shared machine hits every peer
//! alike): a fresh database `bench_peer_<peer>_<pid>_<run>`, then two timed invocations of the
//! peer's CLI, each the whole process from spawn to exit:
//! - `full_apply`: every migration from an empty database, including creating the peer's history
//!   table; afterwards the history is checked to hold every migration, so a peer that silently
//!   applied nothing cannot look fast;
//! - `up_to_date`: the same command again, nothing pending.
//!
//! What each timing includes, so that ratios are read fairly:
//! - **sqlx-cli** (`sqlx migrate run`, a Rust binary): reads every `.up.sql`, takes an advisory
//!   lock, compares the SHA-384 checksum of every applied migration, and runs each pending file
//!   (all statements sent as one simple query) in a transaction of its own together with its row in
//!   `_sqlx_migrations`.
//! - **dbmate** (`dbmate migrate`, a static Go binary run directly, not through npm's node shim):
//!   reads every file, runs each pending one in a transaction of its own together with its row in
//!   `schema_migrations`. No checksums. `migrate` rather than `up`: the database already exists,
//!   and `up` would first connect to check that.
//! - **Alembic** (`alembic upgrade head`, Python): starts the interpreter, imports SQLAlchemy and
//!   every revision module (byte-compiled once before the first run, as an installed app would
//!   be), walks the revision chain, then runs each revision in a transaction of its own
//!   (`transaction_per_migration=True` in `benches/peers/alembic/env.py`; Alembic's default is one
//!   transaction for the whole upgrade) and updates the single row of `alembic_version`.
//!   No checksums.
//!
//! A script whose first line is `-- migrator:no-transaction` gets each peer's own opt-out
//! (`-- no-transaction`, `transaction:false`, `autocommit_block()`). The URL given to the peers
//! gets `sslmode=disable` when it names none: the stack is on loopback without TLS, and lib/pq
//! (dbmate) would otherwise demand TLS; every peer gets the same URL.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sqlx::{Connection as _, PgConnection};

/// One PostgreSQL migration of the generated corpus.
pub struct SqlMigration<'a> {
    pub version: u64,
    pub description: &'a str,
    pub upgrade: &'a str,
    pub downgrade: &'a str,
}

/// Wall times of one peer, one entry per run.
pub struct PeerFigures {
    pub peer: &'static str,
    pub full_apply: Vec<Duration>,
    pub up_to_date: Vec<Duration>,
}

pub enum PeerOutcome {
    Measured(PeerFigures),
    /// Not installed, or failed on the corpus; `why` says which and what to do.
    Unavailable {
        peer: &'static str,
        why: String,
    },
}

/// Runs each peer on fresh databases created through `admin_url`; `work_dir` is scratch space.
pub fn measure_all(postgres: &[SqlMigration<'_>], admin_url: &str, work_dir: &Path, runs: usize) -> Vec<PeerOutcome> {
    // A thread of its own: the admin connection needs a tokio runtime, and one cannot be started
    // on a thread that is already inside the caller's runtime.
    std::thread::scope(|scope| {
        scope
            .spawn(|| measure_on_this_thread(postgres, admin_url, work_dir, runs))
            .join()
            .expect("the peer measurement thread panicked; see the message above")
    })
}

/// The first line that opts a script out of its transaction (`macros/spec`'s `NO_TRANSACTION`).
const NO_TRANSACTION: &str = "-- migrator:no-transaction";

const ALEMBIC_INI: &str = include_str!("../peers/alembic/alembic.ini");
const ALEMBIC_ENV: &str = include_str!("../peers/alembic/env.py");
const ALEMBIC_REVISION: &str = include_str!("../peers/alembic/revision.py.tmpl");

/// Environment variable through which `env.py` gets the database URL.
const ALEMBIC_URL_VARIABLE: &str = "TFM_BENCH_PEER_DATABASE_URL";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Peer {
    Sqlx,
    Dbmate,
    Alembic,
}

impl Peer {
    const ALL: [Peer; 3] = [Peer::Sqlx, Peer::Dbmate, Peer::Alembic];

    fn name(self) -> &'static str {
        match self {
            Peer::Sqlx => "sqlx-cli",
            Peer::Dbmate => "dbmate",
            Peer::Alembic => "alembic",
        }
    }

    /// Part of database and folder names: `[a-z]` only.
    fn slug(self) -> &'static str {
        match self {
            Peer::Sqlx => "sqlx",
            Peer::Dbmate => "dbmate",
            Peer::Alembic => "alembic",
        }
    }

    /// Where `benches/peers/install` puts the executable.
    fn program(self, peers_dir: &Path) -> PathBuf {
        match self {
            Peer::Sqlx => peers_dir.join("cargo/bin/sqlx"),
            Peer::Dbmate => peers_dir.join("npm/node_modules/@dbmate/linux-x64/bin/dbmate"),
            Peer::Alembic => peers_dir.join("venv/bin/alembic"),
        }
    }
}

/// A peer whose executable was found and whose migrations are laid out in `dir`.
struct Prepared {
    peer: Peer,
    program: PathBuf,
    dir: PathBuf,
    /// What the history must hold after the full apply: a query returning one text value, and it.
    check: (&'static str, String),
}

impl Prepared {
    /// The command that applies everything pending to the database at `url`.
    fn command(&self, url: &str) -> Command {
        let mut command = Command::new(&self.program);
        command.current_dir(&self.dir).env_remove("DATABASE_URL").stdin(Stdio::null());
        match self.peer {
            Peer::Sqlx => {
                command
                    .args(["migrate", "run", "--no-dotenv", "--database-url", url, "--source"])
                    .arg(self.dir.join("migrations"));
            }
            Peer::Dbmate => {
                command.args(["--url", url, "--no-dump-schema", "--migrations-dir"]);
                command.arg(self.dir.join("db/migrations")).arg("migrate");
            }
            Peer::Alembic => {
                command.arg("-c").arg(self.dir.join("alembic.ini")).args(["upgrade", "head"]);
                command.env(ALEMBIC_URL_VARIABLE, url);
            }
        }
        command
    }
}

enum State {
    Ready { prepared: Prepared, full_apply: Vec<Duration>, up_to_date: Vec<Duration> },
    Failed { peer: Peer, why: String },
}

fn measure_on_this_thread(
    corpus: &[SqlMigration<'_>],
    admin_url: &str,
    work_dir: &Path,
    runs: usize,
) -> Vec<PeerOutcome> {
    let everyone_unavailable = |why: String| -> Vec<PeerOutcome> {
        Peer::ALL.iter().map(|peer| PeerOutcome::Unavailable { peer: peer.name(), why: why.clone() }).collect()
    };
    if corpus.is_empty() {
        return everyone_unavailable("the corpus has no PostgreSQL migration".into());
    }
    let mut corpus: Vec<&SqlMigration<'_>> = corpus.iter().collect();
    corpus.sort_by_key(|migration| migration.version);

    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => return everyone_unavailable(format!("cannot start a tokio runtime: {error}")),
    };
    let mut admin = match Admin::connect(&runtime, admin_url) {
        Ok(admin) => admin,
        Err(why) => return everyone_unavailable(why),
    };

    let peers_dir = peers_dir();
    let mut states: Vec<State> = Peer::ALL
        .iter()
        .map(|&peer| match prepare(peer, &corpus, &peers_dir, work_dir) {
            Ok(prepared) => State::Ready { prepared, full_apply: Vec::new(), up_to_date: Vec::new() },
            Err(why) => State::Failed { peer, why },
        })
        .collect();

    for run in 0..runs {
        for state in &mut states {
            let State::Ready { prepared, full_apply, up_to_date } = state else { continue };
            match measure_once(&runtime, &mut admin, prepared, run) {
                Ok((full, nothing_pending)) => {
                    full_apply.push(full);
                    up_to_date.push(nothing_pending);
                }
                Err(why) => {
                    *state = State::Failed { peer: prepared.peer, why: format!("run {}: {why}", run + 1) };
                }
            }
        }
    }
    admin.close(&runtime);

    states
        .into_iter()
        .map(|state| match state {
            State::Ready { prepared, full_apply, up_to_date } => {
                PeerOutcome::Measured(PeerFigures { peer: prepared.peer.name(), full_apply, up_to_date })
            }
            State::Failed { peer, why } => PeerOutcome::Unavailable { peer: peer.name(), why },
        })
        .collect()
}

/// `$TFM_BENCH_PEERS_DIR`, else `<repo>/target/bench/peers` (as in `benches/peers/install`).
fn peers_dir() -> PathBuf {
    std::env::var_os("TFM_BENCH_PEERS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench/peers"))
}

/// One run of one peer on a database of its own, dropped afterwards whatever happened.
fn measure_once(
    runtime: &tokio::runtime::Runtime,
    admin: &mut Admin,
    prepared: &Prepared,
    run: usize,
) -> Result<(Duration, Duration), String> {
    let database = format!("bench_peer_{}_{}_{}", prepared.peer.slug(), std::process::id(), run + 1);
    let url = admin.create_database(runtime, &database)?;
    let measured = (|| {
        let full_apply = timed(&mut prepared.command(&url))?;
        let (query, expected) = &prepared.check;
        let found = admin.query_text(runtime, &url, query)?;
        if found != *expected {
            return Err(format!(
                "after the full apply `{query}` gave `{found}`, expected `{expected}`: the peer did not apply the corpus"
            ));
        }
        let up_to_date = timed(&mut prepared.command(&url))?;
        Ok((full_apply, up_to_date))
    })();
    let dropped = admin.drop_database(runtime, &database);
    let figures = measured?;
    dropped?;
    Ok(figures)
}

/// Runs `command` to its end; its wall time when it succeeded.
fn timed(command: &mut Command) -> Result<Duration, String> {
    let program = command.get_program().to_string_lossy().into_owned();
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    let start = Instant::now();
    let output = command.output().map_err(|error| format!("cannot start `{program}`: {error}"))?;
    let elapsed = start.elapsed();
    if output.status.success() {
        return Ok(elapsed);
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let said = if stderr.trim().is_empty() { stdout } else { stderr };
    Err(format!("`{program}` failed ({}): {}", output.status, last_lines(&said, 6)))
}

fn last_lines(text: &str, count: usize) -> String {
    let lines: Vec<&str> = text.lines().filter(|line| !line.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(count)..].join(" | ")
}

/// Checks the peer is installed and writes the corpus in its format under `work_dir/<peer>`.
fn prepare(peer: Peer, corpus: &[&SqlMigration<'_>], peers_dir: &Path, work_dir: &Path) -> Result<Prepared, String> {
    let program = peer.program(peers_dir);
    if !program.is_file() {
        return Err(format!("not installed: `{}` is missing; run benches/peers/install", program.display()));
    }
    let dir = work_dir.join(peer.slug());
    // Files of an earlier, larger corpus would be picked up as migrations.
    if dir.exists() {
        fs::remove_dir_all(&dir).map_err(|error| format!("cannot empty `{}`: {error}", dir.display()))?;
    }
    let count = corpus.len().to_string();
    let check = match peer {
        Peer::Sqlx => {
            lay_out_sqlx(corpus, &dir)?;
            ("SELECT count(*)::text FROM _sqlx_migrations WHERE success", count)
        }
        Peer::Dbmate => {
            lay_out_dbmate(corpus, &dir)?;
            ("SELECT count(*)::text FROM schema_migrations", count)
        }
        Peer::Alembic => {
            let head = lay_out_alembic(corpus, &dir)?;
            compile_python(peers_dir, &dir)?;
            ("SELECT string_agg(version_num, ',') FROM alembic_version", head)
        }
    };
    Ok(Prepared { peer, program, dir, check })
}

/// `migrations/<version>_<desc>.up.sql` and `.down.sql` (sqlx's reversible layout).
fn lay_out_sqlx(corpus: &[&SqlMigration<'_>], dir: &Path) -> Result<(), String> {
    let folder = dir.join("migrations");
    create_dir(&folder)?;
    for migration in corpus {
        let stem = format!("{}_{}", padded(migration.version), slug(migration.description));
        for (suffix, sql) in [("up", migration.upgrade), ("down", migration.downgrade)] {
            let text = match no_transaction(sql) {
                true => format!("-- no-transaction\n{sql}"),
                false => sql.to_owned(),
            };
            write(&folder.join(format!("{stem}.{suffix}.sql")), &text)?;
        }
    }
    Ok(())
}

/// `db/migrations/<version>_<desc>.sql` with `-- migrate:up` and `-- migrate:down` sections.
fn lay_out_dbmate(corpus: &[&SqlMigration<'_>], dir: &Path) -> Result<(), String> {
    let folder = dir.join("db/migrations");
    create_dir(&folder)?;
    for migration in corpus {
        let option = |sql: &str| if no_transaction(sql) { " transaction:false" } else { "" };
        let mut text = String::new();
        // Writing to a String cannot fail.
        let _ = writeln!(text, "-- migrate:up{}\n{}", option(migration.upgrade), migration.upgrade);
        let _ = writeln!(text, "-- migrate:down{}\n{}", option(migration.downgrade), migration.downgrade);
        let name = format!("{}_{}.sql", padded(migration.version), slug(migration.description));
        write(&folder.join(name), &text)?;
    }
    Ok(())
}

/// `alembic.ini`, `env.py`, `versions/<revision>_<desc>.py` chained by `down_revision`, and the SQL
/// in `sql/<revision>.{up,down}.sql`. Returns the head revision.
fn lay_out_alembic(corpus: &[&SqlMigration<'_>], dir: &Path) -> Result<String, String> {
    let (versions, sql) = (dir.join("versions"), dir.join("sql"));
    create_dir(&versions)?;
    create_dir(&sql)?;
    write(&dir.join("alembic.ini"), ALEMBIC_INI)?;
    write(&dir.join("env.py"), ALEMBIC_ENV)?;
    let mut previous = "None".to_owned();
    let mut head = String::new();
    for migration in corpus {
        let revision = padded(migration.version);
        let description = slug(migration.description);
        let python_bool = |sql: &str| if no_transaction(sql) { "True" } else { "False" };
        let module = ALEMBIC_REVISION
            .replace("{description}", &description)
            .replace("{revision}", &revision)
            .replace("{down_revision}", &previous)
            .replace("{up_no_transaction}", python_bool(migration.upgrade))
            .replace("{down_no_transaction}", python_bool(migration.downgrade));
        write(&versions.join(format!("{revision}_{description}.py")), &module)?;
        write(&sql.join(format!("{revision}.up.sql")), migration.upgrade)?;
        write(&sql.join(format!("{revision}.down.sql")), migration.downgrade)?;
        previous = format!("\"{revision}\"");
        head = revision;
    }
    Ok(head)
}

/// Byte-compiles `env.py` and the revision modules once, untimed: an installed application ships
/// compiled, and otherwise only the first run would pay for it.
fn compile_python(peers_dir: &Path, dir: &Path) -> Result<(), String> {
    let python = peers_dir.join("venv/bin/python");
    let mut command = Command::new(&python);
    command.args(["-m", "compileall", "-q"]).arg(dir).stdin(Stdio::null());
    timed(&mut command).map(|_| ())
}

fn no_transaction(sql: &str) -> bool {
    sql.lines().next().is_some_and(|line| line.trim_end() == NO_TRANSACTION)
}

/// Zero-padded so that file names sort in version order (dbmate orders by name).
fn padded(version: u64) -> String {
    format!("{version:014}")
}

/// `[a-z0-9_]` only, so the description is safe in file names and in a Python docstring.
fn slug(description: &str) -> String {
    let mut slug = String::new();
    for c in description.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('_') {
            slug.push('_');
        }
        if slug.len() >= 60 {
            break;
        }
    }
    let slug = slug.trim_end_matches('_');
    if slug.is_empty() {
        "migration".to_owned()
    } else {
        slug.to_owned()
    }
}

fn create_dir(dir: &Path) -> Result<(), String> {
    fs::create_dir_all(dir).map_err(|error| format!("cannot create `{}`: {error}", dir.display()))
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    fs::write(path, text).map_err(|error| format!("cannot write `{}`: {error}", path.display()))
}

/// The connection through which the peers' databases are created and dropped.
struct Admin {
    url: url::Url,
    connection: PgConnection,
}

impl Admin {
    fn connect(runtime: &tokio::runtime::Runtime, admin_url: &str) -> Result<Admin, String> {
        let url = url::Url::parse(admin_url).map_err(|error| format!("the admin URL is not a URL: {error}"))?;
        let connection = runtime
            .block_on(PgConnection::connect(admin_url))
            .map_err(|error| format!("cannot connect to the admin database {}: {error}", redacted(&url)))?;
        Ok(Admin { url, connection })
    }

    /// Creates `name` (made by the kit from `[a-z0-9_]`, so quoting it is enough) and returns the
    /// URL the peers get for it.
    fn create_database(&mut self, runtime: &tokio::runtime::Runtime, name: &str) -> Result<String, String> {
        // A database left by an interrupted run of the same process id would make CREATE fail.
        self.drop_database(runtime, name)?;
        let sql = format!("CREATE DATABASE \"{name}\"");
        runtime
            .block_on(sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(&mut self.connection))
            .map_err(|error| format!("cannot create the database `{name}`: {error}"))?;
        let mut url = self.url.clone();
        url.set_path(&format!("/{name}"));
        if !url.query_pairs().any(|(key, _)| key == "sslmode") {
            url.query_pairs_mut().append_pair("sslmode", "disable");
        }
        Ok(url.into())
    }

    fn drop_database(&mut self, runtime: &tokio::runtime::Runtime, name: &str) -> Result<(), String> {
        let sql = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
        runtime
            .block_on(sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(&mut self.connection))
            .map(|_| ())
            .map_err(|error| format!("cannot drop the database `{name}`: {error}"))
    }

    /// The single text value `query` returns in the database at `url` (a connection of its own).
    fn query_text(&self, runtime: &tokio::runtime::Runtime, url: &str, query: &'static str) -> Result<String, String> {
        runtime.block_on(async {
            let mut connection =
                PgConnection::connect(url).await.map_err(|error| format!("cannot connect: {error}"))?;
            let value: Option<String> = sqlx::query_scalar(query)
                .fetch_one(&mut connection)
                .await
                .map_err(|error| format!("`{query}` failed: {error}"))?;
            let _ = connection.close().await;
            Ok(value.unwrap_or_default())
        })
    }

    fn close(self, runtime: &tokio::runtime::Runtime) {
        // Nothing to do if closing fails: the server ends the session when the socket goes.
        let _ = runtime.block_on(self.connection.close());
    }
}

/// The URL without its password, for messages.
fn redacted(url: &url::Url) -> String {
    let mut url = url.clone();
    if url.password().is_some() {
        let _ = url.set_password(Some("***"));
    }
    url.into()
}
