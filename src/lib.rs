//! Trade Forge Migrator: applies the plan compiled from `migrations/`, `kafka_topics.yml` and
//! `indicators/` to PostgreSQL, ClickHouse, Kafka and the indicator catalogue.

// The generated plan names its types `::tradeforge_migrator::plan::…`, which must also resolve
// inside this crate.
extern crate self as tradeforge_migrator;

pub mod cli;
pub mod commands;
pub mod compiled;
pub mod config;
pub mod logging;
pub mod plan;
pub mod run;
pub mod target;

pub use compiled::{indicators, topics, PLAN};
/// `plan!()` compiles a sources folder into a typed plan; `#[data_migration]` marks a PostgreSQL
/// data migration written in Rust. See `tradeforge_migrator_macros`.
pub use tradeforge_migrator_macros::{data_migration, plan};
