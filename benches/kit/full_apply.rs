//! Items 3 and 7, full apply: every PostgreSQL migration of the corpus from an empty database
//! (`migrate postgres`) against psql running the same upgrade SQL in one session, with the
//! migrator's peak memory; and every ClickHouse migration from nothing (`migrate clickhouse`)
//! against `clickhouse-client --multiquery` running the same SQL.

use std::process::Command;

use crate::context::Context;
use crate::corpus::Corpus;

pub fn measure_postgres(context: &mut Context) {
    let script = context.logs.join("full_apply_postgres.sql");
    std::fs::write(&script, Corpus::concatenated(&context.corpus.postgres)).expect("write the psql script");
    let servers = context.stack.direct();
    let (mut migrator, mut psql) = (Vec::new(), Vec::new());
    for run in 0..context.sizes.runs {
        let database = context.runtime.block_on(context.stack.fresh_postgres("pgfull"));
        let env = context.stack.env(&servers, &database.name, "unused");
        let outcome =
            context.migrator(&context.migrator, &env, &["migrate", "postgres"], &format!("full_apply_postgres_{run}"));
        migrator.push(outcome.wall);
        let again =
            context.migrator(&context.migrator, &env, &["migrate", "postgres"], &format!("up_to_date_postgres_{run}"));
        context.postgres_up_to_date.push(again.wall);

        let floor_database = context.runtime.block_on(context.stack.fresh_postgres("psql"));
        let mut command = Command::new("psql");
        command.args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", &floor_database.url, "-f"]).arg(&script);
        psql.push(context.other(command, None, &format!("full_apply_psql_{run}")).wall);
    }
    context.postgres_full_apply = migrator.clone();
    let database = context.runtime.block_on(context.stack.fresh_postgres("pgmemory"));
    let env = context.stack.env(&servers, &database.name, "unused");
    let peak_kib = context.peak_memory_kib(&env, &["migrate", "postgres"], "full_apply_postgres_memory");
    let count = context.corpus.postgres.len();
    context.report.compare(
        &format!("3. full apply: {count} PostgreSQL migrations from empty (migrate postgres)"),
        &migrator,
        "psql -f, one session",
        &psql,
        Some(1.3),
    );
    context.report.value(
        "7. peak memory (maxrss) of that migrate",
        format!("{:.1} MiB", peak_kib as f64 / 1024.0),
        "reported",
        None,
    );
}

pub fn measure_clickhouse(context: &mut Context) {
    let servers = context.stack.direct();
    // The run lock lives in PostgreSQL, as in a deploy where PostgreSQL is configured.
    let lock_database = context.runtime.block_on(context.stack.fresh_postgres("chlock"));
    let (mut migrator, mut client) = (Vec::new(), Vec::new());
    for run in 0..context.sizes.runs {
        let database = context.stack.fresh_clickhouse("chfull");
        let env = context.stack.env(&servers, &lock_database.name, &database);
        let label = format!("full_apply_clickhouse_{run}");
        migrator.push(context.migrator(&context.migrator, &env, &["migrate", "clickhouse"], &label).wall);

        let floor_database = context.stack.fresh_clickhouse("chclient");
        let script = context.logs.join("full_apply_clickhouse.sql");
        let sql = format!(
            "CREATE DATABASE {floor_database};\nUSE {floor_database};\n{}",
            Corpus::concatenated(&context.corpus.clickhouse)
        );
        std::fs::write(&script, sql).expect("write the clickhouse-client script");
        let command = context.stack.clickhouse_client();
        client.push(context.other(command, Some(&script), &format!("full_apply_clickhouse_client_{run}")).wall);
    }
    let count = context.corpus.clickhouse.len();
    context.report.compare(
        &format!("3. full apply: {count} ClickHouse migrations from nothing (migrate clickhouse)"),
        &migrator,
        "clickhouse-client --multiquery",
        &client,
        None,
    );
}
