//! A text dump of the configured database's schema, for `verify-downgrades` to compare the
//! schema before a migration's upgrade with the one after its downgrade; and the throwaway
//! databases (`--create-scratch`) it proves them on.
//!
//! One line per table or view of `system.tables` (name, engine and `create_table_query`, which
//! holds the columns, keys, settings and a view's query) and one per column of `system.columns`
//! (position, type, default, comment), `migration_history` left out: the migrator's bookkeeping
//! is not the schema a downgrade must restore. Sorted, so two dumps are equal exactly when the
//! schemas are and a line-by-line difference names what differs. Rows are data, not schema, and
//! are not compared.

use clickhouse::sql::Identifier;

use super::connection::Connection;
use super::ClickHouseError;
use crate::config::ClickHouseConfig;

const TABLES: &str = "SELECT name, engine, create_table_query FROM system.tables \
                      WHERE database = ? AND name NOT IN ('migration_history', 'migration_run_lock')";

/// No `ORDER BY`: the server lists a table's columns in their order, which the dump keeps as
/// each column's position (18.x has no `position` column).
const COLUMNS: &str = "SELECT table, name, type, default_kind, default_expression, comment FROM system.columns \
                       WHERE database = ? AND table NOT IN ('migration_history', 'migration_run_lock')";

/// The schema of the configured database as sorted lines; empty when it does not exist.
pub(super) async fn dump(connection: &Connection) -> Result<String, ClickHouseError> {
    let database = connection.database();
    let tables: Vec<(String, String, String)> =
        connection.server_client().query(TABLES).bind(database).fetch_all().await.map_err(|error| {
            connection.error(&format!("read the tables of `{database}` from `system.tables`"), &error)
        })?;
    let columns: Vec<(String, String, String, String, String, String)> =
        connection.server_client().query(COLUMNS).bind(database).fetch_all().await.map_err(|error| {
            connection.error(&format!("read the columns of `{database}` from `system.columns`"), &error)
        })?;
    let mut lines: Vec<String> = tables
        .into_iter()
        .map(|(name, engine, query)| format!("table `{name}` engine={engine}: {}", fold_white_space(&query)))
        .collect();
    lines.extend(column_lines(columns));
    lines.sort();
    let mut text = lines.join("\n");
    text.push('\n');
    Ok(text)
}

/// `column `t`.`c` position=2 type=String default=DEFAULT 'x' comment=…`, positions counted per
/// table in the order the server listed the columns.
fn column_lines(columns: Vec<(String, String, String, String, String, String)>) -> Vec<String> {
    let mut position = 0;
    let mut previous_table = String::new();
    let mut lines = Vec::with_capacity(columns.len());
    for (table, name, kind, default_kind, default_expression, comment) in columns {
        if table != previous_table {
            position = 0;
            previous_table.clone_from(&table);
        }
        position += 1;
        let default =
            if default_kind.is_empty() { String::new() } else { format!(" {default_kind} {default_expression}") };
        lines.push(format!("column `{table}`.`{name}` position={position} type={kind}{default} comment={comment:?}"));
    }
    lines
}

fn fold_white_space(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Creates an empty database `tfm_verify_<random>` on `config`'s server (on every replica of its
/// cluster, `ON CLUSTER`) and returns `config` pointing at it.
pub async fn create_scratch_database(config: &ClickHouseConfig) -> Result<ClickHouseConfig, ClickHouseError> {
    let scratch = ClickHouseConfig { database: crate::targets::versioned::scratch_name(), ..config.clone() };
    let connection = Connection::new(&scratch);
    on_cluster(&connection, "CREATE DATABASE ?")
        .execute()
        .await
        .map_err(|error| connection.error(&format!("create the scratch database `{}`", scratch.database), &error))?;
    Ok(scratch)
}

/// Drops the scratch database `scratch` names, with everything in it.
pub async fn drop_scratch_database(scratch: &ClickHouseConfig) -> Result<(), ClickHouseError> {
    let connection = Connection::new(scratch);
    on_cluster(&connection, "DROP DATABASE IF EXISTS ?")
        .execute()
        .await
        .map_err(|error| connection.error(&format!("drop the scratch database `{}`", scratch.database), &error))
}

/// `statement` (which names the database with its one `?`) for the connection's database, with
/// `ON CLUSTER` on a cluster.
fn on_cluster(connection: &Connection, statement: &str) -> clickhouse::query::Query {
    let database = Identifier(connection.database());
    match connection.cluster() {
        Some(cluster) => {
            connection.server_client().query(&format!("{statement} ON CLUSTER ?")).bind(database).bind(cluster)
        }
        None => connection.server_client().query(statement).bind(database),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_positions_restart_per_table() {
        let column = |table: &str, name: &str| {
            (table.to_owned(), name.to_owned(), "UInt32".to_owned(), String::new(), String::new(), String::new())
        };
        let lines = column_lines(vec![column("a", "x"), column("a", "y"), column("b", "z")]);
        assert_eq!(
            lines,
            [
                "column `a`.`x` position=1 type=UInt32 comment=\"\"",
                "column `a`.`y` position=2 type=UInt32 comment=\"\"",
                "column `b`.`z` position=1 type=UInt32 comment=\"\"",
            ]
        );
    }
}
