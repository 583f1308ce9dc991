//! The local stack the kit measures against (`scripts/stack env`): fresh PostgreSQL and
//! ClickHouse databases for each measurement, the environment that points a migrator at them,
//! and clean-up of what the kit created (databases `bench_<run>_*`, topics `bench.<run>.*`).

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use sqlx::{Connection, Executor, PgConnection};

const SETUP: &str = "run the kit through `scripts/bench`, which starts the stack and sets the variables";

pub struct Stack {
    /// `bench_<hex>`: unique to this kit run; prefixes every database the kit creates.
    pub run: String,
    /// A superuser URL of the `postgres` database (`TFM_STACK_ADMIN_DATABASE_URL`).
    pub admin_url: String,
    /// `host:port` of PostgreSQL, ClickHouse HTTP and Kafka.
    pub postgres_address: String,
    pub clickhouse_address: String,
    pub kafka_address: String,
    /// `host:port` of the second Kafka broker (noida-db), where the Kafka figures are repeated.
    pub kafka2_address: String,
    pub clickhouse_url: String,
    postgres_databases: Mutex<Vec<String>>,
    clickhouse_databases: Mutex<Vec<String>>,
    counter: Mutex<usize>,
}

/// A PostgreSQL database made for one measurement.
pub struct Database {
    pub name: String,
    /// A URL of it through `address`.
    pub url: String,
}

impl Stack {
    pub fn from_env() -> Stack {
        let variable = |name: &str| std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set; {SETUP}"));
        let admin_url = variable("TFM_STACK_ADMIN_DATABASE_URL");
        let clickhouse_url = variable("CLICKHOUSE_URL");
        let kafka_address = variable("KAFKA_BOOTSTRAP_SERVERS");
        let kafka2_address = variable("TFM_STACK_KAFKA2_BOOTSTRAP_SERVERS");
        let postgres_address = address_of(&admin_url);
        let clickhouse_address = address_of(&clickhouse_url);
        Stack {
            run: run_id(),
            admin_url,
            postgres_address,
            clickhouse_address,
            kafka_address,
            kafka2_address,
            clickhouse_url,
            postgres_databases: Mutex::new(Vec::new()),
            clickhouse_databases: Mutex::new(Vec::new()),
            counter: Mutex::new(0),
        }
    }

    /// The prefix of every topic of this run's corpus.
    pub fn topic_prefix(&self) -> String {
        format!("{}.", self.run.replace('_', "."))
    }

    /// `bench_<run>_<label>_<n>`, never used before in this run.
    pub fn unique_name(&self, label: &str) -> String {
        let mut counter = self.counter.lock().expect("counter lock");
        *counter += 1;
        format!("{}_{label}_{}", self.run, *counter)
    }

