//! Backups (issue 16), end to end through the binary against the stack: `migrate --backup`
//! (taken only when something is pending, complete and checksummed; a failed backup changes
//! nothing), `backup`, `backups` with retention, `restore` (exactly the backed-up schema, rows
//! and history, after a safety backup; a damaged backup refused) and `history -v`; and no
//! password in the manifest or the output.
//!
//! Each test has its own PostgreSQL database (and ClickHouse database) and its own backup
//! folder. Needs `eval "$(scripts/stack env)"` and the PostgreSQL client tools on PATH.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};

use common::postgres::{database_url, history_versions, TestDatabase};
use sha2::{Digest, Sha256};
use sqlx::{Connection, PgConnection};

struct Outcome {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Outcome {
    fn assert_success(&self, what: &str) {
        assert_eq!(self.code, Some(0), "{what}\nstdout:\n{}\nstderr:\n{}", self.stdout, self.stderr);
    }
}

/// The binary against `url`, backups in `dir`, every other server at a closed port unless set.
fn migrator(url: &str, dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_migrator"));
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", url)
        .env("MIGRATOR_BACKUP_DIR", dir)
        .env("CLICKHOUSE_URL", "http://127.0.0.1:1")
        .env("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:1")
        .args(["--log-format", "json"])
        .stdin(Stdio::null());
    command
}

fn run(mut command: Command, args: &[&str]) -> Outcome {
    let output = command.args(args).output().expect("run migrator");
    Outcome {
        code: output.status.code(),
        stdout: String::from_utf8(output.stdout).expect("UTF-8 stdout"),
        stderr: String::from_utf8(output.stderr).expect("UTF-8 stderr"),
    }
}

/// The complete backups in `dir` (folder names, oldest first) and whether anything else is there.
fn complete_backups(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut names: Vec<String> = entries
        .map(|entry| entry.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|name| !name.starts_with('.'))
        .collect();
    names.sort();
    names
}

fn all_entries(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    entries.map(|entry| entry.expect("entry").file_name().to_string_lossy().into_owned()).collect()
}

fn manifest(folder: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(folder.join("manifest.json")).expect("read manifest.json");
    serde_json::from_str(&text).expect("manifest.json is JSON")
}

fn sha256_of(path: &Path) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(std::fs::read(path).expect("read part"))))
}

/// Every part of the manifest is in the folder with the size and checksum it states.
fn assert_parts_match(folder: &Path, manifest: &serde_json::Value) {
    let parts = manifest["parts"].as_array().expect("parts");
    assert!(!parts.is_empty(), "{manifest}");
    for part in parts {
        let path = folder.join(part["file"].as_str().expect("file"));
        assert_eq!(part["sha256"].as_str(), Some(sha256_of(&path).as_str()), "{}", path.display());
        assert_eq!(part["bytes"].as_u64(), Some(std::fs::metadata(&path).expect("stat").len()));
    }
}

fn versions(manifest: &serde_json::Value, target: &str) -> Vec<u64> {
    manifest["history"][target]
        .as_array()
        .unwrap_or_else(|| panic!("history of {target} in {manifest}"))
        .iter()
        .map(|version| version.as_u64().expect("version"))
        .collect()
}

/// The schema as the catalog describes it: tables, columns, constraints, indexes, views,
/// sequences and functions of every non-system schema, one sorted line each.
async fn catalog_dump(connection: &mut PgConnection) -> String {
    let lines: Vec<String> = sqlx::query_scalar(
        "SELECT line FROM (
           SELECT format('table %s.%s %s', table_schema, table_name, table_type) AS line
             FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema')
           UNION ALL
           SELECT format('column %s.%s.%s %s %s %s', table_schema, table_name, column_name, data_type, is_nullable,
                         coalesce(column_default, ''))
             FROM information_schema.columns WHERE table_schema NOT IN ('pg_catalog', 'information_schema')
           UNION ALL
           SELECT format('constraint %s %s %s', conrelid::regclass, conname, pg_get_constraintdef(oid))
             FROM pg_constraint WHERE connamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)
           UNION ALL
           SELECT format('index %s', indexdef) FROM pg_indexes
             WHERE schemaname NOT IN ('pg_catalog', 'information_schema')
           UNION ALL
           SELECT format('sequence %s.%s', sequence_schema, sequence_name) FROM information_schema.sequences
           UNION ALL
           SELECT format('function %s.%s', routine_schema, routine_name) FROM information_schema.routines
             WHERE routine_schema NOT IN ('pg_catalog', 'information_schema')
           UNION ALL
           SELECT format('schema %s', nspname) FROM pg_namespace
             WHERE nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') AND nspname NOT LIKE 'pg\\_%'
         ) lines ORDER BY line",
    )
    .fetch_all(connection)
    .await
    .expect("read the catalog");
    lines.join("\n")
}

