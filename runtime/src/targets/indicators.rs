//! The indicator catalogue: brings PostgreSQL's `system_indicators` table (created by the
//! postgres target's migrations) to `plan.indicators`.
//!
//! The sync is set-based, whatever the number of indicators: first the server's digest of the
//! active catalogue (one row, however many indicators), which is all an up-to-date catalogue
//! costs; otherwise one read of the catalogue (a simple query), then one statement that upserts
//! and deactivates together (data-modifying CTEs), which PostgreSQL applies atomically. An empty
//! catalogue (a new environment, a CI database) is filled with one `COPY` instead, PostgreSQL's
//! fastest load. Indicators no longer declared are deactivated, never deleted, because
//! strategies reference them by name.

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use sha2::{Digest as _, Sha256};
use sqlx::postgres::{PgConnection, PgRow};
use sqlx::Row as _;

use super::postgres::{is_undefined_table, Connection, PostgresError};
use super::{ApplyOptions, Changes, Failure, Status, Target, TargetName};
use crate::config::PostgresConfig;
use crate::plan::{Indicator, Plan};

const READ_CATALOGUE: &str = "SELECT name, definition_hash, is_active FROM system_indicators";

/// SHA-256 (hex) of the active rows as `name definition_hash` lines in byte order of the name,
/// which [`plan_digest`] computes from the plan: equal digests mean nothing to sync, without
/// sending the catalogue over the wire. `sha256()` is PostgreSQL 11+.
const CATALOGUE_DIGEST: &str = "SELECT encode(sha256(convert_to(coalesce(
    string_agg(name || ' ' || definition_hash, E'\\n' ORDER BY name COLLATE \"C\"), ''), 'UTF8')), 'hex')
FROM system_indicators WHERE is_active";

/// Inserts the declared indicators and rewrites those whose definition changed or that were
/// inactive; rows already matching are left alone, so their `updated_at` keeps meaning
/// "definition last changed" (`xmax = 0` holds only for a row this statement inserted). In the
/// same statement, deactivates the active rows no longer declared. Returns each changed name with
/// what happened to it.
const SYNC: &str = "WITH declared AS (
    SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
        AS declared (name, display_name, category, description, parameters, outputs, definition_hash)
), upserted AS (
    INSERT INTO system_indicators
        (name, display_name, category, description, parameters, outputs, definition_hash, is_active)
    SELECT name, display_name, category, description, parameters::jsonb, outputs::jsonb, definition_hash, TRUE
    FROM declared
    ON CONFLICT (name) DO UPDATE SET
        display_name = EXCLUDED.display_name,
        category = EXCLUDED.category,
        description = EXCLUDED.description,
        parameters = EXCLUDED.parameters,
        outputs = EXCLUDED.outputs,
        definition_hash = EXCLUDED.definition_hash,
        is_active = TRUE,
        updated_at = now()
    WHERE system_indicators.definition_hash IS DISTINCT FROM EXCLUDED.definition_hash
        OR NOT system_indicators.is_active
    RETURNING name, CASE WHEN xmax = 0 THEN 'inserted' ELSE 'updated' END AS change
), deactivated AS (
    UPDATE system_indicators SET is_active = FALSE, updated_at = now()
    WHERE is_active AND NOT (name = ANY($1::text[]))
    RETURNING name, 'deactivated' AS change
)
SELECT name, change FROM upserted UNION ALL SELECT name, change FROM deactivated";

/// Fills an empty catalogue; the columns in the order [`copy_rows`] writes them.
const COPY: &str = "COPY system_indicators
    (name, display_name, category, description, parameters, outputs, definition_hash, is_active) FROM STDIN";

#[derive(Debug, thiserror::Error)]
pub enum IndicatorsError {
    #[error(transparent)]
    Postgres(#[from] PostgresError),
    #[error(
        "`{server}`: table `system_indicators` does not exist; apply the postgres target first (its migrations \
         create the table): `migrate` runs postgres before indicators"
    )]
    TableMissing { server: String },
    #[error("`{server}`: cannot {action}: {reason}")]
    Query { server: String, action: &'static str, reason: String },
}

