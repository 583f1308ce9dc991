//! Items 3 and 7, full apply and roll back, against floors that cannot flatter:
//!
//! - PostgreSQL: every migration of the corpus from an empty database (`migrate postgres`), then
//!   all of them undone (`down --to base`), against psql running the same upgrades, then the
//!   downgrades in reverse, **in one transaction** (`psql -1`): the least work a server can do
//!   for that SQL. psql with one transaction per migration (what the migrator and its peers must
//!   do to record each step) is printed as a second reference. The migrator's peak memory.
//! - ClickHouse: every migration from nothing (`migrate clickhouse`), then `down --to base`,
//!   against curl posting each statement over **one keep-alive HTTP connection** (the least a
//!   client can do over HTTP, which the migrator speaks); `clickhouse-client --multiquery` (the
//!   native protocol, one request) is a second reference. The runs follow each other with no pause
//!   (back to back), as deploys do, so merges of earlier runs' parts are part of the figure.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use tradeforge_migrator_spec::model::Dialect;

use crate::context::Context;
use crate::corpus::Corpus;
use crate::generate;

pub fn measure_postgres(context: &mut Context) {
    let migrations = &context.corpus.postgres;
    let upgrades = context.logs.join("full_apply_postgres.sql");
    let downgrades = context.logs.join("roll_back_postgres.sql");
    let per_migration = context.logs.join("full_apply_postgres_per_migration.sql");
    std::fs::write(&upgrades, Corpus::concatenated(migrations)).expect("write the psql script");
    std::fs::write(&downgrades, reversed_downgrades(migrations)).expect("write the psql script");
    std::fs::write(&per_migration, transaction_per_migration(migrations)).expect("write the psql script");
    let servers = context.stack.direct();
    let (mut apply, mut roll_back) = (Vec::new(), Vec::new());
    let (mut psql_apply, mut psql_roll_back, mut psql_per_migration) = (Vec::new(), Vec::new(), Vec::new());
    for run in 0..context.sizes.runs {
        let database = context.runtime.block_on(context.stack.fresh_postgres("pgfull"));
        let env = context.stack.env(&servers, &database.name, "unused");
        let migrate = ["migrate", "postgres"];
        apply.push(context.migrator(&context.migrator, &env, &migrate, &format!("full_apply_postgres_{run}")).wall);
        let again = context.migrator(&context.migrator, &env, &migrate, &format!("up_to_date_postgres_{run}"));
        context.postgres_up_to_date.push(again.wall);
        let down = ["down", "--target", "postgres", "--to", "base", "--yes"];
        roll_back.push(context.migrator(&context.migrator, &env, &down, &format!("roll_back_postgres_{run}")).wall);

        let floor = context.runtime.block_on(context.stack.fresh_postgres("psql"));
        psql_apply.push(psql(context, &floor.url, &upgrades, true, &format!("full_apply_psql_{run}")));
        psql_roll_back.push(psql(context, &floor.url, &downgrades, true, &format!("roll_back_psql_{run}")));
        let reference = context.runtime.block_on(context.stack.fresh_postgres("psqltx"));
        let label = format!("full_apply_psql_per_migration_{run}");
        psql_per_migration.push(psql(context, &reference.url, &per_migration, false, &label));
    }
    context.postgres_full_apply = apply.clone();
    let database = context.runtime.block_on(context.stack.fresh_postgres("pgmemory"));
    let env = context.stack.env(&servers, &database.name, "unused");
    let peak_kib = context.peak_memory_kib(&env, &["migrate", "postgres"], "full_apply_postgres_memory");
    let count = migrations.len();
    let report = &mut context.report;
    let figure = format!("3. full apply: {count} PostgreSQL migrations from empty (migrate postgres)");
    report.compare(&figure, &apply, "psql -1 -f, one transaction", &psql_apply, Some(1.3));
    let figure = format!("3. the same full apply, against psql with one transaction per migration ({count} commits)");
    report.compare(&figure, &apply, "psql -f, BEGIN/COMMIT per migration", &psql_per_migration, None);
    let figure = format!("3. roll back all {count} PostgreSQL migrations (down --to base)");
    report.compare(&figure, &roll_back, "psql -1 -f of the downgrades", &psql_roll_back, None);
    report.value(
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
    let migrations = &context.corpus.clickhouse;
    let upgrades = statements(migrations.iter().map(|migration| migration.upgrade.as_str()));
    let downgrades = statements(migrations.iter().rev().map(|migration| migration.downgrade.as_str()));
    let (mut apply, mut roll_back) = (Vec::new(), Vec::new());
    let (mut curl_apply, mut curl_roll_back, mut client) = (Vec::new(), Vec::new(), Vec::new());
    for run in 0..context.sizes.runs {
        let database = context.stack.fresh_clickhouse("chfull");
        let env = context.stack.env(&servers, &lock_database.name, &database);
        let label = format!("full_apply_clickhouse_{run}");
        apply.push(context.migrator(&context.migrator, &env, &["migrate", "clickhouse"], &label).wall);
        let down = ["down", "--target", "clickhouse", "--to", "base", "--yes"];
        roll_back.push(context.migrator(&context.migrator, &env, &down, &format!("roll_back_clickhouse_{run}")).wall);

        let floor = context.stack.fresh_clickhouse("chcurl");
        let mut creation = vec![format!("CREATE DATABASE {floor}")];
        creation.extend(upgrades.iter().cloned());
        curl_apply.push(curl(context, &floor, &creation, &format!("full_apply_curl_{run}")));
        curl_roll_back.push(curl(context, &floor, &downgrades, &format!("roll_back_curl_{run}")));

        let reference = context.stack.fresh_clickhouse("chclient");
        let script = context.logs.join("full_apply_clickhouse.sql");
        let sql = format!("CREATE DATABASE {reference};\nUSE {reference};\n{}", Corpus::concatenated(migrations));
        std::fs::write(&script, sql).expect("write the clickhouse-client script");
        let command = context.stack.clickhouse_client();
        client.push(context.other(command, Some(&script), &format!("full_apply_clickhouse_client_{run}")).wall);
    }
    let count = migrations.len();
    let requests = upgrades.len() + 1;
    let report = &mut context.report;
    let figure =
        format!("3. full apply: {count} ClickHouse migrations from nothing (migrate clickhouse), back to back");
    report.compare(&figure, &apply, &format!("curl, {requests} requests on one connection"), &curl_apply, Some(3.0));
    let figure = format!("3. the same full apply, against clickhouse-client ({count} migrations in one request)");
    report.compare(&figure, &apply, "clickhouse-client --multiquery", &client, None);
    let figure = format!("3. roll back all {count} ClickHouse migrations (down --to base), back to back");
    let floor = format!("curl, {} requests on one connection", downgrades.len());
    report.compare(&figure, &roll_back, &floor, &curl_roll_back, Some(3.0));
}

/// psql running `script` with `-1` (one transaction) or as written, its wall time.
fn psql(context: &Context, url: &str, script: &Path, one_transaction: bool, label: &str) -> Duration {
    let mut command = Command::new("psql");
    command.args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url]);
    if one_transaction {
        command.arg("-1");
    }
    command.arg("-f").arg(script);
    context.other(command, None, label).wall
}