/// `schema.table → rows` for every base table outside the system schemas.
async fn row_counts(connection: &mut PgConnection) -> BTreeMap<String, i64> {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT format('%I.%I', table_schema, table_name) FROM information_schema.tables
          WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')",
    )
    .fetch_all(&mut *connection)
    .await
    .expect("list tables");
    let mut counts = BTreeMap::new();
    for table in tables {
        let count: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
            .fetch_one(&mut *connection)
            .await
            .expect("count rows");
        counts.insert(table, count);
    }
    counts
}

async fn history_rows(connection: &mut PgConnection) -> Vec<(i64, String)> {
    sqlx::query_as("SELECT version, checksum FROM migration_history ORDER BY version")
        .fetch_all(connection)
        .await
        .expect("read migration_history")
}

async fn add_user(connection: &mut PgConnection, name: &str) {
    sqlx::query("INSERT INTO users (email, username, password_hash) VALUES ($1, $2, 'x')")
        .bind(format!("{name}@example.com"))
        .bind(name)
        .execute(connection)
        .await
        .expect("insert a user");
}

#[tokio::test]
async fn migrate_backup_writes_a_complete_checksummed_backup_only_when_something_is_pending() {
    let database = TestDatabase::new().await;
    let url = database_url(&database.config());
    let dir = tempfile::tempdir().expect("temp dir");
    run(migrator(&url, dir.path()), &["up", "--target", "postgres", "--to", "3"]).assert_success("up to V3");

    let migrated = run(migrator(&url, dir.path()), &["migrate", "postgres", "--backup"]);
    migrated.assert_success("migrate --backup");
    let names = complete_backups(dir.path());
    assert_eq!(names.len(), 1, "one backup: {:?}", all_entries(dir.path()));
    assert_eq!(all_entries(dir.path()).len(), 1, "no partial folder is left");
    let folder = dir.path().join(&names[0]);
    assert!(migrated.stdout.contains(&format!("backup: {}", folder.display())), "{}", migrated.stdout);
    let manifest = manifest(&folder);
    assert_parts_match(&folder, &manifest);
    assert_eq!(versions(&manifest, "postgres"), vec![1, 2, 3], "the history at backup time, before the run");
    assert_eq!(manifest["reason"], "before migrate");
    let fingerprint = manifest["plan_fingerprint"].as_str().expect("fingerprint");
    assert!(fingerprint.starts_with("sha256:") && names[0].ends_with(&fingerprint[7..19]), "{}", names[0]);
    let mut connection = database.connect().await;
    assert!(history_versions(&mut connection).await.len() > 3, "the run went on after its backup");

    // Nothing pending: no backup, no folder.
    let again = run(migrator(&url, dir.path()), &["migrate", "postgres", "--backup"]);
    again.assert_success("migrate --backup with nothing pending");
    assert!(again.stdout.contains("backup: nothing pending, none taken"), "{}", again.stdout);
    assert_eq!(all_entries(dir.path()), names);

    // `history -v` names the backup taken before the run that applied V4.
    let history = run(migrator(&url, dir.path()), &["history", "--target", "postgres", "-v"]);
    history.assert_success("history -v");
    let v4 = history.stdout.split("  V4 ").nth(1).expect("a V4 line");
    let v4 = v4.split("  V5 ").next().expect("V4's lines");
    assert!(
        v4.contains(&format!("backup     {} (before migrate), taken before this run", names[0])),
        "{}",
        history.stdout
    );
    let v3 = history.stdout.split("  V3 ").nth(1).expect("a V3 line").split("  V4 ").next().expect("V3's lines");
    assert!(!v3.contains("backup "), "V3 was applied before the backup: {}", history.stdout);
}

