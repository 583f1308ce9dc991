//! PostgreSQL's part of a backup, with the field's own tools: `pg_dump --format=custom` to back
//! up (schema and rows of every schema, the migrator's `migration_history`, `migration_intent`
//! and the indicator catalogue included), and `pg_restore` piped into `psql` to restore.
//!
//! The password never reaches a command line (visible to every user in `ps`): each tool gets
//! the connection through `PG*` variables and the password through a passfile of mode 0600
//! (`PGPASSFILE`) that is deleted when the tool has ended. The tools' argv therefore hold no
//! credential by construction. Any `PG*` variable of the migrator's own environment is removed
//! from the tools', so they connect exactly where the migrator does.
//!
//! `pg_dump` must be at least as new as the server (an older one refuses, or worse, misses
//! objects): its major version is compared with the server's `server_version_num` first.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use super::BackupError;
use crate::config::PostgresConfig;

/// The dump's file name inside a backup folder.
pub const DUMP_FILE: &str = "postgres.dump";
pub const DUMP_KIND: &str = "pg_dump-custom";

/// Variables of libpq that would otherwise point the tools elsewhere or supply another password.
const INHERITED_PG_VARIABLES: [&str; 14] = [
    "PGHOST",
    "PGHOSTADDR",
    "PGPORT",
    "PGDATABASE",
    "PGUSER",
    "PGPASSWORD",
    "PGPASSFILE",
    "PGSERVICE",
    "PGSERVICEFILE",
    "PGOPTIONS",
    "PGSSLMODE",
    "PGAPPNAME",
    "PGCONNECT_TIMEOUT",
    "PGTARGETSESSIONATTRS",
];

/// A passfile (`*:*:*:*:<password>`, mode 0600) in the system's temporary folder, deleted on drop.
struct Passfile {
    path: PathBuf,
}

impl Passfile {
    fn write(config: &PostgresConfig) -> Result<Passfile, BackupError> {
        use std::os::unix::fs::OpenOptionsExt;
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.subsec_nanos());
        let name = format!("tfm-pgpass-{}-{}-{nanos}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed));
        let path = std::env::temp_dir().join(name);
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .map_err(|source| BackupError::io("create a passfile", &path, source))?;
        let escaped = config.password.expose().replace('\\', "\\\\").replace(':', "\\:");
        let written = writeln!(file, "*:*:*:*:{escaped}");
        let passfile = Passfile { path };
        written.map_err(|source| BackupError::io("write", &passfile.path, source))?;
        Ok(passfile)
    }
}

