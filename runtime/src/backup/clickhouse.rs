//! ClickHouse's part of a backup: the schema of every table and view of the configured database
//! as `SHOW CREATE TABLE` gives it (`clickhouse-schema.sql`), and a server-side snapshot of the
//! data of every MergeTree-family table with `ALTER TABLE … FREEZE WITH NAME '<backup name>'`
//! (18.16 has no `BACKUP` statement).
//!
//! FREEZE hard-links the table's parts under `<clickhouse path>/shadow/<backup name>/`: instant,
//! and it costs disk only as the table later changes, but it lives on the server (a lost disk
//! loses it) and only a person with access to the server's files can bring it back, so `restore`
//! prints the steps ([`restore_steps`]) instead of running them. Analytics tables can be far
//! larger than any dump should be; FREEZE is what keeps their backup cheap.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use clickhouse::sql::Identifier;
use clickhouse::Client;

use super::manifest::ServerSnapshot;
use super::BackupError;
use crate::config::ClickHouseConfig;

pub const SCHEMA_FILE: &str = "clickhouse-schema.sql";
pub const SCHEMA_KIND: &str = "clickhouse-schema";
pub const FREEZE_KIND: &str = "clickhouse-freeze";

/// Plain RowBinary (`with_validation(false)`): 18.16 does not know the typed format the crate
/// asks for by default.
fn client(config: &ClickHouseConfig) -> Client {
    Client::default()
        .with_url(&config.url)
        .with_user(&config.user)
        .with_password(config.password.expose())
        .with_validation(false)
}

/// One request, bounded by `--io-timeout` and named in the error.
async fn bounded<T>(
    config: &ClickHouseConfig,
    action: String,
    request: impl std::future::Future<Output = Result<T, clickhouse::error::Error>>,
) -> Result<T, BackupError> {
    let timeout: Duration = config.bounds.io_timeout;
    match tokio::time::timeout(timeout, request).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err(BackupError::Server { server: config.describe(), action, error: error.to_string() }),
        Err(_) => Err(BackupError::Server {
            server: config.describe(),
            action,
            error: format!("no answer within {} (`--io-timeout`)", humantime::format_duration(timeout)),
        }),
    }
}

/// The tables and views of the database, `(name, engine)`, sorted; `None` when the database
/// does not exist yet (nothing to back up).
async fn tables(config: &ClickHouseConfig) -> Result<Option<Vec<(String, String)>>, BackupError> {
    let client = client(config);
    let exists: u64 = bounded(
        config,
        "read system.databases".into(),
        client.query("SELECT count() FROM system.databases WHERE name = ?").bind(&config.database).fetch_one(),
    )
    .await?;
    if exists == 0 {
        return Ok(None);
    }
    let tables = bounded(
        config,
        "read system.tables".into(),
        client
            .query("SELECT name, engine FROM system.tables WHERE database = ? AND name != 'migration_run_lock' ORDER BY name")
            .bind(&config.database)
            .fetch_all::<(String, String)>(),
    )
    .await?;
    Ok(Some(tables))
}

/// Each table's `SHOW CREATE TABLE`, in name order.
async fn definitions(
    config: &ClickHouseConfig,
    tables: &[(String, String)],
) -> Result<Vec<(String, String)>, BackupError> {
    let client = client(config);
    let mut definitions = Vec::new();
    for (name, _) in tables {
        let create: String = bounded(
            config,
            format!("SHOW CREATE TABLE {}.{name}", config.database),
            client.query("SHOW CREATE TABLE ?.?").bind(Identifier(&config.database)).bind(Identifier(name)).fetch_one(),
        )
        .await?;
        definitions.push((name.clone(), create));
    }
    Ok(definitions)
}

fn freezable(engine: &str) -> bool {
    engine.ends_with("MergeTree")
}

