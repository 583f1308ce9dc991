//! The ClickHouse run lock, for runs that have no PostgreSQL to hold the advisory lock on (a
//! ClickHouse-only deployment, a cluster): `CREATE TABLE migration_run_lock` without `IF NOT
//! EXISTS` is the one write ClickHouse makes atomic, so whoever creates the table holds the lock.
//!
//! - On a single server the table is a `TinyLog`; a second `CREATE` fails with Code 57 (table
//!   exists).
//! - On a cluster it is a `ReplicatedMergeTree` created on the configured node only, whose
//!   ZooKeeper path is the migrator's own for the cluster and database and whose replica name is
//!   a constant (`holder`). Creating it registers that replica in ZooKeeper with a `create` that
//!   fails when the node exists, so a second migrator gets Code 253 (replica already exists)
//!   through *any* node of the cluster: the lock holds across nodes, by ZooKeeper's own
//!   atomicity. (18.16 has neither `insert_deduplication_token` nor a way to learn which of two
//!   deduplicated inserts won, so the deduplication tricks cannot tell a migrator it lost.)
//!
//! The holder inserts a row with a unique token; [`RunLock::verify`] (before every step) reads
//! it back, one round trip; release drops the table, which on a cluster removes the replica, and
//! with it the whole ZooKeeper path. A migrator that was killed leaves the table: the next one
//! waits `--lock-timeout` and then names the node holding it, since when, and the `DROP TABLE`
//! that frees it once the operator knows no migrator runs. (No lease: a long statement must not
//! lose its lock because it outlived one.)

use std::time::{Duration, Instant};

use clickhouse::sql::Identifier;

use super::connection::{describe_error, error_code, Connection};
use super::ClickHouseError;
use crate::config::ClickHouseConfig;

pub(super) const TABLE: &str = "migration_run_lock";
/// TABLE_ALREADY_EXISTS (single server) and REPLICA_IS_ALREADY_EXIST (cluster): held by another.
const HELD_CODES: [u32; 2] = [57, 253];
const FIRST_PAUSE: Duration = Duration::from_millis(100);
const MAX_PAUSE: Duration = Duration::from_secs(2);

/// The held ClickHouse run lock.
pub struct RunLock {
    connection: Connection,
    token: String,
    acquired: Instant,
}

impl std::fmt::Debug for RunLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("clickhouse::RunLock").field("server", &self.connection.server()).finish()
    }
}

/// `/clickhouse/tradeforge-migrator/<cluster>/<database>/run_lock`.
fn zookeeper_path(cluster: &str, database: &str) -> String {
    format!("/clickhouse/tradeforge-migrator/{cluster}/{database}/run_lock")
}

impl RunLock {
    /// Takes the lock on `config`'s database (created first if missing), waiting up to
    /// `timeout` while another migrator holds it.
    pub async fn acquire(config: &ClickHouseConfig, timeout: Duration) -> Result<RunLock, ClickHouseError> {
        let connection = Connection::new(config);
        connection.create_database().await?;
        let token = token();
        let started = Instant::now();
        let mut pause = FIRST_PAUSE;
        let mut announced = false;
        loop {
            match create(&connection).await {
                Ok(()) => break,
                Err(error) if error_code(&error).is_some_and(|code| HELD_CODES.contains(&code)) => {}
                Err(error) => return Err(connection.error(&format!("create `{TABLE}` (the run lock)"), &error)),
            }
            let waited = started.elapsed();
            if waited >= timeout {
                return Err(ClickHouseError::LockTimeout {
                    server: connection.server().to_owned(),
                    waited: humantime::format_duration(Duration::from_secs(waited.as_secs())).to_string(),
                    holder: holder(&connection).await,
                    database: connection.database().to_owned(),
                });
            }
            if !announced {
                announced = true;
                tracing::info!(
                    event = "clickhouse_migrator.lock_waiting",
                    target = "clickhouse",
                    "another migrator holds the run lock of {} ({}); waiting up to {}",
                    connection.server(),
                    holder(&connection).await,
                    humantime::format_duration(timeout)
                );
            }
            tokio::time::sleep(pause.min(timeout.saturating_sub(waited))).await;
            pause = (pause * 2).min(MAX_PAUSE);
        }
        let lock = RunLock { connection, token, acquired: Instant::now() };
        if let Err(error) = lock.write_token().await {
            // The table is ours: drop it rather than leave a lock nobody can verify.
            let _ = lock.drop_table().await;
            return Err(lock.connection.error(&format!("write the run lock's token into `{TABLE}`"), &error));
        }
        tracing::info!(
            event = "clickhouse_migrator.lock_acquired",
            target = "clickhouse",
            waited_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            "took the run lock of {}",
            lock.connection.server()
        );
        Ok(lock)
    }

    async fn write_token(&self) -> Result<(), clickhouse::error::Error> {
        self.connection
            .server_client()
            .query("INSERT INTO ?.? (token, holder, acquired_at) SELECT ?, ?, now()")
            .bind(Identifier(self.connection.database()))
            .bind(Identifier(TABLE))
            .bind(self.token.as_str())
            .bind(describe_self().as_str())
            .execute()
            .await
    }