impl Drop for Passfile {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

/// `tool` set up to connect to `config`'s database without a password on its command line.
fn command(tool: &str, config: &PostgresConfig, passfile: &Passfile) -> Command {
    let mut command = Command::new(tool);
    for variable in INHERITED_PG_VARIABLES {
        command.env_remove(variable);
    }
    command
        .env("PGHOST", &config.host)
        .env("PGPORT", config.port.to_string())
        .env("PGUSER", &config.user)
        .env("PGDATABASE", &config.database)
        .env("PGPASSFILE", &passfile.path)
        .env("PGCONNECT_TIMEOUT", config.bounds.io_timeout.as_secs().max(2).to_string())
        .stdin(Stdio::null());
    let mut options = format!("-c lock_timeout={}", lock_timeout_ms(config));
    for (key, value) in &config.params {
        match key.as_str() {
            "sslmode" => command.env("PGSSLMODE", value),
            "sslrootcert" => command.env("PGSSLROOTCERT", value),
            "sslcert" => command.env("PGSSLCERT", value),
            "sslkey" => command.env("PGSSLKEY", value),
            "application_name" => command.env("PGAPPNAME", value),
            "options" => {
                options = format!("{value} {options}");
                &mut command
            }
            _ => &mut command,
        };
    }
    command.env("PGOPTIONS", options);
    command
}

/// A restore must not wait forever behind a session holding a table: the migration lock
/// timeout bounds its wait for each lock (0: PostgreSQL's "no limit" when it is switched off).
fn lock_timeout_ms(config: &PostgresConfig) -> u128 {
    config.bounds.migration_lock_timeout.map_or(0, |timeout| timeout.as_millis())
}

/// Runs `command` to its end; its stdout on success, else the tool's own error (the password
/// struck out, should a tool ever quote it).
fn output(tool: &'static str, mut command: Command, config: &PostgresConfig) -> Result<Vec<u8>, BackupError> {
    let output =
        command.stdout(Stdio::piped()).stderr(Stdio::piped()).output().map_err(|source| spawn_error(tool, source))?;
    if output.status.success() {
        return Ok(output.stdout);
    }
    let mut stderr = mask(config, &String::from_utf8_lossy(&output.stderr));
    if stderr.contains("lock timeout") {
        stderr.push_str(
            " (another session holds a table: stop the services using the database, or raise --migration-lock-timeout)",
        );
    }
    Err(BackupError::ToolFailed { tool, server: config.describe(), status: output.status.to_string(), stderr })
}

fn spawn_error(tool: &'static str, source: std::io::Error) -> BackupError {
    if source.kind() == std::io::ErrorKind::NotFound {
        BackupError::ToolMissing { tool }
    } else {
        BackupError::ToolFailed {
            tool,
            server: String::new(),
            status: "could not start".into(),
            stderr: source.to_string(),
        }
    }
}

fn mask(config: &PostgresConfig, text: &str) -> String {
    let text = text.trim().replace('\n', "; ");
    if config.password.expose().is_empty() {
        text
    } else {
        text.replace(config.password.expose(), "***")
    }
}

/// The major version of a client tool (`pg_dump (PostgreSQL) 15.18 (Debian …)` → 15).
fn tool_major(tool: &'static str) -> Result<u32, BackupError> {
    let output = Command::new(tool)
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .map_err(|source| spawn_error(tool, source))?;
    let text = String::from_utf8_lossy(&output.stdout);
    parse_tool_major(&text).ok_or_else(|| BackupError::ToolFailed {
        tool,
        server: String::new(),
        status: output.status.to_string(),
        stderr: format!("cannot read its version from `{}`", text.trim()),
    })
}

fn parse_tool_major(text: &str) -> Option<u32> {
    let version = text.split_whitespace().find(|word| word.starts_with(|c: char| c.is_ascii_digit()))?;
    version.split(['.', '-']).next()?.parse().ok()
}

/// `server_version_num` (150018) → 15; before PostgreSQL 10, 90624 → 9.
fn server_major(number: u32) -> u32 {
    number / 10_000
}

/// Checks that `tool` can handle the server: same major version or newer.
fn check_tool(tool: &'static str, config: &PostgresConfig, passfile: &Passfile) -> Result<(), BackupError> {
    let tool_version = tool_major(tool)?;
    let mut psql = command("psql", config, passfile);
    psql.args(["-X", "-A", "-t", "-c", "SHOW server_version_num"]);
    let text = String::from_utf8_lossy(&output("psql", psql, config)?).trim().to_owned();
    let number: u32 = text.parse().map_err(|_| BackupError::ToolFailed {
        tool: "psql",
        server: config.describe(),
        status: "unexpected answer".into(),
        stderr: format!("`SHOW server_version_num` gave `{text}`"),
    })?;
    let server = server_major(number);
    if tool_version < server {
        return Err(BackupError::ToolTooOld { tool, found: tool_version, server, address: config.describe() });
    }
    Ok(())
}

/// Dumps the database into `folder/postgres.dump` (custom format: compressed, and restorable
/// object by object).
pub async fn dump(config: &PostgresConfig, folder: &Path) -> Result<(), BackupError> {
    let config = config.clone();
    let file = folder.join(DUMP_FILE);
    blocking(move || {
        let passfile = Passfile::write(&config)?;
        check_tool("pg_dump", &config, &passfile)?;
        let mut pg_dump = command("pg_dump", &config, &passfile);
        // A table locked exclusively by someone else fails the dump instead of hanging it.
        let lock_wait = format!("--lock-wait-timeout={}", config.bounds.io_timeout.as_millis().max(1000));
        pg_dump.args(["--format=custom", "--no-password", &lock_wait, "--file"]).arg(&file);
        output("pg_dump", pg_dump, &config).map(|_| ())
    })
    .await
}

/// What `restore` runs first, in the same transaction as the dump's script: every schema but
/// PostgreSQL's own is dropped (so objects created after the backup go too), and `public` is made
/// again as PostgreSQL 15 creates it (pg_dump leaves a default `public` out of its dumps).
pub const CLEAR_SQL: &str = "DO $clear$
DECLARE schema_name name;
BEGIN
  FOR schema_name IN
    SELECT nspname FROM pg_namespace
    WHERE nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
      AND nspname NOT LIKE 'pg\\_temp\\_%' AND nspname NOT LIKE 'pg\\_toast\\_temp\\_%'
  LOOP
    EXECUTE format('DROP SCHEMA %I CASCADE', schema_name);
  END LOOP;
END
$clear$;
CREATE SCHEMA public;
ALTER SCHEMA public OWNER TO pg_database_owner;
GRANT USAGE ON SCHEMA public TO PUBLIC;
COMMENT ON SCHEMA public IS 'standard public schema';";

/// Brings the database back to `folder/postgres.dump`: `pg_restore` turns the dump into SQL,
/// which `psql` runs after [`CLEAR_SQL`] in ONE transaction (`--single-transaction`,
/// `ON_ERROR_STOP`), so a restore that fails part-way leaves the database as it was.
pub async fn restore(config: &PostgresConfig, folder: &Path) -> Result<(), BackupError> {
    let config = config.clone();
    let file = folder.join(DUMP_FILE);
    blocking(move || {
        let passfile = Passfile::write(&config)?;
        check_tool("pg_restore", &config, &passfile)?;
        let mut pg_restore = Command::new("pg_restore");
        pg_restore.args(["--file=-"]).arg(&file).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut script = pg_restore.spawn().map_err(|source| spawn_error("pg_restore", source))?;
        let script_out = script.stdout.take().expect("piped stdout");
        let mut psql = command("psql", &config, &passfile);
        psql.args([
            "-X",
            "-q",
            "--no-password",
            "--single-transaction",
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            CLEAR_SQL,
            "-f",
            "-",
        ])
        .stdin(Stdio::from(script_out));
        let applied = output("psql", psql, &config);
        let converted = script.wait_with_output().map_err(|source| spawn_error("pg_restore", source))?;
        if !converted.status.success() {
            return Err(BackupError::ToolFailed {
                tool: "pg_restore",
                server: config.describe(),
                status: converted.status.to_string(),
                stderr: mask(&config, &String::from_utf8_lossy(&converted.stderr)),
            });
        }
        applied.map(|_| ())
    })
    .await
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, BackupError> + Send + 'static,
) -> Result<T, BackupError> {
    tokio::task::spawn_blocking(work).await.unwrap_or_else(|error| {
        Err(BackupError::ToolFailed {
            tool: "pg_dump",
            server: String::new(),
            status: "panicked".into(),
            stderr: error.to_string(),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Bounds, Secret};

    fn config(password: &str) -> PostgresConfig {
        PostgresConfig {
            host: "db".into(),
            port: 5432,
            database: "trading".into(),
            user: "app".into(),
            password: Secret::new(password),
            params: vec![("sslmode".into(), "require".into())],
            bounds: Bounds::default(),
        }
    }

    #[test]
    fn versions_are_read_from_the_tools_and_the_server() {
        assert_eq!(parse_tool_major("pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)\n"), Some(15));
        assert_eq!(parse_tool_major("pg_restore (PostgreSQL) 9.6.24"), Some(9));
        assert_eq!(parse_tool_major("nonsense"), None);
        assert_eq!(server_major(150018), 15);
        assert_eq!(server_major(90624), 9);
    }

    #[test]
    fn the_password_goes_to_a_private_passfile_and_never_to_the_arguments() {
        use std::os::unix::fs::PermissionsExt;
        let config = config("p:ss\\word");
        let passfile = Passfile::write(&config).expect("passfile");
        let mode = fs::metadata(&passfile.path).expect("stat").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(fs::read_to_string(&passfile.path).expect("read"), "*:*:*:*:p\\:ss\\\\word\n");
        let command = command("pg_dump", &config, &passfile);
        assert!(command.get_args().all(|arg| !arg.to_string_lossy().contains("p:ss")));
        let password_in_env =
            command.get_envs().any(|(_, value)| value.is_some_and(|value| value.to_string_lossy().contains("p:ss")));
        assert!(!password_in_env, "only the passfile holds it");
        let path = passfile.path.clone();
        drop(passfile);
        assert!(!path.exists(), "the passfile is deleted after use");
    }
}