/// Writes `clickhouse-schema.sql` into `folder` and freezes every MergeTree-family table under
/// `name`; `None` when the database does not exist.
pub async fn back_up(
    config: &ClickHouseConfig,
    folder: &Path,
    name: &str,
) -> Result<Option<ServerSnapshot>, BackupError> {
    let Some(tables) = tables(config).await? else {
        return Ok(None);
    };
    let definitions = definitions(config, &tables).await?;
    let path = folder.join(SCHEMA_FILE);
    std::fs::write(&path, render_schema(&config.database, &definitions))
        .map_err(|source| BackupError::io("write", &path, source))?;
    let client = client(config);
    let mut frozen = Vec::new();
    for (table, engine) in &tables {
        if !freezable(engine) {
            continue;
        }
        bounded(
            config,
            format!("ALTER TABLE {}.{table} FREEZE", config.database),
            client
                .query("ALTER TABLE ?.? FREEZE WITH NAME ?")
                .bind(Identifier(&config.database))
                .bind(Identifier(table))
                .bind(name)
                .execute(),
        )
        .await?;
        frozen.push(table.clone());
    }
    Ok(Some(ServerSnapshot {
        target: "clickhouse".into(),
        kind: FREEZE_KIND.into(),
        name: name.to_owned(),
        server: config.describe(),
        database: config.database.clone(),
        tables: frozen,
    }))
}

/// `-- table: <name>` then its definition and `;`, for each table.
fn render_schema(database: &str, definitions: &[(String, String)]) -> String {
    let mut text = format!("-- ClickHouse database `{database}`: SHOW CREATE TABLE of each table and view\n\n");
    for (name, create) in definitions {
        let _ = write!(text, "-- table: {name}\n{};\n\n", create.trim_end_matches(';'));
    }
    text
}

/// The definitions back from [`render_schema`]'s text.
fn parse_schema(text: &str) -> Vec<(String, String)> {
    let mut definitions = Vec::new();
    for block in text.split("-- table: ").skip(1) {
        if let Some((name, create)) = block.split_once('\n') {
            definitions.push((name.trim().to_owned(), create.trim().trim_end_matches(';').to_owned()));
        }
    }
    definitions
}

/// What `restore` prints for ClickHouse: how the schema now differs from the backup's, the
/// statements that would bring it back, and the steps that bring back FROZEN data. None of it
/// runs by itself: dropping a ClickHouse table drops its data for good, and attaching parts
/// needs the server's files.
pub async fn restore_steps(
    config: &ClickHouseConfig,
    folder: &Path,
    snapshot: Option<&ServerSnapshot>,
) -> Result<Vec<String>, BackupError> {
    let path = folder.join(SCHEMA_FILE);
    let text = std::fs::read_to_string(&path).map_err(|source| BackupError::io("read", &path, source))?;
    let saved = parse_schema(&text);
    let now = match tables(config).await? {
        Some(tables) => definitions(config, &tables).await?,
        None => Vec::new(),
    };
    let database = &config.database;
    let mut steps = Vec::new();
    for (name, create) in &now {
        match saved.iter().find(|(saved_name, _)| saved_name == name) {
            None => steps.push(format!("`{database}.{name}` was created after the backup: `DROP TABLE {database}.{name}` if it must go (its data goes with it)")),
            Some((_, saved_create)) if saved_create != create => steps.push(format!(
                "`{database}.{name}` differs from the backup: `DROP TABLE {database}.{name}`, then run its definition from {}",
                path.display()
            )),
            Some(_) => {}
        }
    }
    for (name, _) in &saved {
        if !now.iter().any(|(now_name, _)| now_name == name) {
            steps.push(format!("`{database}.{name}` is missing: run its definition from {}", path.display()));
        }
    }
    if let Some(snapshot) = snapshot.filter(|snapshot| !snapshot.tables.is_empty()) {
        let name = &snapshot.name;
        steps.push(format!(
            "data: frozen on the server under `<clickhouse path>/shadow/{name}/data/{database}/<table>/` for {}; \
             for each table to bring back: (1) `TRUNCATE TABLE {database}.<table>` if it must hold only the backup's rows; \
             (2) copy that folder's part folders into `<clickhouse path>/data/{database}/<table>/detached/` and give them to \
             the clickhouse user (`chown -R clickhouse:clickhouse`); (3) `ALTER TABLE {database}.<table> ATTACH PART '<part>'` \
             for each part copied; then delete `shadow/{name}/` when no longer needed",
            snapshot.tables.join(", ")
        ));
    }
    Ok(steps)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schema_file_reads_back_as_written() {
        let definitions = vec![
            ("a".to_owned(), "CREATE TABLE db.a (x UInt8) ENGINE = MergeTree() ORDER BY x".to_owned()),
            ("v".to_owned(), "CREATE VIEW db.v AS SELECT 1".to_owned()),
        ];
        assert_eq!(parse_schema(&render_schema("db", &definitions)), definitions);
        assert!(freezable("ReplacingMergeTree") && !freezable("View") && !freezable("Memory"));
    }
}
