//! A fresh ClickHouse database name per test on the stack's server (`CLICKHOUSE_URL` from
//! `eval "$(scripts/stack env)"`): the config names it, the target creates it, and it is dropped
//! when the test ends.

use clickhouse::sql::Identifier;
use clickhouse::Client;
use tradeforge_migrator::config::{Bounds, ClickHouseConfig, Secret};

const DEFAULT_URL: &str = "http://127.0.0.1:58123";

/// One database `tfm_test_<random>` that does not exist yet, dropped on drop.
pub struct TestDatabase {
    /// The migrator's configuration for this database.
    pub config: ClickHouseConfig,
    /// A client of the test's own in that database, to check what the server holds and to make
    /// changes "by hand".
    pub client: Client,
}

impl TestDatabase {
    pub fn new() -> TestDatabase {
        let config = ClickHouseConfig {
            url: std::env::var("CLICKHOUSE_URL").unwrap_or_else(|_| DEFAULT_URL.to_owned()),
            user: std::env::var("CLICKHOUSE_USER").unwrap_or_else(|_| "default".to_owned()),
            password: Secret::new(std::env::var("CLICKHOUSE_PASSWORD").unwrap_or_default()),
            database: super::unique_name("tfm_test"),
            bounds: Bounds::default(),
            cluster: None,
        };
        let client = server_client(&config).with_database(config.database.as_str());
        TestDatabase { config, client }
    }

    pub fn name(&self) -> &str {
        &self.config.database
    }

    /// Whether the database exists on the server.
    pub async fn exists(&self) -> bool {
        let count: u64 = server_client(&self.config)
            .query("SELECT count() FROM system.databases WHERE name = ?")
            .bind(self.name())
            .fetch_one()
            .await
            .expect("read system.databases");
        count == 1
    }

    /// The database's tables (views included) and their engines, sorted by name.
    pub async fn tables(&self) -> Vec<(String, String)> {
        server_client(&self.config)
            .query("SELECT name, engine FROM system.tables WHERE database = ? ORDER BY name")
            .bind(self.name())
            .fetch_all()
            .await
            .expect("read system.tables")
    }

    pub async fn table_names(&self) -> Vec<String> {
        self.tables().await.into_iter().map(|(name, _)| name).collect()
    }

    /// Runs `sql` in the database, as an operator fixing something by hand would.
    pub async fn execute(&self, sql: &str) {
        self.client.query_raw(sql).execute().await.unwrap_or_else(|error| panic!("`{sql}`: {error}"));
    }

    /// The newest `(version, sequence)` of every version in `migration_history`: any new history
    /// row changes it. (Counting all rows would not do: a background merge of the
    /// ReplacingMergeTree may collapse old rows at any moment.)
    pub async fn history_rows_written(&self) -> Vec<(u64, u64)> {
        self.client
            .query("SELECT version, sequence FROM migration_history FINAL ORDER BY version")
            .fetch_all::<(u64, u64)>()
            .await
            .expect("read migration_history")
    }
}

impl Drop for TestDatabase {
    /// Drops the database on a thread of its own: `Drop` cannot await, and the test's runtime
    /// may be shutting down. A database left behind (the server was gone) only costs disk.
    fn drop(&mut self) {
        let config = self.config.clone();
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            runtime.block_on(async {
                server_client(&config)
                    .query("DROP DATABASE IF EXISTS ?")
                    .bind(Identifier(&config.database))
                    .execute()
                    .await
                    .map_err(std::io::Error::other)
            })
        })
        .join();
        if let Ok(Err(error)) = dropped {
            eprintln!("could not drop test database `{}`: {error}", self.config.database);
        }
    }
}

/// A client without a database, as the stack's 18.16 needs it (no RowBinaryWithNamesAndTypes).
fn server_client(config: &ClickHouseConfig) -> Client {
    let client = Client::default().with_url(config.url.as_str()).with_user(config.user.as_str()).with_validation(false);
    if config.password.is_empty() {
        client
    } else {
        client.with_password(config.password.expose())
    }
}
