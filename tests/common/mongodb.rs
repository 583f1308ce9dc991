//! A fresh MongoDB database name per test on the stack's SecantusDB (`MONGO_HOST`/`MONGO_PORT`
//! from `eval "$(scripts/stack env)"`): the config names it, the first write creates it, and it
//! is dropped when the test ends.

use std::time::Duration;

use tradeforge_migrator::config::{Bounds, MongoConfig, Secret};
use tradeforge_migrator::targets::mongodb::driver::bson::{doc, Document};
use tradeforge_migrator::targets::mongodb::driver::options::{ClientOptions, ServerAddress};
use tradeforge_migrator::targets::mongodb::driver::{Client, Database};

pub fn host() -> String {
    std::env::var("MONGO_HOST").unwrap_or_else(|_| "127.0.0.1".to_owned())
}

pub fn port() -> u16 {
    std::env::var("MONGO_PORT").ok().and_then(|port| port.parse().ok()).unwrap_or(57017)
}

fn options(host: String, port: u16) -> ClientOptions {
    ClientOptions::builder().hosts(vec![ServerAddress::Tcp { host, port: Some(port) }]).direct_connection(true).build()
}

/// One database `tfm_test_<random>` that does not exist yet, dropped on drop.
pub struct TestDatabase {
    pub config: MongoConfig,
    /// The test's own handle on that database, to check what the server holds and to make
    /// changes "by hand".
    pub database: Database,
}

impl TestDatabase {
    pub fn new() -> TestDatabase {
        let config = MongoConfig {
            host: host(),
            port: port(),
            user: None,
            password: Secret::default(),
            database: super::unique_name("tfm_test"),
            bounds: Bounds::default(),
            lock_timeout: Duration::from_secs(60),
        };
        let client = Client::with_options(options(config.host.clone(), config.port)).expect("client options");
        let database = client.database(&config.database);
        TestDatabase { config, database }
    }

    pub fn name(&self) -> &str {
        &self.config.database
    }

    /// The collections, `migrations` included, sorted.
    pub async fn collections(&self) -> Vec<String> {
        let mut names = self.database.list_collection_names().await.expect("list collections");
        names.sort();
        names
    }

    /// The index names of `collection`, sorted.
    pub async fn indexes(&self, collection: &str) -> Vec<String> {
        let mut names =
            self.database.collection::<Document>(collection).list_index_names().await.expect("list indexes");
        names.sort();
        names
    }

    /// The version documents of `migrations` (the lock and `started` left out), by version.
    pub async fn history(&self) -> Vec<Document> {
        let mut cursor = self
            .database
            .collection::<Document>("migrations")
            .find(doc! { "_id": { "$nin": ["lock", "started"] } })
            .sort(doc! { "_id": 1 })
            .await
            .expect("read migrations");
        let mut documents = Vec::new();
        while cursor.advance().await.expect("read migrations") {
            documents.push(cursor.deserialize_current().expect("a document"));
        }
        documents
    }

    /// Runs a command by hand.
    pub async fn run(&self, command: Document) -> Result<Document, String> {
        self.database.run_command(command).await.map_err(|error| error.to_string())
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let (host, port, name) = (self.config.host.clone(), self.config.port, self.config.database.clone());
        // The drop needs a runtime of its own, and a client of that runtime: the test's runtime,
        // whose tasks serve `self.database`, may be shutting down.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            runtime.block_on(async {
                let client = Client::with_options(options(host, port)).expect("client options");
                let _ = tokio::time::timeout(Duration::from_secs(10), client.database(&name).drop()).await;
            });
        })
        .join();
    }
}
