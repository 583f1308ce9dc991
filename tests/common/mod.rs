//! Helpers shared by the integration tests: each test gets its own fresh database and topic
//! names on the local stack (`scripts/stack up`), so tests run in parallel.
#![allow(dead_code)] // Each test binary uses only some of the helpers.

pub mod clickhouse;
pub mod cluster;
pub mod kafka;
pub mod postgres;
pub mod private_postgres;
pub mod proxy;