#[tokio::test]
async fn a_run_whose_backup_fails_changes_nothing() {
    let database = TestDatabase::new().await;
    let url = database_url(&database.config());
    let dir = tempfile::tempdir().expect("temp dir");
    run(migrator(&url, dir.path()), &["up", "--target", "postgres", "--to", "2"]).assert_success("up to V2");
    let mut connection = database.connect().await;
    let before = catalog_dump(&mut connection).await;

    // A pg_dump older than the server comes first on PATH.
    let tools = tempfile::tempdir().expect("temp dir");
    let fake = tools.path().join("pg_dump");
    std::fs::write(&fake, "#!/bin/sh\necho 'pg_dump (PostgreSQL) 9.6.24'\n").expect("write fake pg_dump");
    std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755)).expect("chmod");
    let mut command = migrator(&url, dir.path());
    command.env("PATH", format!("{}:{}", tools.path().display(), std::env::var("PATH").unwrap_or_default()));
    let old_tool = run(command, &["migrate", "postgres", "--backup"]);
    assert_eq!(old_tool.code, Some(1), "{}", old_tool.stderr);
    assert!(
        old_tool.stderr.contains("older than the PostgreSQL 15 server")
            && old_tool.stderr.contains("postgresql-client-15"),
        "names the fix: {}",
        old_tool.stderr
    );
    assert!(old_tool.stderr.contains("nothing was changed"), "{}", old_tool.stderr);
    assert_eq!(history_versions(&mut connection).await, vec![1, 2]);
    assert_eq!(catalog_dump(&mut connection).await, before);
    assert!(all_entries(dir.path()).is_empty(), "no backup, complete or not: {:?}", all_entries(dir.path()));

    // A backup folder that cannot be created.
    let file = dir.path().join("not-a-folder");
    std::fs::write(&file, "x").expect("write a file");
    let unwritable = run(migrator(&url, &file), &["migrate", "postgres", "--backup"]);
    assert_eq!(unwritable.code, Some(1), "{}", unwritable.stderr);
    assert!(unwritable.stderr.contains("the backup before migrating failed"), "{}", unwritable.stderr);
    assert_eq!(history_versions(&mut connection).await, vec![1, 2]);
    assert_eq!(catalog_dump(&mut connection).await, before);
}

#[tokio::test]
async fn restore_brings_postgres_back_to_exactly_the_backup_after_later_migrations() {
    let database = TestDatabase::new().await;
    let url = database_url(&database.config());
    let dir = tempfile::tempdir().expect("temp dir");
    run(migrator(&url, dir.path()), &["up", "--target", "postgres", "--to", "3"]).assert_success("up to V3");
    let mut connection = database.connect().await;
    add_user(&mut connection, "before_backup_1").await;
    add_user(&mut connection, "before_backup_2").await;
    let schema_at_backup = catalog_dump(&mut connection).await;
    let rows_at_backup = row_counts(&mut connection).await;
    let history_at_backup = history_rows(&mut connection).await;

    run(migrator(&url, dir.path()), &["migrate", "postgres", "indicators", "--backup"]).assert_success("migrate");
    let backup = complete_backups(dir.path()).pop().expect("the backup");
    add_user(&mut connection, "after_backup").await;
    let schema_migrated = catalog_dump(&mut connection).await;
    let rows_migrated = row_counts(&mut connection).await;
    assert_ne!(schema_migrated, schema_at_backup, "later migrations changed the schema");
    assert!(rows_migrated.contains_key("public.system_indicators"), "{rows_migrated:?}");
    let _ = connection.close().await;

    let refused = run(migrator(&url, dir.path()), &["restore", &backup]);
    assert_eq!(refused.code, Some(2), "no terminal and no --yes: {}", refused.stderr);
    assert!(refused.stderr.contains("--yes"), "{}", refused.stderr);

    let restored = run(migrator(&url, dir.path()), &["restore", &backup, "--yes"]);
    restored.assert_success("restore");
    assert!(
        restored.stdout.contains(&format!("postgres: restored to {backup} (history at V3)")),
        "{}",
        restored.stdout
    );
    let mut connection = database.connect().await;
    assert_eq!(catalog_dump(&mut connection).await, schema_at_backup);
    assert_eq!(row_counts(&mut connection).await, rows_at_backup);
    assert_eq!(history_rows(&mut connection).await, history_at_backup);

    // The safety backup holds the state the restore replaced, and restoring it undoes the restore.
    let names = complete_backups(dir.path());
    assert_eq!(names.len(), 2, "{names:?}");
    let safety = names.iter().find(|name| **name != backup).expect("a safety backup");
    let safety_manifest = manifest(&dir.path().join(safety));
    assert_eq!(safety_manifest["reason"].as_str(), Some(format!("safety backup before restoring {backup}").as_str()));
    assert!(versions(&safety_manifest, "postgres").len() > 3, "{safety_manifest}");
    assert!(
        restored.stdout.contains(&format!("safety backup: {}", dir.path().join(safety).display())),
        "{}",
        restored.stdout
    );
    let _ = connection.close().await;
    run(migrator(&url, dir.path()), &["restore", safety, "--yes"]).assert_success("restore the safety backup");
    let mut connection = database.connect().await;
    assert_eq!(catalog_dump(&mut connection).await, schema_migrated);
    assert_eq!(row_counts(&mut connection).await, rows_migrated);
}

