//! What the catalog says, for the shared decisions of `targets::versioned`: the tables of a
//! database that has no history, and whether a statement's effect is there.

use sqlx::{PgConnection, Row as _};

use super::{query_error, PostgresError};
use crate::targets::versioned::effect::{Object, Seen};

/// Tables, views and materialized views in the schemas of the search path (where unqualified
/// migrations create them), `migration_history` left out.
const TABLES: &str = "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = ANY (current_schemas(false)) AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND c.relname NOT IN ('migration_history', 'migration_intent')
ORDER BY 1";

/// `$1` schema (NULL: the first schema of the search path that has the relation), `$2` name.
const RELATION: &str = "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relname = $2 AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND (n.nspname = $1 OR ($1 IS NULL AND n.nspname = ANY (current_schemas(false))))";

const COLUMN: &str = "SELECT count(*) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relname = $2 AND a.attname = $3 AND a.attnum > 0 AND NOT a.attisdropped
  AND (n.nspname = $1 OR ($1 IS NULL AND n.nspname = ANY (current_schemas(false))))";

/// `indisvalid` of the index, or no row when there is none.
const INDEX: &str = "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relname = $2 AND (n.nspname = $1 OR ($1 IS NULL AND n.nspname = ANY (current_schemas(false))))";

const DATABASE: &str = "SELECT count(*) FROM pg_database WHERE datname = $1";

pub(super) async fn tables_besides_history(
    connection: &mut PgConnection,
    server: &str,
) -> Result<Vec<String>, PostgresError> {
    sqlx::query_scalar(TABLES)
        .fetch_all(connection)
        .await
        .map_err(|error| query_error(server, "list the tables of the database", &error))
}

/// Whether `object` is in the catalog now.
pub(super) async fn seen(connection: &mut PgConnection, server: &str, object: &Object) -> Result<Seen, PostgresError> {
    let error = |error: sqlx::Error| query_error(server, "read the catalog to settle an unrecorded statement", &error);
    let present = |count: i64| if count > 0 { Seen::Present } else { Seen::Absent };
    match object {
        Object::Relation { schema, name } => {
            let count: i64 =
                sqlx::query_scalar(RELATION).bind(schema).bind(name).fetch_one(connection).await.map_err(error)?;
            Ok(present(count))
        }
        Object::Column { schema, table, column } => {
            let count: i64 = sqlx::query_scalar(COLUMN)
                .bind(schema)
                .bind(table)
                .bind(column)
                .fetch_one(connection)
                .await
                .map_err(error)?;
            Ok(present(count))
        }
        Object::Database { name } => {
            let count: i64 = sqlx::query_scalar(DATABASE).bind(name).fetch_one(connection).await.map_err(error)?;
            Ok(present(count))
        }
        Object::Index { schema, name } => {
            let row = sqlx::query(INDEX).bind(schema).bind(name).fetch_optional(connection).await.map_err(error)?;
            Ok(match row.map(|row| row.get::<bool, _>(0)) {
                None => Seen::Absent,
                Some(true) => Seen::Present,
                Some(false) => Seen::Invalid,
            })
        }
    }
}
