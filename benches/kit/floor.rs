//! The floors: the least a deploy step could do, run as their own process (the kit runs itself
//! as `kit floor ...`) so process start and runtime set-up count exactly as for the migrator.
//! They use the migrator's own crates (sqlx, clickhouse, rdkafka), so a ratio measures what the
//! migrator does, not a faster client.
//!
//! - `kit floor query [postgres] [clickhouse] [kafka] …`: per name given, one connection and one
//!   trivial query (`SELECT 1` as a simple query, one round trip; for Kafka one Metadata
//!   request), servers from the same variables the migrator reads (`DATABASE_URL`,
//!   `CLICKHOUSE_URL`, `KAFKA_BOOTSTRAP_SERVERS`). A name may repeat: the up-to-date floor names
//!   PostgreSQL twice, for the postgres and the indicators targets.
//! - `kit floor copy <file>`: one `COPY system_indicators FROM STDIN` of the rows in `file`.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use rdkafka::admin::AdminClient;
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use sqlx::{Connection, PgConnection};

const COPY: &str = "COPY system_indicators (name, display_name, category, description, parameters, outputs, \
                    definition_hash, is_active) FROM STDIN";

/// Runs the floor named by `arguments` (what follows `floor`) and exits the process.
pub fn main(arguments: &[String]) -> ! {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a tokio runtime");
    match arguments.split_first() {
        Some((kind, servers)) if kind == "query" => runtime.block_on(query(servers)),
        Some((kind, file)) if kind == "copy" && file.len() == 1 => runtime.block_on(copy(Path::new(&file[0]))),
        _ => panic!("usage: kit floor query [postgres] [clickhouse] [kafka] | kit floor copy <file>"),
    }
    std::process::exit(0)
}

/// A command that runs this floor in its own process.
pub fn command(arguments: &[&str]) -> Command {
    let mut command = Command::new(std::env::current_exe().expect("the kit's own path"));
    command.arg("floor").args(arguments);
    command
}

async fn query(servers: &[String]) {
    for server in servers {
        match server.as_str() {
            "postgres" => {
                let mut connection = PgConnection::connect(&variable("DATABASE_URL")).await.expect("connect");
                sqlx::raw_sql("SELECT 1").execute(&mut connection).await.expect("SELECT 1");
                let _ = connection.close().await;
            }
            "clickhouse" => {
                let client = clickhouse::Client::default().with_url(variable("CLICKHOUSE_URL")).with_validation(false);
                client.query("SELECT 1").execute().await.expect("SELECT 1 on ClickHouse");
            }
            "kafka" => {
                let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
                    .set("bootstrap.servers", variable("KAFKA_BOOTSTRAP_SERVERS"))
                    .create()
                    .expect("an admin client");
                // Blocking, as in the migrator, off the async workers.
                tokio::task::spawn_blocking(move || {
                    admin.inner().fetch_metadata(None, Duration::from_secs(10)).expect("a Metadata answer");
                    // The least a client must do: not wait for librdkafka's destroy (the process
                    // exits next), as the migrator does not wait for it either.
                    std::mem::forget(admin);
                })
                .await
                .expect("the metadata task");
            }
            other => panic!("unknown server `{other}`"),
        }
    }
}

async fn copy(file: &Path) {
    let rows = std::fs::read(file).expect("read the rows to copy");
    let mut connection = PgConnection::connect(&variable("DATABASE_URL")).await.expect("connect");
    let mut copy = connection.copy_in_raw(COPY).await.expect("start COPY");
    copy.send(rows).await.expect("send the rows");
    copy.finish().await.expect("finish COPY");
    let _ = connection.close().await;
}

fn variable(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set"))
}
