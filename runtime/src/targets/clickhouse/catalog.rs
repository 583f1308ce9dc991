//! What `system.tables`, `system.columns` and `system.databases` say, for the shared decisions of
//! `targets::versioned`: the tables of a database that has no history, and whether a statement's
//! effect is there. Plain `SELECT count()` with bound values, valid from 18.16 on.

use super::connection::Connection;
use super::history::TABLE;
use super::ClickHouseError;
use crate::targets::versioned::effect::{Object, Seen};

const TABLES: &str = "SELECT name FROM system.tables WHERE database = ? AND name NOT IN (?, ?) ORDER BY name";
const RELATION: &str = "SELECT count() FROM system.tables WHERE database = ? AND name = ?";
const COLUMN: &str = "SELECT count() FROM system.columns WHERE database = ? AND table = ? AND name = ?";
const DATABASE: &str = "SELECT count() FROM system.databases WHERE name = ?";

/// The tables (views included) of the configured database besides `migration_history` (and the
/// run lock's `migration_run_lock`); none
/// when the database does not exist.
pub(super) async fn tables_besides_history(connection: &Connection) -> Result<Vec<String>, ClickHouseError> {
    connection
        .server_client()
        .query(TABLES)
        .bind(connection.database())
        .bind(TABLE)
        .bind(super::lock::TABLE)
        .fetch_all::<String>()
        .await
        .map_err(|error| connection.error("list the tables of the database", &error))
}

/// Whether `object` is in the catalog now; a name without a database is in the configured one.
pub(super) async fn seen(connection: &Connection, object: &Object) -> Result<Seen, ClickHouseError> {
    let in_database = |schema: &Option<String>| schema.clone().unwrap_or_else(|| connection.database().to_owned());
    let query = match object {
        Object::Relation { schema, name } | Object::Index { schema, name } => {
            connection.server_client().query(RELATION).bind(in_database(schema)).bind(name.as_str())
        }
        Object::Column { schema, table, column } => connection
            .server_client()
            .query(COLUMN)
            .bind(in_database(schema))
            .bind(table.as_str())
            .bind(column.as_str()),
        Object::Database { name } => connection.server_client().query(DATABASE).bind(name.as_str()),
    };
    let count: u64 = query
        .fetch_one()
        .await
        .map_err(|error| connection.error("read the catalog to settle an unrecorded statement", &error))?;
    Ok(if count > 0 { Seen::Present } else { Seen::Absent })
}

/// On a cluster: whether `object` is in the catalog of every answering host, of none, or of some
/// (the hosts that lack it, which still have the statement in their DDL queue).
pub(super) enum SeenOnCluster {
    Everywhere(Seen),
    Lagging { present: Vec<String>, absent: Vec<String> },
}

pub(super) async fn seen_on_cluster(
    connection: &Connection,
    cluster: &str,
    object: &Object,
) -> Result<SeenOnCluster, ClickHouseError> {
    use super::replicas;
    let survey = replicas::survey(connection, cluster).await?;
    let (mut present, mut absent) = (Vec::new(), Vec::new());
    let in_database = |schema: &Option<String>| schema.clone().unwrap_or_else(|| connection.database().to_owned());
    for host in &survey.answering {
        let found = match object {
            Object::Relation { schema, name } | Object::Index { schema, name } => {
                replicas::has_relation(connection, host, &in_database(schema), name).await
            }
            Object::Column { schema, table, column } => {
                replicas::has_column(connection, host, &in_database(schema), table, column).await
            }
            Object::Database { name } => replicas::has_database(connection, host, name).await,
        };
        match found {
            Some(true) => present.push(host.address.clone()),
            Some(false) => absent.push(host.address.clone()),
            // Stopped answering since the survey: it counts as lagging.
            None => absent.push(host.address.clone()),
        }
    }
    absent.extend(survey.down.into_iter().map(|(host, _)| host.address));
    Ok(match (present.is_empty(), absent.is_empty()) {
        (false, true) => SeenOnCluster::Everywhere(Seen::Present),
        (true, _) => SeenOnCluster::Everywhere(Seen::Absent),
        (false, false) => SeenOnCluster::Lagging { present, absent },
    })
}
