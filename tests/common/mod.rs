//! Helpers shared by the integration tests: each test gets its own fresh database and topic
//! names on the local stack (`scripts/stack up`), so tests run in parallel.
#![allow(dead_code)] // Each test binary uses only some of the helpers.

pub mod binary;
pub mod clickhouse;
pub mod cluster;
pub mod kafka;
pub mod mongodb;
pub mod plan;
pub mod postgres;
pub mod private_postgres;
pub mod proxy;

/// `<prefix>_<16 hex digits>`: a database name no other test (or test process) uses, a valid bare
/// identifier on PostgreSQL and ClickHouse.
pub fn unique_name(prefix: &str) -> String {
    use std::hash::{BuildHasher, Hasher};
    static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u32(std::process::id());
    hasher.write_usize(COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_nanos());
    hasher.write_u128(nanos);
    format!("{prefix}_{:016x}", hasher.finish())
}

/// A loopback port nothing listens on (free when this returns; a test that needs it closed
/// must not start anything on it).
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    listener.local_addr().expect("local address").port()
}

/// Ports that [`server_ports`] hands out: below Linux's ephemeral range (32768–60999), which the
/// kernel gives to outgoing connections. A port taken from that range and released can be handed
/// to a client socket before a server binds it, and the server then fails to start.
const SERVER_PORTS: std::ops::Range<u16> = 20000..32000;

/// `count` distinct loopback ports, free when this returns, for servers a test starts itself;
/// outside the ephemeral range (see [`SERVER_PORTS`]), from a random place in it, so test
/// processes running at once rarely try the same ones.
pub fn server_ports(count: usize) -> Vec<u16> {
    use std::hash::{BuildHasher, Hasher};
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u32(std::process::id());
    let span = u64::from(SERVER_PORTS.end - SERVER_PORTS.start);
    let mut offset = hasher.finish() % span;
    let mut ports = Vec::with_capacity(count);
    let mut held = Vec::with_capacity(count);
    for _ in 0..span {
        if ports.len() == count {
            break;
        }
        offset = (offset + 1 + u64::from(NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed))) % span;
        let port = SERVER_PORTS.start + u16::try_from(offset).expect("within the range");
        // Held until all are found, so that the ports differ.
        if let Ok(listener) = std::net::TcpListener::bind(("127.0.0.1", port)) {
            held.push(listener);
            ports.push(port);
        }
    }
    assert_eq!(ports.len(), count, "no {count} free loopback ports in {SERVER_PORTS:?}");
    ports
}
