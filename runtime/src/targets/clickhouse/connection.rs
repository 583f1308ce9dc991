//! The HTTP clients of one ClickHouse server, and how the server's errors read in our messages.

use std::sync::Arc;
use std::time::Duration;

use clickhouse::error::Error as ClientError;
use clickhouse::sql::Identifier;
use clickhouse::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::rt::TokioExecutor;

use super::read_timeout::ReadTimeoutConnector;
use super::ClickHouseError;
use crate::config::{Bounds, ClickHouseConfig, ClusterConfig};
use crate::targets::human_duration;

/// TIMEOUT_EXCEEDED from `distributed_ddl_task_timeout`: an `ON CLUSTER` statement was queued on
/// every host and some have not finished it yet.
pub(super) const DDL_TIMEOUT: u32 = 159;

/// The codes ClickHouse answers a bad user or password with: UNKNOWN_USER, WRONG_PASSWORD and
/// REQUIRED_PASSWORD (18.x), AUTHENTICATION_FAILED (19.x and later).
const AUTHENTICATION_CODES: [u32; 4] = [192, 193, 194, 516];

/// `server_client` and `client` share one connection pool whose reads are bounded by
/// `--io-timeout`; migration statements have a pool of their own without that bound (see
/// [`Connection::execute`]). None talks to the server until it is used.
pub(super) struct Connection {
    /// `http://user@host:port/database`, for messages.
    server: String,
    user: String,
    password: crate::config::Secret,
    database: String,
    bounds: Bounds,
    /// Without a database: the health check, `CREATE DATABASE` and `system.*` queries must work
    /// before the configured database exists.
    server_client: Client,
    /// In the configured database: `migration_history` and the other short requests.
    client: Client,
    /// In the configured database, reads unbounded: migration statements.
    statement_client: Client,
    /// The cluster the database lives on, if any (see `clickhouse/cluster.rs`).
    cluster: Option<ClusterConfig>,
    /// How many replicas must confirm each history insert on a cluster (`insert_quorum`): the
    /// replicas that answered before the run (`replicas::check`); 0 on a single server.
    quorum: u64,
}

impl Connection {
    pub(super) fn new(config: &ClickHouseConfig) -> Self {
        let mut server_client = logged_in(http_client(Some(config.bounds.io_timeout)), config);
        let mut statement_client = logged_in(http_client(None), config);
        if config.cluster.is_some() {
            // An `ON CLUSTER` statement streams one row per host as each finishes; an error
            // raised after the first rows (Code 159 when some host lags) would come after the
            // HTTP 200 and read as success. The server buffers the whole answer instead, so
            // the error is the answer's status.
            server_client = server_client.with_setting("wait_end_of_query", "1");
            statement_client = statement_client.with_setting("wait_end_of_query", "1");
        }
        let client = server_client.clone().with_database(config.database.as_str());
        let mut statement_client = statement_client.with_database(config.database.as_str());
        if let Some(timeout) = config.bounds.statement_timeout {
            // Whole seconds, the setting's unit; at least one, since 0 means no limit.
            statement_client =
                statement_client.with_setting("max_execution_time", timeout.as_secs().max(1).to_string());
        }
        Connection {
            server: config.describe(),
            user: config.user.clone(),
            password: config.password.clone(),
            database: config.database.clone(),
            bounds: config.bounds,
            server_client,
            client,
            statement_client,
            cluster: config.cluster.clone(),
            quorum: 0,
        }
    }

    /// The cluster's name, or `None` on a single server.
    pub(super) fn cluster(&self) -> Option<&str> {
        self.cluster.as_ref().map(|cluster| cluster.name.as_str())
    }

    pub(super) fn cluster_config(&self) -> Option<&ClusterConfig> {
        self.cluster.as_ref()
    }

    pub(super) fn set_quorum(&mut self, quorum: u64) {
        self.quorum = quorum;
    }