/// One curl process posting each statement in order over one keep-alive connection (`--next`
/// keeps the connection), the first one without a database (it creates it). Its wall time.
fn curl(context: &Context, database: &str, statements: &[String], label: &str) -> Duration {
    let folder = context.logs.join(label);
    std::fs::create_dir_all(&folder).expect("create the curl statements folder");
    let base = context.stack.clickhouse_url.trim_end_matches('/');
    let mut command = Command::new("curl");
    for (index, statement) in statements.iter().enumerate() {
        let file = folder.join(format!("{index}.sql"));
        std::fs::write(&file, statement).expect("write a statement for curl");
        if index > 0 {
            command.arg("--next");
        }
        let url = if statement.starts_with("CREATE DATABASE") {
            format!("{base}/")
        } else {
            format!("{base}/?database={database}")
        };
        command
            .args(["-sS", "--fail-with-body", "-o", "/dev/null", "--data-binary"])
            .arg(format!("@{}", file.display()))
            .arg(url);
    }
    context.other(command, None, label).wall
}

/// Every statement of `scripts`, in order, as the migrator splits them.
fn statements<'a>(scripts: impl Iterator<Item = &'a str>) -> Vec<String> {
    scripts
        .flat_map(|script| {
            tradeforge_migrator_spec::sql::split(script, Dialect::ClickHouse).expect("the corpus's SQL splits")
        })
        .collect()
}

/// Every downgrade, newest first, as one script.
fn reversed_downgrades(migrations: &[generate::Migration]) -> String {
    let mut script = String::new();
    for migration in migrations.iter().rev() {
        let _ = writeln!(script, "{}", migration.downgrade.trim_end());
    }
    script
}

/// Every upgrade in its own `BEGIN; … COMMIT;`.
fn transaction_per_migration(migrations: &[generate::Migration]) -> String {
    let mut script = String::new();
    for migration in migrations {
        let _ = writeln!(script, "BEGIN;\n{}\nCOMMIT;", migration.upgrade.trim_end());
    }
    script
}