    /// Whether the lock is still ours: its table holds our token. Returns the reason on loss.
    pub async fn verify(&mut self) -> Result<(), String> {
        let found = self
            .connection
            .server_client()
            .query("SELECT count() FROM ?.? WHERE token = ?")
            .bind(Identifier(self.connection.database()))
            .bind(Identifier(TABLE))
            .bind(self.token.as_str())
            .fetch_one::<u64>()
            .await;
        match found {
            Ok(0) => Err(format!("`{TABLE}` no longer holds this migrator's token (it was dropped by hand)")),
            Ok(_) => Ok(()),
            Err(error) => Err(describe_error(&error)),
        }
    }

    pub fn server(&self) -> &str {
        self.connection.server()
    }

    /// Drops the lock's table if it is still ours.
    pub async fn release(mut self) -> Result<(), String> {
        self.verify().await?;
        self.drop_table().await.map_err(|error| describe_error(&error))?;
        tracing::info!(
            event = "clickhouse_migrator.lock_released",
            target = "clickhouse",
            held_ms = u64::try_from(self.acquired.elapsed().as_millis()).unwrap_or(u64::MAX),
            "released the run lock of {}",
            self.connection.server()
        );
        Ok(())
    }

    async fn drop_table(&self) -> Result<(), clickhouse::error::Error> {
        self.connection
            .server_client()
            .query("DROP TABLE IF EXISTS ?.?")
            .bind(Identifier(self.connection.database()))
            .bind(Identifier(TABLE))
            .execute()
            .await
    }
}

async fn create(connection: &Connection) -> Result<(), clickhouse::error::Error> {
    const COLUMNS: &str = "(token String, holder String, acquired_at DateTime)";
    let query = match connection.cluster() {
        Some(cluster) => connection
            .server_client()
            .query(&format!("CREATE TABLE ?.? {COLUMNS} ENGINE = ReplicatedMergeTree(?, 'holder') ORDER BY tuple()"))
            .bind(Identifier(connection.database()))
            .bind(Identifier(TABLE))
            .bind(zookeeper_path(cluster, connection.database()).as_str()),
        None => connection
            .server_client()
            .query(&format!("CREATE TABLE ?.? {COLUMNS} ENGINE = TinyLog"))
            .bind(Identifier(connection.database()))
            .bind(Identifier(TABLE)),
    };
    query.execute().await
}

/// Who holds the lock, as well as can be read: the row in this node's table, or on a cluster the
/// ZooKeeper replica's node (which server created it, and when).
async fn holder(connection: &Connection) -> String {
    let database = connection.database();
    let drop_hint = |node: &str| {
        format!("if no migrator runs (one was killed), free it with `DROP TABLE `{database}`.`{TABLE}`` on {node}")
    };
    let local = connection
        .server_client()
        .query("SELECT holder, toString(acquired_at) FROM ?.? LIMIT 1")
        .bind(Identifier(database))
        .bind(Identifier(TABLE))
        .fetch_optional::<(String, String)>()
        .await;
    if let Ok(Some((holder, since))) = local {
        return format!("held by {holder} since {since}; {}", drop_hint(connection.server()));
    }
    let Some(cluster) = connection.cluster() else {
        return format!("held by a migrator that has not written its name yet; {}", drop_hint(connection.server()));
    };
    let path = zookeeper_path(cluster, database);
    let node: Result<Option<(String, String)>, _> = connection
        .server_client()
        .query("SELECT value, toString(ctime) FROM system.zookeeper WHERE path = ? AND name = 'host'")
        .bind(format!("{path}/replicas/holder").as_str())
        .fetch_optional()
        .await;
    match node {
        Ok(Some((host, since))) => {
            let node = node_of(&host);
            format!("held through the node {node} since {since} (ZooKeeper `{path}`); {}", drop_hint(&node))
        }
        _ => format!("held (ZooKeeper `{path}`); {}", drop_hint("the node that holds it")),
    }
}

/// `127.0.0.1:59001` from the replica's `host` node (`host: …\nport: …\ntcp_port: …`).
fn node_of(text: &str) -> String {
    let field = |name: &str| {
        text.lines().find_map(|line| line.strip_prefix(name).map(|value| value.trim().to_owned())).unwrap_or_default()
    };
    format!("{}:{} (native port)", field("host:"), field("tcp_port:"))
}

/// `host pid 1234`, for the lock row: who to look for.
fn describe_self() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    format!("the migrator on {} (pid {})", host.trim(), std::process::id())
}

/// Unique per run: the process, the time, and a counter.
fn token() -> String {
    let started = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    format!("{}-{}-{}", describe_self(), started.as_nanos(), rand_suffix())
}

fn rand_suffix() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(std::time::Instant::now().elapsed().as_nanos());
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_holder_node_is_read_from_the_replica_host_node() {
        let host =
            "host: 127.0.0.1\nport: 59011\ntcp_port: 59001\ndatabase: lkt\ntable: migration_run_lock\nscheme: http\n";
        assert_eq!(node_of(host), "127.0.0.1:59001 (native port)");
    }
}