    /// `result` of the migrator's own `ON CLUSTER` DDL (the database, `migration_history`), with
    /// a Code 159 (some host did not finish within `distributed_ddl_task_timeout`) taken as done
    /// when `--allow-lagging-replicas` let the run go on without some hosts: the live hosts ran
    /// it, and the others run it from the queue when they are back.
    pub(super) fn lagging_allowed(&self, result: Result<(), ClientError>, what: &str) -> Result<(), ClientError> {
        match result {
            Err(error)
                if error_code(&error) == Some(DDL_TIMEOUT)
                    && self.cluster.as_ref().is_some_and(|cluster| cluster.allow_lagging_replicas) =>
            {
                tracing::warn!(
                    event = "clickhouse_migrator.ddl_queued",
                    target = "clickhouse",
                    "{what}: queued for the hosts that lag (--allow-lagging-replicas): {}",
                    describe_error(&error)
                );
                Ok(())
            }
            other => other,
        }
    }

    /// `statement` as this server runs it: `{cluster}` filled in on a cluster, the clause and
    /// Replicated engines made single-server otherwise (`clickhouse/cluster.rs`).
    pub(super) fn render<'a>(&self, statement: &'a str) -> std::borrow::Cow<'a, str> {
        super::cluster::render(statement, self.cluster())
    }

    /// The client for `migration_history`. On a cluster its inserts wait until `quorum`
    /// replicas have the row (`insert_quorum`, bounded by `--io-timeout`), and its reads see
    /// every quorum-written row or fail (`select_sequential_consistency`), so a run through any
    /// node reads the history the last run wrote through another, never an older one.
    pub(super) fn history_client(&self) -> Client {
        if self.cluster.is_none() {
            return self.client.clone();
        }
        let client = self.client.clone().with_setting("select_sequential_consistency", "1");
        if self.quorum < 2 {
            // One replica (or a run that let the others lag): a quorum of one is what any insert
            // gets; asked anyway, so that the sequential reads of later runs see it.
            return client.with_setting("insert_quorum", "1");
        }
        let timeout_ms = u64::try_from(self.bounds.io_timeout.as_millis()).unwrap_or(u64::MAX).max(1);
        client
            .with_setting("insert_quorum", self.quorum.to_string())
            .with_setting("insert_quorum_timeout", timeout_ms.to_string())
    }

    pub(super) fn server(&self) -> &str {
        &self.server
    }

    pub(super) fn user(&self) -> &str {
        &self.user
    }

    /// For `remote()`'s arguments only (`clickhouse/replicas.rs`).
    pub(super) fn password(&self) -> &str {
        self.password.expose()
    }

    pub(super) fn database(&self) -> &str {
        &self.database
    }

    pub(super) fn server_client(&self) -> &Client {
        &self.server_client
    }

    pub(super) fn client(&self) -> &Client {
        &self.client
    }

    /// `SELECT 1` without the database, which `apply` creates if it is missing.
    pub(super) async fn health_check(&self) -> Result<(), ClickHouseError> {
        self.server_client.query("SELECT 1").execute().await.map_err(|error| self.error("run `SELECT 1`", &error))
    }

    /// Creates the configured database unless it exists. Looking first means a user allowed
    /// to use an existing database, but not to create databases, can still migrate it.
    /// `CREATE DATABASE IF NOT EXISTS`, once a read has found the database missing.
    /// On a cluster, `ON CLUSTER`: every replica gets it.
    pub(super) async fn create_database(&self) -> Result<(), ClickHouseError> {
        let query = match self.cluster() {
            Some(cluster) => self
                .server_client
                .query("CREATE DATABASE IF NOT EXISTS ? ON CLUSTER ?")
                .bind(Identifier(&self.database))
                .bind(cluster),
            None => self.server_client.query("CREATE DATABASE IF NOT EXISTS ?").bind(Identifier(&self.database)),
        };
        let created = self.lagging_allowed(query.execute().await, "create the database");
        created.map_err(|error| self.error(&format!("create database `{}`", self.database), &error))
    }

    /// Runs one migration statement. It may rightly run silent for long, so instead of a read
    /// bound it is watched: every `--io-timeout` a short request asks `system.processes` whether
    /// the server still runs it (by its `query_id`). The server not answering that, or no longer
    /// running the statement twice in a row while its answer has not come, is a stalled
    /// connection, and ends the statement with an error naming the bound.
    ///
    /// The statement is rendered for this server first ([`Connection::render`]).
    pub(super) async fn execute(&self, statement: &str) -> Result<(), ClientError> {
        let statement = self.render(statement);
        let query_id = next_query_id();
        let running = self.statement_client.query_raw(&statement).with_setting("query_id", query_id.as_str()).execute();
        tokio::select! {
            result = running => result,
            reason = self.watch(&query_id) => Err(ClientError::Other(reason.into())),
        }
    }

    /// Returns only when the statement `query_id` is stalled, saying why.
    async fn watch(&self, query_id: &str) -> String {
        let io_timeout = self.bounds.io_timeout;
        let started = std::time::Instant::now();
        let mut missing = 0;
        let mut said_running = false;
        loop {
            tokio::time::sleep(io_timeout).await;
            let look = self
                .server_client
                .query("SELECT toUInt64(count()) FROM system.processes WHERE query_id = ?")
                .bind(query_id)
                .fetch_one::<u64>()
                .await;
            match look {
                Err(error) => {
                    return format!(
                        "no answer within {}, and asking the server whether it still runs the statement failed \
                         too ({})",
                        human_duration(started.elapsed()),
                        describe_error(&error)
                    )
                }
                Ok(0) => missing += 1,
                Ok(_) => missing = 0,
            }
            if missing >= 2 {
                return format!(
                    "the server finished the statement, but its answer did not arrive within {} (--io-timeout, \
                     MIGRATOR_IO_TIMEOUT): the connection stalled",
                    human_duration(io_timeout * 2)
                );
            }
            if missing == 0 && !said_running {
                said_running = true;
                tracing::info!(
                    event = "clickhouse_migrator.statement_running",
                    target = "clickhouse",
                    query_id,
                    "a statement is still running on {} after {}; {}",
                    self.server,
                    human_duration(started.elapsed()),
                    match self.bounds.statement_timeout {
                        Some(timeout) => format!("it may run {} (--statement-timeout)", human_duration(timeout)),
                        None => "no statement timeout is set (--statement-timeout)".to_owned(),
                    }
                );
            }
        }
    }

    /// The typed error for a failed `action`: an unreachable server and refused credentials
    /// get their own messages, because their fix is in the configuration, not in ClickHouse.
    pub(super) fn error(&self, action: &str, error: &ClientError) -> ClickHouseError {
        let reason = describe_error(error);
        if matches!(error, ClientError::Network(_) | ClientError::TimedOut) {
            return ClickHouseError::Unreachable { server: self.server.clone(), reason };
        }
        if error_code(error).is_some_and(|code| AUTHENTICATION_CODES.contains(&code)) {
            return ClickHouseError::Authentication { server: self.server.clone(), user: self.user.clone(), reason };
        }
        ClickHouseError::Query { server: self.server.clone(), action: action.to_owned(), reason }
    }
}