#[tokio::test]
async fn a_corrupted_backup_is_refused_and_nothing_changes() {
    let database = TestDatabase::new().await;
    let url = database_url(&database.config());
    let dir = tempfile::tempdir().expect("temp dir");
    run(migrator(&url, dir.path()), &["up", "--target", "postgres", "--to", "2"]).assert_success("up to V2");
    run(migrator(&url, dir.path()), &["backup", "postgres"]).assert_success("backup");
    let backup = complete_backups(dir.path()).pop().expect("the backup");
    run(migrator(&url, dir.path()), &["up", "--target", "postgres", "--to", "3"]).assert_success("up to V3");
    let dump = dir.path().join(&backup).join("postgres.dump");
    let mut bytes = std::fs::read(&dump).expect("read the dump");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    std::fs::write(&dump, bytes).expect("damage the dump");

    let refused = run(migrator(&url, dir.path()), &["restore", &backup, "--yes"]);
    assert_eq!(refused.code, Some(1), "{}", refused.stderr);
    assert!(refused.stderr.contains("does not match the backup's manifest"), "{}", refused.stderr);
    let mut connection = database.connect().await;
    assert_eq!(history_versions(&mut connection).await, vec![1, 2, 3], "nothing was restored");
    assert_eq!(complete_backups(dir.path()), vec![backup], "not even a safety backup was taken");
}

#[tokio::test]
async fn retention_keeps_the_newest_backups_and_the_list_marks_an_incomplete_one() {
    let database = TestDatabase::new().await;
    let url = database_url(&database.config());
    let dir = tempfile::tempdir().expect("temp dir");
    run(migrator(&url, dir.path()), &["up", "--target", "postgres", "--to", "1"]).assert_success("up to V1");
    let mut taken = Vec::new();
    for _ in 0..3 {
        run(migrator(&url, dir.path()), &["backup", "postgres", "--backup-keep", "2"]).assert_success("backup");
        taken.push(complete_backups(dir.path()).pop().expect("the newest"));
    }
    assert_eq!(complete_backups(dir.path()), taken[1..].to_vec(), "the oldest went");
    let mut command = migrator(&url, dir.path());
    command.env("MIGRATOR_BACKUP_KEEP", "1");
    run(command, &["backup", "postgres"]).assert_success("backup with MIGRATOR_BACKUP_KEEP");
    let left = complete_backups(dir.path());
    assert_eq!(left.len(), 1);
    assert!(left[0] > taken[2], "{left:?}");

    std::fs::create_dir(dir.path().join(".2026-01-01T00-00-00.000Z-000000000000.partial")).expect("a leftover");
    let listed = run(migrator(&url, dir.path()), &["backups"]);
    listed.assert_success("backups");
    assert!(listed.stdout.contains(&format!("  {}  on demand; postgres V1; postgres ", left[0])), "{}", listed.stdout);
    assert!(listed.stdout.contains("INCOMPLETE") && listed.stdout.contains("cannot be restored"), "{}", listed.stdout);
    let partial =
        run(migrator(&url, dir.path()), &["restore", ".2026-01-01T00-00-00.000Z-000000000000.partial", "--yes"]);
    assert_eq!(partial.code, Some(1), "{}", partial.stderr);
    let bad_keep = run(migrator(&url, dir.path()), &["backup", "--backup-keep", "many"]);
    assert_eq!(bad_keep.code, Some(2), "{}", bad_keep.stderr);
}