/// Syncs `plan.indicators` into `system_indicators`. Connects on first use.
pub struct IndicatorsTarget {
    connection: Connection,
}

impl IndicatorsTarget {
    pub fn new(config: &PostgresConfig) -> Self {
        IndicatorsTarget { connection: Connection::new(config) }
    }

    /// Whether the active catalogue holds exactly `plan.indicators`, from the server's digest of
    /// it (one row, whatever the number of indicators): the check every sync starts with.
    pub async fn matches(&mut self, plan: &Plan) -> Result<bool, IndicatorsError> {
        let server = self.connection.server();
        let connection = self.connection.get().await?;
        catalogue_matches(connection, &server, &plan.indicators).await
    }
}

impl Target for IndicatorsTarget {
    type Error = IndicatorsError;

    fn name(&self) -> TargetName {
        TargetName::Indicators
    }

    async fn health_check(&mut self) -> Result<(), IndicatorsError> {
        Ok(self.connection.health_check().await?)
    }

    fn is_permanent(error: &IndicatorsError) -> bool {
        matches!(error, IndicatorsError::Postgres(error) if error.is_permanent())
    }

    async fn status(&mut self, plan: &Plan) -> Result<Status, IndicatorsError> {
        let server = self.connection.server();
        let connection = self.connection.get().await?;
        let Some(catalogue) = read_catalogue(connection, &server).await? else {
            let pending = plan.indicators.iter().map(|indicator| format!("insert `{}`", indicator.name)).collect();
            return Ok(Status { current: None, pending, problems: Vec::new(), notes: Vec::new() });
        };
        let active = catalogue.values().filter(|row| row.is_active).count();
        let pending = Difference::new(&plan.indicators, &catalogue).pending();
        Ok(Status {
            current: Some(format!("{active} active indicators")),
            pending,
            problems: Vec::new(),
            notes: Vec::new(),
        })
    }

    async fn apply(&mut self, plan: &Plan, _options: &ApplyOptions) -> Result<Changes, Failure<IndicatorsError>> {
        let server = self.connection.server();
        let connection = self.connection.get().await.map_err(IndicatorsError::from)?;
        let started = Instant::now();
        let changes = sync(connection, &server, &plan.indicators).await?;
        let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        if changes.is_empty() {
            tracing::info!(
                event = "indicators_migrator.up_to_date",
                target = "indicators",
                indicators = plan.indicators.len(),
                "the indicator catalogue is up to date"
            );
            return Ok(Changes::default());
        }
        tracing::info!(
            event = "indicators_migrator.synced",
            target = "indicators",
            inserted = changes.inserted.len(),
            updated = changes.updated.len(),
            deactivated = changes.deactivated.len(),
            duration_ms,
            "synced the indicator catalogue: {} inserted, {} updated, {} deactivated",
            changes.inserted.len(),
            changes.updated.len(),
            changes.deactivated.len()
        );
        Ok(changes.into_lines())
    }
}

/// What one `system_indicators` row says about its indicator.
#[derive(Debug)]
struct CatalogueRow {
    definition_hash: String,
    is_active: bool,
}

/// The catalogue by name, or `None` when the table does not exist.
async fn read_catalogue(
    connection: &mut PgConnection,
    server: &str,
) -> Result<Option<HashMap<String, CatalogueRow>>, IndicatorsError> {
    // A simple query: one round trip, where a prepared statement costs two.
    let rows = match sqlx::raw_sql(READ_CATALOGUE).fetch_all(connection).await {
        Ok(rows) => rows,
        Err(error) if is_undefined_table(&error) => return Ok(None),
        Err(error) => return Err(query_error(server, "read `system_indicators`", &error)),
    };
    let entry = |row: &PgRow| -> Result<(String, CatalogueRow), sqlx::Error> {
        Ok((row.try_get(0)?, CatalogueRow { definition_hash: row.try_get(1)?, is_active: row.try_get(2)? }))
    };
    let catalogue = rows
        .iter()
        .map(entry)
        .collect::<Result<_, _>>()
        .map_err(|error| query_error(server, "read `system_indicators`", &error))?;
    Ok(Some(catalogue))
}