/// One line saying what went wrong: ClickHouse's own exception text, or the chain of causes
/// of a network error (`tcp connect error: Connection refused (os error 111)`).
/// How long an idle connection stays in the pool: below ClickHouse's keep-alive timeout (3 s by
/// default), as the crate's own client does.
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(2);
/// A dead peer is noticed by the kernel after this long idle plus its probes.
const TCP_KEEPALIVE: Duration = Duration::from_secs(15);

/// `client` with the config's user and password.
fn logged_in(client: Client, config: &ClickHouseConfig) -> Client {
    let client = client
        .with_url(config.url.as_str())
        .with_user(config.user.as_str())
        .with_product_info("tradeforge-migrator", env!("CARGO_PKG_VERSION"))
        // Validation reads and writes RowBinaryWithNamesAndTypes, which older servers (the
        // stack's 18.16 among them) do not know; plain RowBinary works on every release.
        // The history row types are checked against the real table by the integration tests.
        .with_validation(false);
    if config.password.is_empty() {
        client
    } else {
        client.with_password(config.password.expose())
    }
}

/// A `query_id` of this process, unique among the migrator's statements.
fn next_query_id() -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let number = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let started = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    format!("tradeforge-migrator-{}-{}-{number}", std::process::id(), started.as_millis())
}