    /// Creates an empty PostgreSQL database, dropped again by [`Stack::clean_up`].
    pub async fn fresh_postgres(&self, label: &str) -> Database {
        let name = self.unique_name(label);
        let mut admin = PgConnection::connect(&self.admin_url).await.expect("connect to the stack's PostgreSQL");
        admin.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).await.expect("CREATE DATABASE");
        let _ = admin.close().await;
        self.postgres_databases.lock().expect("databases lock").push(name.clone());
        let url = self.postgres_url(&name, &self.postgres_address);
        Database { name, url }
    }

    /// The URL of database `name` through `address` (a proxy's, or the server's own).
    pub fn postgres_url(&self, name: &str, address: &str) -> String {
        let mut url = url::Url::parse(&self.admin_url).expect("TFM_STACK_ADMIN_DATABASE_URL is a URL");
        let (host, port) = address.rsplit_once(':').expect("an address is host:port");
        url.set_host(Some(host)).expect("a host");
        url.set_port(port.parse().ok()).expect("a port");
        url.set_path(name);
        url.to_string()
    }

    /// A name for a ClickHouse database that does not exist yet (the migrator creates its own);
    /// dropped by [`Stack::clean_up`].
    pub fn fresh_clickhouse(&self, label: &str) -> String {
        let name = self.unique_name(label);
        self.clickhouse_databases.lock().expect("databases lock").push(name.clone());
        name
    }

    /// Runs SQL on PostgreSQL database `database` as the superuser.
    pub async fn postgres_execute(&self, database: &str, sql: &str) {
        let url = self.postgres_url(database, &self.postgres_address);
        let mut connection = PgConnection::connect(&url).await.expect("connect to a bench database");
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned())).execute(&mut connection).await.expect("bench setup SQL");
        let _ = connection.close().await;
    }

    /// Environment variables that point a migrator (or the floor) at these databases through
    /// these addresses.
    pub fn env(&self, servers: &ServerAddresses, postgres: &str, clickhouse: &str) -> Vec<(String, String)> {
        vec![
            ("DATABASE_URL".into(), self.postgres_url(postgres, &servers.postgres)),
            ("CLICKHOUSE_URL".into(), format!("http://{}", servers.clickhouse)),
            ("CLICKHOUSE_DB".into(), clickhouse.into()),
            ("KAFKA_BOOTSTRAP_SERVERS".into(), servers.kafka.clone()),
        ]
    }

    /// The servers' own addresses, without proxies.
    pub fn direct(&self) -> ServerAddresses {
        ServerAddresses {
            postgres: self.postgres_address.clone(),
            clickhouse: self.clickhouse_address.clone(),
            kafka: self.kafka_address.clone(),
        }
    }

    /// Deletes `topics` (those that exist) on both brokers.
    pub async fn delete_topics(&self, topics: &[String]) {
        self.delete_topics_at(&self.kafka_address, topics).await;
        self.delete_topics_at(&self.kafka2_address, topics).await;
    }

    /// Deletes `topics` (those that exist) on the broker at `address` with one DeleteTopics
    /// request and waits until the broker no longer lists them, so the next "from nothing" run
    /// really starts from nothing.
    pub async fn delete_topics_at(&self, address: &str, topics: &[String]) {
        let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
            .set("bootstrap.servers", address)
            .set("allow.auto.create.topics", "false")
            .create()
            .expect("an admin client of the stack's broker");
        for _ in 0..100 {
            let metadata = admin.inner().fetch_metadata(None, Duration::from_secs(10)).expect("broker metadata");
            let existing: Vec<&str> = metadata
                .topics()
                .iter()
                .map(|topic| topic.name())
                .filter(|name| topics.iter().any(|topic| topic == name))
                .collect();
            if existing.is_empty() {
                return;
            }
            let _ = admin.delete_topics(&existing, &AdminOptions::new()).await;
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!("the broker still lists topics of this run after deleting them; check `scripts/stack logs`");
    }

    /// Drops every database this run created.
    pub async fn clean_up(&self) {
        let postgres: Vec<String> = std::mem::take(&mut *self.postgres_databases.lock().expect("databases lock"));
        if let Ok(mut admin) = PgConnection::connect(&self.admin_url).await {
            for name in postgres {
                let _ =
                    admin.execute(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))).await;
            }
            let _ = admin.close().await;
        }
        let clickhouse: Vec<String> = std::mem::take(&mut *self.clickhouse_databases.lock().expect("databases lock"));
        let client = clickhouse::Client::default().with_url(&self.clickhouse_url).with_validation(false);
        for name in clickhouse {
            let _ = client.query(&format!("DROP DATABASE IF EXISTS {name}")).execute().await;
        }
    }

    /// `clickhouse-client` on the stack's native port, as the floor of ClickHouse's full apply.
    pub fn clickhouse_client(&self) -> Command {
        let port = std::env::var("TFM_STACK_CH_TCP_PORT").unwrap_or_else(|_| "59000".into());
        let (host, _) = self.clickhouse_address.rsplit_once(':').expect("host:port");
        let mut command = Command::new("clickhouse-client");
        command.args(["--host", host, "--port", &port, "--multiquery"]);
        command
    }
}

/// Where the migrator or the floor reaches each server: the servers themselves or proxies.
#[derive(Clone, Debug)]
pub struct ServerAddresses {
    pub postgres: String,
    pub clickhouse: String,
    pub kafka: String,
}

/// `bench_<6 random hex digits>`, or `bench_<TFM_BENCH_RUN_ID>`: a fixed id keeps the topic names
/// (compiled into the migrator) the same between kit runs, so a rerun does not rebuild the
/// migrator; two kits running at once need different ids.
fn run_id() -> String {
    match std::env::var("TFM_BENCH_RUN_ID") {
        Ok(id) if !id.is_empty() && id.bytes().all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit()) => {
            format!("bench_{id}")
        }
        Ok(id) => panic!("TFM_BENCH_RUN_ID=`{id}`: use lowercase letters and digits only"),
        Err(_) => format!("bench_{:06x}", RandomState::new().build_hasher().finish() & 0xff_ffff),
    }
}

/// `host:port` of a URL (`postgres://u:p@127.0.0.1:55432/db`, `http://127.0.0.1:58123`).
fn address_of(url: &str) -> String {
    let parsed = url::Url::parse(url).unwrap_or_else(|_| panic!("`{url}` is not a URL; {SETUP}"));
    let host = parsed.host_str().unwrap_or("127.0.0.1");
    let host = if host == "localhost" { "127.0.0.1" } else { host };
    format!("{host}:{}", parsed.port_or_known_default().unwrap_or(0))
}
