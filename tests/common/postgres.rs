//! A fresh PostgreSQL database per test on the stack's server, made through
//! `TFM_STACK_ADMIN_DATABASE_URL` (`eval "$(scripts/stack env)"`) and dropped when the test ends.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use sqlx::{Connection, PgConnection};
use tradeforge_migrator::config::{Bounds, PostgresConfig, Secret};

const ADMIN_URL_VARIABLE: &str = "TFM_STACK_ADMIN_DATABASE_URL";

/// One database `tfm_test_<pid>_<counter>_<time>`, dropped (with its connections) on drop.
pub struct TestDatabase {
    pub name: String,
    admin_url: url::Url,
}

impl TestDatabase {
    pub async fn new() -> TestDatabase {
        let admin_url = admin_url();
        let name = unique_name();
        let mut admin = PgConnection::connect(admin_url.as_str()).await.expect("connect to the stack's admin database");
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .expect("create the test database");
        let _ = admin.close().await;
        TestDatabase { name, admin_url }
    }

    /// The migrator's configuration for this database, as `DATABASE_URL` would give it.
    pub fn config(&self) -> PostgresConfig {
        PostgresConfig {
            host: self.admin_url.host_str().unwrap_or("127.0.0.1").to_owned(),
            port: self.admin_url.port().unwrap_or(5432),
            database: self.name.clone(),
            user: self.admin_url.username().to_owned(),
            password: Secret::new(self.admin_url.password().unwrap_or_default()),
            params: vec![("application_name".to_owned(), "tfm-tests".to_owned())],
            bounds: Bounds::default(),
        }
    }

    /// A connection of the test's own, to check what the server holds.
    pub async fn connect(&self) -> PgConnection {
        let mut url = self.admin_url.clone();
        url.set_path(&self.name);
        PgConnection::connect(url.as_str()).await.expect("connect to the test database")
    }
}

/// The versions `migration_history` records, ascending.
pub async fn history_versions(connection: &mut PgConnection) -> Vec<i64> {
    sqlx::query_scalar("SELECT version FROM migration_history ORDER BY version")
        .fetch_all(connection)
        .await
        .expect("read migration_history")
}

impl Drop for TestDatabase {
    /// Drops the database on a thread of its own: `Drop` cannot await, and the test's runtime
    /// may be shutting down. A database left behind (the server was gone) only costs disk.
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            runtime.block_on(async {
                let mut admin = PgConnection::connect(admin_url.as_str()).await?;
                let drop = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                sqlx::raw_sql(sqlx::AssertSqlSafe(drop)).execute(&mut admin).await?;
                admin.close().await?;
                Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
            })
        })
        .join();
        if let Ok(Err(error)) = dropped {
            eprintln!("could not drop test database {}: {error}", self.name);
        }
    }
}

fn admin_url() -> url::Url {
    let value = std::env::var(ADMIN_URL_VARIABLE).unwrap_or_else(|_| {
        panic!("{ADMIN_URL_VARIABLE} is not set; run `scripts/stack up && eval \"$(scripts/stack env)\"` first")
    });
    url::Url::parse(&value).unwrap_or_else(|error| panic!("{ADMIN_URL_VARIABLE} is not a URL: {error}"))
}

fn unique_name() -> String {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let counter = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |elapsed| elapsed.subsec_nanos());
    format!("tfm_test_{}_{counter}_{nanos}", std::process::id())
}

/// `postgres://user:password@host:port/database` for `config`: what the binary under test gets
/// as `DATABASE_URL`.
pub fn database_url(config: &PostgresConfig) -> String {
    let mut url = url::Url::parse("postgres://localhost").expect("static URL");
    url.set_host(Some(&config.host)).expect("host");
    url.set_port(Some(config.port)).expect("port");
    url.set_username(&config.user).expect("user");
    url.set_password(Some(config.password.expose())).expect("password");
    url.set_path(&config.database);
    url.into()
}