/// A ClickHouse client over the HTTP stack the crate's default builds, plus TCP_NODELAY, and
/// with `read_timeout` on every read when given (see `clickhouse/read_timeout.rs`). Without
/// TCP_NODELAY a request whose body follows its headers in a second small write (every history
/// insert) waits for the server's delayed ACK of the first (Nagle's algorithm): about 40 ms a
/// time on Linux, which was most of a ClickHouse migration's time.
fn http_client(read_timeout: Option<Duration>) -> Client {
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    connector.set_keepalive(Some(TCP_KEEPALIVE));
    connector.enforce_http(false);
    let provider = || rustls::crypto::ring::default_provider();
    // `Err` only when the system has no root certificate at all: then an `https://` URL fails at
    // its first request with the TLS error in the message, and `http://` still works.
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_provider_and_native_roots(provider())
        .unwrap_or_else(|_| hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(without_roots(provider())));
    let connector = https.https_or_http().enable_http1().wrap_connector(connector);
    let builder = HyperClient::builder(TokioExecutor::new()).pool_idle_timeout(POOL_IDLE_TIMEOUT).clone();
    match read_timeout {
        Some(timeout) => Client::with_http_client(builder.build(ReadTimeoutConnector::new(connector, timeout))),
        None => Client::with_http_client(builder.build(connector)),
    }
}

fn without_roots(provider: rustls::crypto::CryptoProvider) -> rustls::ClientConfig {
    rustls::ClientConfig::builder_with_provider(Arc::new(provider))
        .with_safe_default_protocol_versions()
        // ring's provider supports every default protocol version.
        .expect("ring supports TLS 1.2 and 1.3")
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth()
}

pub(super) fn describe_error(error: &ClientError) -> String {
    match error {
        ClientError::BadResponse(text) => server_message(text),
        _ => crate::targets::error_chain(error),
    }
}

/// ClickHouse's exception code (`Code: 60`), when the server sent one.
pub(super) fn error_code(error: &ClientError) -> Option<u32> {
    let ClientError::BadResponse(text) = error else { return None };
    let digits = text.split_once("Code: ")?.1;
    let end = digits.find(|character: char| !character.is_ascii_digit()).unwrap_or(digits.len());
    digits[..end].parse().ok()
}

/// The exception text on one line: without 18.x's `e.displayText() = ` and
/// `, e.what() = DB::Exception` wrapping, and without the stack trace newer servers may append.
fn server_message(text: &str) -> String {
    let text = text.split("Stack trace").next().unwrap_or(text);
    let text = text.replace("e.displayText() = ", "");
    let text = text.trim().trim_end_matches(", e.what() = DB::Exception");
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const WRONG_PASSWORD_18: &str =
        "Code: 193, e.displayText() = DB::Exception: Wrong password for user default, e.what() = DB::Exception";

    #[test]
    fn server_message_drops_the_18x_wrapping() {
        assert_eq!(server_message(WRONG_PASSWORD_18), "Code: 193, DB::Exception: Wrong password for user default");
    }

    #[test]
    fn server_message_keeps_one_line_without_the_stack_trace() {
        let text = "Code: 60. DB::Exception: Table db.a does not exist. (UNKNOWN_TABLE)\nStack trace:\n0. foo";
        assert_eq!(server_message(text), "Code: 60. DB::Exception: Table db.a does not exist. (UNKNOWN_TABLE)");
    }

    #[test]
    fn error_code_reads_old_and_new_formats() {
        assert_eq!(error_code(&ClientError::BadResponse(WRONG_PASSWORD_18.to_owned())), Some(193));
        let new = "Code: 516. DB::Exception: default: Authentication failed. (AUTHENTICATION_FAILED)";
        assert_eq!(error_code(&ClientError::BadResponse(new.to_owned())), Some(516));
        assert_eq!(error_code(&ClientError::BadResponse("502 Bad Gateway".to_owned())), None);
    }

    #[test]
    fn refused_credentials_point_at_the_user_and_password_settings() {
        let config = ClickHouseConfig {
            url: "http://ch:8123".to_owned(),
            user: "deploy".to_owned(),
            password: crate::config::Secret::new("hunter2"),
            database: "analytics".to_owned(),
            bounds: crate::config::Bounds::default(),
            cluster: None,
        };
        let connection = Connection::new(&config);
        let error = connection.error("run `SELECT 1`", &ClientError::BadResponse(WRONG_PASSWORD_18.to_owned()));
        let message = error.to_string();
        assert!(matches!(error, ClickHouseError::Authentication { .. }), "{message}");
        assert!(message.contains("`http://deploy@ch:8123/analytics`"), "{message}");
        assert!(message.contains("CLICKHOUSE_PASSWORD"), "{message}");
        assert!(!message.contains("hunter2"), "{message}");
    }
}