/// Whether the server's digest of the active catalogue is the plan's; `false` when the table
/// does not exist (the full read that follows says so).
async fn catalogue_matches(
    connection: &mut PgConnection,
    server: &str,
    plan: &[Indicator],
) -> Result<bool, IndicatorsError> {
    match sqlx::raw_sql(CATALOGUE_DIGEST).fetch_one(connection).await.and_then(|row| row.try_get::<String, _>(0)) {
        Ok(digest) => Ok(digest == plan_digest(plan)),
        Err(error) if is_undefined_table(&error) => Ok(false),
        Err(error) => Err(query_error(server, "digest `system_indicators`", &error)),
    }
}

/// [`CATALOGUE_DIGEST`] of a catalogue holding exactly `plan`, active.
fn plan_digest(plan: &[Indicator]) -> String {
    let mut lines: Vec<(&str, &str)> =
        plan.iter().map(|indicator| (indicator.name.as_str(), indicator.definition_hash.as_str())).collect();
    lines.sort_unstable();
    let mut hasher = Sha256::new();
    for (index, (name, hash)) in lines.iter().enumerate() {
        if index > 0 {
            hasher.update(b"\n");
        }
        hasher.update(name.as_bytes());
        hasher.update(b" ");
        hasher.update(hash.as_bytes());
    }
    hex::encode(hasher.finalize())
}

/// What the catalogue lacks against the plan.
#[derive(Debug, Default)]
struct Difference<'a> {
    missing: Vec<&'a str>,
    changed: Vec<&'a str>,
    inactive: Vec<&'a str>,
    undeclared: Vec<&'a str>,
}

impl<'a> Difference<'a> {
    fn new(plan: &'a [Indicator], catalogue: &'a HashMap<String, CatalogueRow>) -> Self {
        let mut difference = Difference::default();
        for indicator in plan {
            match catalogue.get(&indicator.name) {
                None => difference.missing.push(&indicator.name),
                Some(row) if row.definition_hash != indicator.definition_hash => {
                    difference.changed.push(&indicator.name)
                }
                Some(row) if !row.is_active => difference.inactive.push(&indicator.name),
                Some(_) => {}
            }
        }
        let declared: HashSet<&str> = plan.iter().map(|indicator| indicator.name.as_str()).collect();
        difference.undeclared = catalogue
            .iter()
            .filter(|(name, row)| row.is_active && !declared.contains(name.as_str()))
            .map(|(name, _)| name.as_str())
            .collect();
        difference.undeclared.sort_unstable();
        difference
    }

    fn is_empty(&self) -> bool {
        self.missing.is_empty() && self.changed.is_empty() && self.inactive.is_empty() && self.undeclared.is_empty()
    }

    fn pending(&self) -> Vec<String> {
        let lines = |names: &[&str], line: fn(&str) -> String| names.iter().map(|name| line(name)).collect::<Vec<_>>();
        [
            lines(&self.missing, |name| format!("insert `{name}`")),
            lines(&self.changed, |name| format!("update `{name}` (definition changed)")),
            lines(&self.inactive, |name| format!("reactivate `{name}`")),
            lines(&self.undeclared, |name| format!("deactivate `{name}` (no longer declared)")),
        ]
        .concat()
    }
}

/// What one sync wrote, by indicator name.
#[derive(Debug, Default)]
struct Synced {
    inserted: Vec<String>,
    updated: Vec<String>,
    deactivated: Vec<String>,
}

impl Synced {
    fn is_empty(&self) -> bool {
        self.inserted.is_empty() && self.updated.is_empty() && self.deactivated.is_empty()
    }

    fn into_lines(self) -> Changes {
        let lines = |names: Vec<String>, verb: &'static str| {
            names.into_iter().map(move |name| format!("{verb} indicator `{name}`"))
        };
        let inserted = lines(self.inserted, "inserted");
        let updated = lines(self.updated, "updated");
        let deactivated = lines(self.deactivated, "deactivated");
        Changes(inserted.chain(updated).chain(deactivated).collect())
    }
}

