//! The client, built from `MongoConfig` field by field (no URI: the password never sits in a
//! string), and the classification of the driver's errors into messages that name the fix.

use std::time::Duration;

use mongodb::bson::{doc, Document};
use mongodb::error::{ErrorKind, WriteFailure};
use mongodb::options::{ClientOptions, Credential, ServerAddress};
use mongodb::{Client, Database};

use super::MongoError;
use crate::config::MongoConfig;

/// MongoDB's code for refused credentials (a server without authentication, such as the local
/// stack's SecantusDB, answers it to any login).
const AUTHENTICATION_FAILED: i32 = 18;

pub struct Connection {
    config: MongoConfig,
    server: String,
    /// Built without connecting; the driver connects on the first request.
    client: Result<Client, String>,
}

/// How a migration command ended when it did not succeed.
pub enum Refusal {
    /// The server answered that it did not run it (or it was never sent).
    Refused(String),
    /// No answer: it may have run.
    Lost(String),
}

impl Connection {
    pub fn new(config: &MongoConfig) -> Connection {
        let server = config.describe();
        Connection {
            config: config.clone(),
            client: client(config).map_err(|error| config.mask(&error.to_string())),
            server,
        }
    }

    pub fn server(&self) -> &str {
        &self.server
    }

    pub fn config(&self) -> &MongoConfig {
        &self.config
    }

    fn client(&self) -> Result<&Client, MongoError> {
        self.client
            .as_ref()
            .map_err(|reason| MongoError::Unreachable { server: self.server.clone(), reason: reason.clone() })
    }

    /// The configured database.
    pub fn database(&self) -> Result<Database, MongoError> {
        Ok(self.client()?.database(&self.config.database))
    }

    pub fn database_named(&self, name: &str) -> Result<Database, MongoError> {
        Ok(self.client()?.database(name))
    }

    /// One `ping`, bounded by `--io-timeout`.
    pub async fn health_check(&self) -> Result<(), MongoError> {
        let database = self.database()?;
        self.bounded("reach the server", database.run_command(doc! { "ping": 1 })).await.map(drop)
    }

    /// `request`, failing after `--io-timeout` without an answer: the migrator's own small
    /// requests (history, catalog reads) are never slow on a healthy server.
    pub async fn bounded<T>(
        &self,
        action: &str,
        request: impl std::future::IntoFuture<Output = Result<T, mongodb::error::Error>>,
    ) -> Result<T, MongoError> {
        let timeout = self.config.bounds.io_timeout;
        match tokio::time::timeout(timeout, request.into_future()).await {
            Ok(result) => result.map_err(|error| self.error(action, &error)),
            Err(_) => Err(MongoError::Request {
                server: self.server.clone(),
                action: action.to_owned(),
                reason: format!("no answer within {} (`--io-timeout`)", humantime::format_duration(timeout)),
            }),
        }
    }

    /// Runs one migration command on `database` and reads the reply: data commands report
    /// refused documents as `writeErrors` in a successful reply, which count as a refusal.
    pub async fn run_command(&self, database: &str, command: Document) -> Result<(), Refusal> {
        let database = self.database_named(database).map_err(|error| Refusal::Refused(error.to_string()))?;
        match database.run_command(command).await {
            Ok(reply) => match write_errors(&reply) {
                Some(reason) => Err(Refusal::Refused(self.config.mask(&reason))),
                None => Ok(()),
            },
            Err(error) => {
                let reason = self.config.mask(&reason(&error));
                match error.kind.as_ref() {
                    // Sent and answered, or never sent (no server, refused login).
                    ErrorKind::Command(_)
                    | ErrorKind::Write(_)
                    | ErrorKind::Authentication { .. }
                    | ErrorKind::ServerSelection { .. }
                    | ErrorKind::InvalidArgument { .. } => Err(Refusal::Refused(reason)),
                    _ => Err(Refusal::Lost(reason)),
                }
            }
        }
    }

    /// The driver's error as this target's: unreachable, refused credentials, or a failed request.
    pub fn error(&self, action: &str, error: &mongodb::error::Error) -> MongoError {
        let reason = self.config.mask(&reason(error));
        let server = self.server.clone();
        match error.kind.as_ref() {
            ErrorKind::Authentication { .. } => MongoError::Authentication { server, reason },
            ErrorKind::Command(command) if command.code == AUTHENTICATION_FAILED => {
                MongoError::Authentication { server, reason }
            }
            ErrorKind::ServerSelection { message, .. } if message.contains("uthentication") => {
                MongoError::Authentication { server, reason }
            }
            ErrorKind::ServerSelection { .. }
            | ErrorKind::Io(_)
            | ErrorKind::ConnectionPoolCleared { .. }
            | ErrorKind::DnsResolve { .. } => MongoError::Unreachable { server, reason },
            _ => MongoError::Request { server, action: action.to_owned(), reason },
        }
    }
}

fn client(config: &MongoConfig) -> Result<Client, mongodb::error::Error> {
    let credential = config.user.as_ref().map(|user| {
        Credential::builder()
            .username(user.clone())
            .password(config.password.expose().to_owned())
            .source("admin".to_owned())
            .build()
    });
    let io_timeout: Duration = config.bounds.io_timeout;
    let options = ClientOptions::builder()
        .hosts(vec![ServerAddress::Tcp { host: config.host.clone(), port: Some(config.port) }])
        .credential(credential)
        // The server it is pointed at, not the members a replica set advertises (their names
        // may not resolve from where the migrator runs).
        .direct_connection(true)
        .app_name("tradeforge-migrator".to_owned())
        .connect_timeout(io_timeout)
        .server_selection_timeout(io_timeout)
        .build();
    Client::with_options(options)
}

/// `message (CodeName 123)` for a server's refusal, the driver's text otherwise.
fn reason(error: &mongodb::error::Error) -> String {
    match error.kind.as_ref() {
        ErrorKind::Command(command) => format!("{} ({} {})", command.message, command.code_name, command.code),
        ErrorKind::Write(WriteFailure::WriteError(write)) => {
            format!("{} ({} {})", write.message, write.code_name.as_deref().unwrap_or("error"), write.code)
        }
        _ => error.kind.to_string().replace('\n', " "),
    }
}

/// The first `writeErrors` entry (or the `writeConcernError`) of a reply, as text.
fn write_errors(reply: &Document) -> Option<String> {
    let describe = |error: &Document| {
        format!(
            "{} (code {})",
            error.get_str("errmsg").unwrap_or("refused"),
            error.get("code").map(ToString::to_string).unwrap_or_default()
        )
    };
    if let Ok(errors) = reply.get_array("writeErrors") {
        let first = errors.first().and_then(|error| error.as_document()).map(describe);
        return Some(format!("{} documents refused; the first: {}", errors.len(), first.unwrap_or_default()));
    }
    reply.get_document("writeConcernError").ok().map(|error| format!("write concern not met: {}", describe(error)))
}
