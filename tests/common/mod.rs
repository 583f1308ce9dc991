//! Helpers shared by the integration tests: each test gets its own fresh database and topic
//! names on the local stack (`scripts/stack up`), so tests run in parallel.
#![allow(dead_code)] // Each test binary uses only some of the helpers.

pub mod binary;
pub mod clickhouse;
pub mod cluster;
pub mod kafka;
pub mod plan;
pub mod postgres;
pub mod private_postgres;
pub mod proxy;

/// A loopback port nothing listens on (free when this returns; a test that needs it closed
/// must not start anything on it).
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    listener.local_addr().expect("local address").port()
}
