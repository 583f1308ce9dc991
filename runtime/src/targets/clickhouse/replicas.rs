//! The hosts of the configured cluster, as the configured node sees them: `system.clusters` lists
//! them, and `remote('host:port', …)` (18.16 has no `clusterAllReplicas`, and `cluster()` asks
//! one replica per shard) asks each one, through the node, over the cluster's native port.
//!
//! Before anything runs, every host must answer (`check`, from the health check, so a host that
//! is starting is waited for up to `--wait`); a host that does not is a refusal naming it, unless
//! `--allow-lagging-replicas` lets the run go on without it: its DDL then waits in the cluster's
//! queue, and history inserts ask a quorum of the hosts that answered.

use super::connection::{describe_error, Connection};
use super::ClickHouseError;

/// One host of the cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Host {
    /// `host:port` (the native port), as `remote()` takes it.
    pub address: String,
}

const HOSTS: &str =
    "SELECT host_name, toUInt16(port) FROM system.clusters WHERE cluster = ? ORDER BY shard_num, replica_num";

/// Every host of `cluster`, as the configured node lists it.
pub(super) async fn hosts(connection: &Connection, cluster: &str) -> Result<Vec<Host>, ClickHouseError> {
    let rows: Vec<(String, u16)> = connection
        .server_client()
        .query(HOSTS)
        .bind(cluster)
        .fetch_all()
        .await
        .map_err(|error| connection.error("list the hosts of the cluster in `system.clusters`", &error))?;
    if rows.is_empty() {
        return Err(ClickHouseError::UnknownCluster {
            server: connection.server().to_owned(),
            cluster: cluster.to_owned(),
        });
    }
    Ok(rows.into_iter().map(|(host, port)| Host { address: format!("{host}:{port}") }).collect())
}

/// `query` with `remote(…)` in place of `REMOTE`, for `host` and the configured user (the
/// password too, when there is one: `remote()` takes it as an argument).
fn remote(connection: &Connection, host: &Host, query: &str, database: &str, table: &str) -> clickhouse::query::Query {
    let query = query.replace("REMOTE", "remote(?, ?, ?, ?, ?)");
    connection
        .server_client()
        .query(&query)
        .bind(host.address.as_str())
        .bind(clickhouse::sql::Identifier(database))
        .bind(clickhouse::sql::Identifier(table))
        .bind(connection.user())
        .bind(connection.password())
}

/// Whether `host` answers a query; the reason when it does not.
pub(super) async fn answers(connection: &Connection, host: &Host) -> Result<(), String> {
    remote(connection, host, "SELECT toUInt8(1) FROM REMOTE", "system", "one")
        .fetch_one::<u8>()
        .await
        .map(drop)
        .map_err(|error| describe_error(&error))
}

/// Which hosts of the configured cluster answer now, and which do not (with why).
pub(super) struct Survey {
    pub answering: Vec<Host>,
    pub down: Vec<(Host, String)>,
}

pub(super) async fn survey(connection: &Connection, cluster: &str) -> Result<Survey, ClickHouseError> {
    let mut survey = Survey { answering: Vec::new(), down: Vec::new() };
    for host in hosts(connection, cluster).await? {
        match answers(connection, &host).await {
            Ok(()) => survey.answering.push(host),
            Err(reason) => survey.down.push((host, reason)),
        }
    }
    Ok(survey)
}

/// `host` holds `object` (a table or view of `database`) in its catalog; `None` when it cannot be asked.
pub(super) async fn has_relation(connection: &Connection, host: &Host, database: &str, name: &str) -> Option<bool> {
    remote(connection, host, "SELECT count() FROM REMOTE WHERE database = ? AND name = ?", "system", "tables")
        .bind(database)
        .bind(name)
        .fetch_one::<u64>()
        .await
        .ok()
        .map(|count| count > 0)
}

/// `host`'s column `table`.`column` of `database` exists; `None` when it cannot be asked.
pub(super) async fn has_column(
    connection: &Connection,
    host: &Host,
    database: &str,
    table: &str,
    column: &str,
) -> Option<bool> {
    remote(
        connection,
        host,
        "SELECT count() FROM REMOTE WHERE database = ? AND table = ? AND name = ?",
        "system",
        "columns",
    )
    .bind(database)
    .bind(table)
    .bind(column)
    .fetch_one::<u64>()
    .await
    .ok()
    .map(|count| count > 0)
}

/// `host` has the database `name`; `None` when it cannot be asked.
pub(super) async fn has_database(connection: &Connection, host: &Host, name: &str) -> Option<bool> {
    remote(connection, host, "SELECT count() FROM REMOTE WHERE name = ?", "system", "databases")
        .bind(name)
        .fetch_one::<u64>()
        .await
        .ok()
        .map(|count| count > 0)
}

/// The newest `sequence` of every version in `host`'s copy of the history, as one comparable
/// text; `None` when it cannot be read. Two replicas that caught up with each other give the
/// same text whatever their merges did (a version's rows only ever grow in `sequence`).
pub(super) async fn history_digest(connection: &Connection, host: &Host) -> Option<String> {
    remote(
        connection,
        host,
        "SELECT toString(groupArray((version, sequence))) FROM \
         (SELECT version, max(sequence) AS sequence FROM REMOTE GROUP BY version ORDER BY version)",
        connection.database(),
        super::history::TABLE,
    )
    .fetch_one::<String>()
    .await
    .ok()
}

/// The tables (and views) of the configured database on `host`, sorted; `None` when it cannot be
/// read. A replica whose DDL queue is behind lacks some (or still has dropped ones).
pub(super) async fn tables(connection: &Connection, host: &Host) -> Option<Vec<String>> {
    remote(connection, host, "SELECT name FROM REMOTE WHERE database = ? ORDER BY name", "system", "tables")
        .bind(connection.database())
        .fetch_all::<String>()
        .await
        .ok()
}