/// Reads the catalogue and, only if it differs from the plan, writes it in one statement: the
/// catalogue is never seen half-synced.
async fn sync(connection: &mut PgConnection, server: &str, plan: &[Indicator]) -> Result<Synced, IndicatorsError> {
    if catalogue_matches(connection, server, plan).await? {
        return Ok(Synced::default());
    }
    let catalogue = read_catalogue(connection, server)
        .await?
        .ok_or_else(|| IndicatorsError::TableMissing { server: server.to_owned() })?;
    if Difference::new(plan, &catalogue).is_empty() {
        return Ok(Synced::default());
    }
    if catalogue.is_empty() {
        return copy_into_empty(connection, server, plan).await;
    }
    let column = |value: fn(&Indicator) -> &str| plan.iter().map(value).collect::<Vec<_>>();
    let descriptions: Vec<Option<&str>> = plan.iter().map(|indicator| indicator.description.as_deref()).collect();
    let rows: Vec<(String, String)> = sqlx::query_as(SYNC)
        .bind(column(|indicator| &indicator.name))
        .bind(column(|indicator| &indicator.display_name))
        .bind(column(|indicator| indicator.category.as_str()))
        .bind(descriptions)
        .bind(column(|indicator| &indicator.parameters_json))
        .bind(column(|indicator| &indicator.outputs_json))
        .bind(column(|indicator| &indicator.definition_hash))
        .fetch_all(connection)
        .await
        .map_err(|error| query_error(server, "write `system_indicators`", &error))?;
    let mut synced = Synced::default();
    for (name, change) in rows {
        match change.as_str() {
            "inserted" => synced.inserted.push(name),
            "updated" => synced.updated.push(name),
            _ => synced.deactivated.push(name),
        }
    }
    for names in [&mut synced.inserted, &mut synced.updated, &mut synced.deactivated] {
        names.sort_unstable();
    }
    Ok(synced)
}

/// One `COPY` of every indicator; one statement, so all rows or none.
async fn copy_into_empty(
    connection: &mut PgConnection,
    server: &str,
    plan: &[Indicator],
) -> Result<Synced, IndicatorsError> {
    let copy_error = |error: sqlx::Error| query_error(server, "fill the empty `system_indicators` (COPY)", &error);
    let mut copy = connection.copy_in_raw(COPY).await.map_err(copy_error)?;
    if let Err(error) = copy.send(copy_rows(plan)).await {
        let _ = copy.abort("the migrator could not send the rows").await;
        return Err(copy_error(error));
    }
    copy.finish().await.map_err(copy_error)?;
    let mut inserted: Vec<String> = plan.iter().map(|indicator| indicator.name.clone()).collect();
    inserted.sort_unstable();
    Ok(Synced { inserted, ..Synced::default() })
}

/// The rows in COPY's text format: tab-separated columns, one line a row, `\N` for NULL.
fn copy_rows(plan: &[Indicator]) -> Vec<u8> {
    let mut rows = String::new();
    for indicator in plan {
        let columns = [
            Some(indicator.name.as_str()),
            Some(indicator.display_name.as_str()),
            Some(indicator.category.as_str()),
            indicator.description.as_deref(),
            Some(indicator.parameters_json.as_str()),
            Some(indicator.outputs_json.as_str()),
            Some(indicator.definition_hash.as_str()),
        ];
        for column in columns {
            match column {
                Some(text) => push_copy_text(&mut rows, text),
                None => rows.push_str("\\N"),
            }
            rows.push('\t');
        }
        rows.push_str("t\n");
    }
    rows.into_bytes()
}

/// `text` escaped for COPY's text format: a backslash, and the characters that would end a
/// column or a row, as backslash sequences.
fn push_copy_text(out: &mut String, text: &str) {
    for character in text.chars() {
        match character {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            other => out.push(other),
        }
    }
}

fn query_error(server: &str, action: &'static str, error: &sqlx::Error) -> IndicatorsError {
    IndicatorsError::Query { server: server.to_owned(), action, reason: super::postgres::describe_error(error) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_text_escapes_what_would_end_a_column_or_a_row() {
        let mut out = String::new();
        push_copy_text(&mut out, "a\tb\nc\rd\\e \\N é");
        assert_eq!(out, "a\\tb\\nc\\rd\\\\e \\\\N é");
    }
}