/// pg_dump, pg_restore and psql get the password only through a 0600 passfile named in their
/// environment (`backup::postgres`), so it is in no process's arguments by construction (the
/// runtime's unit test checks the commands it builds); here: not in the manifest, the backup's
/// text files, stdout or stderr, and no passfile is left behind.
#[tokio::test]
async fn no_password_reaches_the_manifest_or_the_output() {
    let database = TestDatabase::new().await;
    let mut config = database.config();
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("time").subsec_nanos();
    let role = format!("tfm_backup_role_{}_{nanos}", std::process::id());
    let password = format!("Pw-{nanos}-not:a\\secret");
    let mut admin = PgConnection::connect(&std::env::var("TFM_STACK_ADMIN_DATABASE_URL").expect("admin URL"))
        .await
        .expect("connect as admin");
    let create = format!("CREATE ROLE {role} LOGIN PASSWORD '{password}'");
    sqlx::raw_sql(sqlx::AssertSqlSafe(create)).execute(&mut admin).await.expect("create the role");
    let owner = format!("ALTER DATABASE {} OWNER TO {role}", database.name);
    sqlx::raw_sql(sqlx::AssertSqlSafe(owner)).execute(&mut admin).await.expect("give it the database");
    config.user = role.clone();
    config.password = tradeforge_migrator::config::Secret::new(password.clone());
    let url = database_url(&config);
    let dir = tempfile::tempdir().expect("temp dir");
    let temp = tempfile::tempdir().expect("temp dir for passfiles");
    let with_temp = |mut command: Command| {
        command.env("TMPDIR", temp.path());
        command
    };
    let mut outputs = Vec::new();
    outputs.push(run(with_temp(migrator(&url, dir.path())), &["up", "--target", "postgres", "--to", "2"]));
    outputs.push(run(with_temp(migrator(&url, dir.path())), &["migrate", "postgres", "--backup"]));
    outputs.push(run(with_temp(migrator(&url, dir.path())), &["backup", "postgres"]));
    let first = complete_backups(dir.path()).into_iter().next().expect("a backup");
    outputs.push(run(with_temp(migrator(&url, dir.path())), &["restore", &first, "--yes"]));
    outputs.push(run(with_temp(migrator(&url, dir.path())), &["backups"]));
    for outcome in &outputs {
        outcome.assert_success("as the role");
        assert!(
            !outcome.stdout.contains(&password) && !outcome.stderr.contains(&password),
            "{}{}",
            outcome.stdout,
            outcome.stderr
        );
    }
    let names = complete_backups(dir.path());
    assert!(names.len() >= 3, "{names:?}");
    for name in names {
        let text = std::fs::read_to_string(dir.path().join(&name).join("manifest.json")).expect("manifest");
        assert!(text.contains(&role), "the manifest names the server: {text}");
        assert!(!text.contains(&password), "{text}");
    }
    assert!(all_entries(temp.path()).is_empty(), "passfiles are deleted: {:?}", all_entries(temp.path()));

    drop(database);
    let drop_role = format!("DROP ROLE IF EXISTS {role}");
    sqlx::raw_sql(sqlx::AssertSqlSafe(drop_role)).execute(&mut admin).await.expect("drop the role");
}

#[tokio::test]
async fn clickhouse_schema_is_backed_up_and_frozen_and_restore_prints_the_steps() {
    let database = TestDatabase::new().await;
    let url = database_url(&database.config());
    let clickhouse = common::clickhouse::TestDatabase::new();
    let dir = tempfile::tempdir().expect("temp dir");
    let with_clickhouse = || {
        let mut command = migrator(&url, dir.path());
        command.env("CLICKHOUSE_URL", &clickhouse.config.url).env("CLICKHOUSE_DB", clickhouse.name());
        command
    };
    run(with_clickhouse(), &["migrate", "clickhouse"]).assert_success("migrate clickhouse");
    run(with_clickhouse(), &["backup", "clickhouse"]).assert_success("backup clickhouse");
    let backup = complete_backups(dir.path()).pop().expect("the backup");
    let folder = dir.path().join(&backup);
    let manifest = manifest(&folder);
    assert_parts_match(&folder, &manifest);
    assert!(!versions(&manifest, "clickhouse").is_empty(), "{manifest}");
    let schema = std::fs::read_to_string(folder.join("clickhouse-schema.sql")).expect("schema file");
    let tables = clickhouse.tables().await;
    for (table, _) in &tables {
        assert!(schema.contains(&format!("-- table: {table}\nCREATE ")), "{table} in {schema}");
    }
    let frozen: Vec<&str> = manifest["server_side"][0]["tables"]
        .as_array()
        .expect("frozen tables")
        .iter()
        .map(|table| table.as_str().expect("name"))
        .collect();
    let merge_trees: Vec<&str> =
        tables.iter().filter(|(_, engine)| engine.ends_with("MergeTree")).map(|(name, _)| name.as_str()).collect();
    assert_eq!(frozen, merge_trees);
    assert_eq!(manifest["server_side"][0]["name"], backup.as_str());

    clickhouse.execute("CREATE TABLE added_later (x UInt8) ENGINE = Memory").await;
    let restored = run(with_clickhouse(), &["restore", &backup, "--yes"]);
    restored.assert_success("restore");
    assert!(
        restored.stdout.contains(&format!("`{}.added_later` was created after the backup", clickhouse.name())),
        "{}",
        restored.stdout
    );
    assert!(
        restored.stdout.contains(&format!("shadow/{backup}/data/{}/<table>/", clickhouse.name())),
        "{}",
        restored.stdout
    );
    assert!(restored.stdout.contains("ATTACH PART"), "{}", restored.stdout);
    assert!(
        clickhouse.table_names().await.contains(&"added_later".to_owned()),
        "ClickHouse is never changed by restore"
    );
}
